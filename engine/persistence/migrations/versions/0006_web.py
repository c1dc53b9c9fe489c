"""the web workspace: passwords, sessions, sign-in throttling, API tokens

Nothing here is history: sign-ins are recorded on the chain as records (kind
``signin``); these tables only hold what a server needs to recognise a browser
or a script, with every secret stored as a hash.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = duban.engine.persistence.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "web_credentials",
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=64), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("must_change", sa.Boolean(), nullable=False),
        sa.Column("changed_at", Instant(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_index("ix_web_credentials_person_id", "web_credentials", ["person_id"])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=64), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", Instant(timezone=True), nullable=False),
        sa.Column("expires_at", Instant(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=True),
        sa.Column("ended_at", Instant(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_account", "web_sessions", ["account"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "web_signin_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("at", Instant(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_signin_attempts_account_at", "web_signin_attempts", ["account", "at"])
    op.create_index("ix_web_signin_attempts_address_at", "web_signin_attempts", ["address", "at"])
    op.create_table(
        "web_api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=64), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("created_at", Instant(timezone=True), nullable=False),
        sa.Column("revoked_at", Instant(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_api_tokens_account", "web_api_tokens", ["account"])


def downgrade() -> None:
    for table in ("web_api_tokens", "web_signin_attempts", "web_sessions", "web_credentials"):
        op.drop_table(table)
