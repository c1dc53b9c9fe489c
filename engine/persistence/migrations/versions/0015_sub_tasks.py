"""splitting down the levels (分解/多级交办): a task may have a parent task

``tasks.parent_id`` is the task a sub-task was split from; it is written with the sub-task and never
changes, so a circular for a past day counts "top tasks" the same way next year. The index serves the
roll-up (a parent's sub-tasks) and the submit check (open sub-tasks). No foreign key: only ``duban split``
writes it, in the same transaction as the parent's event, and a constraint would make every later batch copy
of ``tasks`` on SQLite (a downgrade) refuse.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("parent_id", sa.Integer(), nullable=True))
    op.create_index("ix_tasks_parent_id", "tasks", ["parent_id"])


def downgrade() -> None:
    # A plain DROP COLUMN on both databases: SQLite (3.35+) drops an unindexed column in place, where a batch
    # copy of ``tasks`` would be refused by the tables that point at it.
    op.drop_index("ix_tasks_parent_id", table_name="tasks")
    op.execute("ALTER TABLE tasks DROP COLUMN parent_id")
