"""indexes in the inbox's order: a workflow state's tasks by deadline, for everyone, per lead leader, per unit

The inbox counts and pages the tasks a person may act on per workflow state and light, and a light is a
range of deadlines: with (workflow, state, deadline, id) a light's count is a count of index entries and
its most urgent page the first entries of a range, already in the page's order (deadline, then id), for the
supervision office (no relation needed); (lead_leader_id, workflow, state, deadline, id) does the same for a
lead leader, who may lead every task of a county, and (unit_id, workflow, state, deadline, id) for a unit's
own tasks (at a million tasks a unit holds some 20,000). The lead leader's index replaces
``ix_tasks_lead_leader_id`` (0009), of which it is an extension: visibility's ``lead_leader_id = ?`` arm reads
its first column. ``id`` is written out for PostgreSQL, where equal keys are not kept in id order (SQLite's
rowid is implied). The ledger's light filter is kept off these indexes (``ledger_page.bands_clause``).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_workflow_state_deadline", "tasks", ["workflow", "state", "deadline", "id"])
    op.create_index(
        "ix_tasks_lead_leader_workflow_state_deadline",
        "tasks",
        ["lead_leader_id", "workflow", "state", "deadline", "id"],
    )
    op.create_index(
        "ix_tasks_unit_workflow_state_deadline", "tasks", ["unit_id", "workflow", "state", "deadline", "id"]
    )
    op.drop_index("ix_tasks_lead_leader_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_lead_leader_id", "tasks", ["lead_leader_id"])
    op.drop_index("ix_tasks_unit_workflow_state_deadline", table_name="tasks")
    op.drop_index("ix_tasks_lead_leader_workflow_state_deadline", table_name="tasks")
    op.drop_index("ix_tasks_workflow_state_deadline", table_name="tasks")
