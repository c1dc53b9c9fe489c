"""co-units' parts (牵头/配合): each co-unit of a task signs for its part and reports on it, or is waived

``task_co_units`` gains the part's state (assigned, signed, reported, waived), its sign-for and report-by
days as the policy set them at assignment, when it was signed for and when it was settled (reported or
waived), and how far the sweep has chased it. Existing rows become parts assigned without time limits: the
history before this revision named co-units but gave them no step of their own.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types

UTCDateTime = duban.engine.persistence.types.UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task_co_units") as batch:
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="assigned"))
        batch.add_column(sa.Column("sign_by", sa.Date(), nullable=True))
        batch.add_column(sa.Column("report_by", sa.Date(), nullable=True))
        batch.add_column(sa.Column("signed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("settled_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("chased", sa.Integer(), nullable=False, server_default="0"))
    # the sweep's look for late parts reads the open ones only (most parts are settled)
    op.create_index("ix_task_co_units_state_report_by", "task_co_units", ["state", "report_by"])


def downgrade() -> None:
    op.drop_index("ix_task_co_units_state_report_by", table_name="task_co_units")
    with op.batch_alter_table("task_co_units") as batch:
        for name in ("chased", "settled_at", "signed_at", "report_by", "sign_by", "state"):
            batch.drop_column(name)
