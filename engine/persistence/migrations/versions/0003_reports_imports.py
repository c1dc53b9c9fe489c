"""circulars, the deadline on each event (as-of reports), the source row of imported tasks

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = duban.engine.persistence.types.UTCDateTime
JSONText = duban.engine.persistence.types.JSONText


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch.create_index("ix_events_at", ["at"], unique=False)
    # Events from before this revision: the best knowledge is the task's deadline as it stands.
    op.execute("UPDATE events SET deadline = (SELECT tasks.deadline FROM tasks WHERE tasks.id = events.task_id)")
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("source_key", sa.String(length=250), nullable=True))
        batch.create_unique_constraint("uq_tasks_source_key", ["source_key"])
        batch.create_index("ix_tasks_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "circulars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_key", sa.String(length=250), nullable=False),
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("period_kind", sa.String(length=16), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("figures", JSONText(), nullable=False),
        sa.Column("created_at", Instant(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issue_key"),
    )
    op.create_table(
        "circular_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circular_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["circular_id"], ["circulars.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("circular_files") as batch:
        batch.create_index(batch.f("ix_circular_files_circular_id"), ["circular_id"], unique=False)


def downgrade() -> None:
    op.drop_table("circular_files")
    op.drop_table("circulars")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_updated_at")
        batch.drop_constraint("uq_tasks_source_key", type_="unique")
        batch.drop_column("source_key")
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_at")
        batch.drop_column("deadline")
