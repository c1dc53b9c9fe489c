"""splitting down the levels (分解/多级交办): a task may have a parent task

``tasks.parent_id`` is the task a sub-task was split from; it is written with the sub-task and never
changes, so a circular for a past day counts "top tasks" the same way next year. The index serves the
roll-up (a parent's sub-tasks) and the submit check (open sub-tasks).

Revision ID: 0015
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_tasks_parent_id", "tasks", ["parent_id"], ["id"])
    op.create_index("ix_tasks_parent_id", "tasks", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_parent_id", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint("fk_tasks_parent_id", type_="foreignkey")
        batch.drop_column("parent_id")
