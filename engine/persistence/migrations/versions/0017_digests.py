"""daily digests: who receives one (units.digest, people.digest) and whether per-task messages fold into it

``digest`` is ``daily`` or ``none`` (NULL on a person: as their unit says); ``people.notify`` is ``digest``
(per-task messages other than escalations are folded into the digest) or ``each``. Nullable columns with no
default: every existing person keeps receiving each message as before.

``notifications.attachment`` names what a channel that carries files attaches, rendered when the row is sent
(``notice:KEY``: the supervision notice's Word document, for the file and email channels).

Revision ID: 0017
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("units", sa.Column("digest", sa.String(10), nullable=True))
    op.add_column("people", sa.Column("digest", sa.String(10), nullable=True))
    op.add_column("people", sa.Column("notify", sa.String(10), nullable=True))
    op.add_column("notifications", sa.Column("attachment", sa.String(250), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of people would break the units' foreign keys.
    op.execute("ALTER TABLE notifications DROP COLUMN attachment")
    op.execute("ALTER TABLE people DROP COLUMN notify")
    op.execute("ALTER TABLE people DROP COLUMN digest")
    op.execute("ALTER TABLE units DROP COLUMN digest")
