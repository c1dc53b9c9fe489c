"""the supervision chain: sign-for time limits, where a task comes from, leaders' instructions

``events.unit_id`` is the responsible unit after each event (a copy of its bound row facts), so a
circular for a past day credits the unit that held the task then, after a transfer or a return.

Every new column is a fact people read, bound to the chain: ``sign_by`` and
``signed_at`` through each event's row facts, the source columns through the
task's content digest. Existing rows get NULL, which both bind as absent, so
their history verifies as before.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = duban.engine.persistence.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("sign_by", sa.Date(), nullable=True))
        batch.add_column(sa.Column("signed_at", Instant(timezone=True), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("source_ref", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("source_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("instruction", sa.String(length=32), nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
    op.create_index("ix_tasks_source", "tasks", ["source"])
    op.create_index("ix_tasks_instruction", "tasks", ["instruction"])
    op.create_table(
        "instructions",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("leader_id", sa.String(length=64), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("created_at", Instant(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("instructions")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("unit_id")
    op.drop_index("ix_tasks_instruction", "tasks")
    op.drop_index("ix_tasks_source", "tasks")
    with op.batch_alter_table("tasks") as batch:
        for column in ("instruction", "source_date", "source_ref", "source"):
            batch.drop_column(column)
        batch.drop_column("signed_at")
        batch.drop_column("sign_by")
