"""the requests a lead leader decides, for the inbox: a partial index of their events

A supervisor's 转办 proposal and a unit's 挂起 request wait for the lead leader. The inbox lists the requests still
waiting (their family's last event is the request); finding them among every event of a county would read them
all, so the events of those six triggers alone are indexed by (task_id, seq). An ordinary step writes nothing
to this index.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# models.DECISIONS_WHERE at this revision, written out: a migration does not follow later edits of the models
WHERE = "\"trigger\" IN ('propose_transfer', 'transfer', 'decline_transfer', 'ask_suspension', 'suspend', 'resume')"


def upgrade() -> None:
    op.create_index(
        "ix_events_decisions",
        "events",
        ["task_id", "seq"],
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_events_decisions", table_name="events")
