"""the hash chain is called the chain: ledger_seq/ledger_hash/ledger_head become chain_seq/chain_hash/chain_head

"Ledger" is the office's 台账; the tamper-evident order of every event and record is the chain. Only names
change: no value is rewritten, so every hash, anchor and backup stays valid. Constraint names keep their
old spelling (renaming them would rebuild the tables on SQLite for nothing).

Revision ID: 0012
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("events", "records", "anchors")
COLUMNS = (("ledger_seq", "chain_seq"), ("ledger_hash", "chain_hash"))


def upgrade() -> None:
    for table in TABLES:
        for old, new in COLUMNS:
            op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
    op.execute("ALTER TABLE ledger_head RENAME TO chain_head")


def downgrade() -> None:
    op.execute("ALTER TABLE chain_head RENAME TO ledger_head")
    for table in TABLES:
        for old, new in COLUMNS:
            op.execute(f"ALTER TABLE {table} RENAME COLUMN {new} TO {old}")
