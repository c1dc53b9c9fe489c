"""deadlines, extensions and the notification outbox

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = duban.engine.persistence.types.UTCDateTime
JSONText = duban.engine.persistence.types.JSONText


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("channels", JSONText(), nullable=True))
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("channels", JSONText(), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("original_deadline", sa.Date(), nullable=True))
        batch.add_column(sa.Column("deadline_expr", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("ongoing", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("deadline_version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("watch_from", Instant(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_action_at", Instant(timezone=True), nullable=True))
        batch.add_column(sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("named_in_circular", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("last_progress_at", Instant(timezone=True), nullable=True))
        batch.add_column(sa.Column("clock_stopped_at", Instant(timezone=True), nullable=True))
        batch.create_index("ix_tasks_next_action_at", ["next_action_at"], unique=False)
    # Tasks from before this revision: the deadline as assigned is the original, watching starts now.
    op.execute("UPDATE tasks SET original_deadline = deadline, watch_from = updated_at")
    with op.batch_alter_table("tasks") as batch:
        batch.alter_column("watch_from", existing_type=Instant(timezone=True), nullable=False)
        batch.alter_column("ongoing", server_default=None)
        batch.alter_column("deadline_version", server_default=None)
        batch.alter_column("escalation_level", server_default=None)
        batch.alter_column("named_in_circular", server_default=None)

    op.create_table(
        "extension_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", Instant(timezone=True), nullable=False),
        sa.Column("current_deadline", sa.Date(), nullable=True),
        sa.Column("requested_deadline", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", Instant(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["people.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["people.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("extension_requests") as batch:
        batch.create_index(batch.f("ix_extension_requests_status"), ["status"], unique=False)
        batch.create_index(batch.f("ix_extension_requests_task_id"), ["task_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", Instant(timezone=True), nullable=False),
        sa.Column("lease_until", Instant(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Instant(timezone=True), nullable=False),
        sa.Column("sent_at", Instant(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["recipient_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.create_index("ix_notifications_status_due", ["status", "due_at"], unique=False)
        batch.create_index(batch.f("ix_notifications_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("extension_requests")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_next_action_at")
        for column in (
            "clock_stopped_at",
            "last_progress_at",
            "named_in_circular",
            "escalation_level",
            "next_action_at",
            "watch_from",
            "deadline_version",
            "ongoing",
            "deadline_expr",
            "original_deadline",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("people") as batch:
        batch.drop_column("channels")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("channels")
