"""indexes for who may see a task: the lead leader, the person answering for it, and co-units by unit

A unit member's ledger and inbox ask for "tasks of my unit, or where my unit is a co-unit, or that I lead or
answer for"; each arm of that OR needs its own index, or at a million tasks the database reads them all.
``tasks.unit_id`` is already the first column of ``ix_tasks_unit_id_state``. (A lead leader index carrying state, workflow
and deadline was tried: SQLite then skip-scanned it for the light filter and read every red task.)

Revision ID: 0009
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_lead_leader_id", "tasks", ["lead_leader_id"])
    op.create_index("ix_tasks_responsible_person_id", "tasks", ["responsible_person_id"])
    op.create_index("ix_task_co_units_unit_id", "task_co_units", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_task_co_units_unit_id", table_name="task_co_units")
    op.drop_index("ix_tasks_responsible_person_id", table_name="tasks")
    op.drop_index("ix_tasks_lead_leader_id", table_name="tasks")
