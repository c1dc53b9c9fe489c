"""substitutes (代理): who stands in for whom, over which dates, approved by whom

A projection of the chain's records of kind "substitution"; nothing existing changes.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = duban.engine.persistence.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "substitutions",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("absent_id", sa.String(length=64), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("substitute_id", sa.String(length=64), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("requested_at", Instant(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), sa.ForeignKey("people.id"), nullable=True),
        sa.Column("decided_at", Instant(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), sa.ForeignKey("people.id"), nullable=True),
        sa.Column("cancelled_at", Instant(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_substitutions_absent_id", "substitutions", ["absent_id"])
    op.create_index("ix_substitutions_substitute_id", "substitutions", ["substitute_id"])


def downgrade() -> None:
    op.drop_index("ix_substitutions_substitute_id", table_name="substitutions")
    op.drop_index("ix_substitutions_absent_id", table_name="substitutions")
    op.drop_table("substitutions")
