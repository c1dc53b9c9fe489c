"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 16:31:23.329916
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_sequences",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("head_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "workflow_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("registered_at", duban.engine.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "version"),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("roles", duban.engine.persistence.types.JSONText(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("wecom", sa.String(length=200), nullable=True),
        sa.Column("dingtalk", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_unit_id"), ["unit_id"], unique=False)
    # units.head_id and people.unit_id refer to each other: the second key comes once both tables exist.
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_units_head_id_people", "people", ["head_id"], ["id"])

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("workflow", sa.String(length=64), nullable=False),
        sa.Column("workflow_version", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("measures", duban.engine.persistence.types.JSONText(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("responsible_person_id", sa.String(length=64), nullable=True),
        sa.Column("lead_leader_id", sa.String(length=64), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(length=20), nullable=True),
        sa.Column("fields", duban.engine.persistence.types.JSONText(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", duban.engine.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", duban.engine.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_leader_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["responsible_person_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_campaign", ["campaign"], unique=False)
        batch_op.create_index("ix_tasks_state", ["state"], unique=False)
        batch_op.create_index("ix_tasks_unit_id_state", ["unit_id", "state"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", duban.engine.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", duban.engine.persistence.types.JSONText(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "seq", name="uq_events_task_id_seq"),
    )
    op.create_table(
        "progress_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("at", duban.engine.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_progress_reports_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_co_units",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("task_id", "unit_id"),
    )
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["progress_reports.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_files_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_files_report_id"))

    op.drop_table("evidence_files")
    op.drop_table("task_co_units")
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_reports_task_id"))

    op.drop_table("progress_reports")
    op.drop_table("events")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_unit_id_state")
        batch_op.drop_index("ix_tasks_state")
        batch_op.drop_index("ix_tasks_campaign")

    op.drop_table("tasks")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_unit_id"))

    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_constraint("fk_units_head_id_people", type_="foreignkey")
    op.drop_table("people")
    op.drop_table("workflow_versions")
    op.drop_table("units")
    op.drop_table("code_sequences")
