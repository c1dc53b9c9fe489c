"""tamper-evident history (hash chains), refused attempts, operators and their accounts

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types
from duban.engine.domain.audit import GENESIS, EventFacts, chain_hash, event_hash

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = duban.engine.persistence.types.UTCDateTime
JSONText = duban.engine.persistence.types.JSONText

SQLITE_GUARDS = (
    "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
)
PG_GUARDS = (
    "CREATE OR REPLACE FUNCTION duban_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'events are append-only'; END $$",
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION duban_events_append_only()",
    "CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION duban_events_append_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC",
)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("operator_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("ledger_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ledger_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("head_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("accounts", JSONText(), nullable=True))
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", Instant(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("operator", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("task_code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("refusals") as batch:
        batch.create_index("ix_refusals_at", ["at"], unique=False)
    op.create_table(
        "workspace",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    _chain_existing_events()
    with op.batch_alter_table("events") as batch:
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("ledger_seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("ledger_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_events_ledger_seq", ["ledger_seq"])
        batch.create_foreign_key("fk_events_operator_id_people", "people", ["operator_id"], ["id"])
    for statement in SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else PG_GUARDS:
        op.execute(statement)


def _chain_existing_events() -> None:
    """Histories from before this revision are chained as they stand, in the order they were written."""
    bind = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("task_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("trigger", sa.String),
        sa.column("from_state", sa.String),
        sa.column("to_state", sa.String),
        sa.column("actor_id", sa.String),
        sa.column("comment", sa.Text),
        sa.column("at", Instant(timezone=True)),
        sa.column("data", JSONText()),
        sa.column("deadline", sa.Date),
        sa.column("hash", sa.String),
        sa.column("ledger_seq", sa.Integer),
        sa.column("ledger_hash", sa.String),
    )
    heads: dict[int, str] = {}
    ledger, position = GENESIS, 0
    tasks = sa.table(
        "tasks", sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("head_hash", sa.String)
    )
    codes = dict(bind.execute(sa.select(tasks.c.id, tasks.c.code)).all())
    rows = bind.execute(sa.select(events).order_by(events.c.id)).all()
    for r in rows:
        facts = EventFacts(
            codes[r.task_id],
            r.seq,
            r.trigger,
            r.from_state,
            r.to_state,
            r.actor_id,
            None,
            r.comment,
            r.at,
            r.data,
            r.deadline,
        )
        h = event_hash(facts, heads.get(r.task_id, GENESIS))
        heads[r.task_id] = h
        position += 1
        ledger = chain_hash(ledger, h)
        bind.execute(events.update().where(events.c.id == r.id).values(hash=h, ledger_seq=position, ledger_hash=ledger))
    for task_id, h in heads.items():
        bind.execute(tasks.update().where(tasks.c.id == task_id).values(head_hash=h))
    bind.execute(
        sa.text("INSERT INTO ledger_head (id, seq, hash) VALUES (1, :seq, :hash)"), {"seq": position, "hash": ledger}
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS events_append_only_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP TRIGGER IF EXISTS events_append_only_truncate ON events")
        op.execute("DROP FUNCTION IF EXISTS duban_events_append_only()")
    op.drop_table("workspace")
    op.drop_table("refusals")
    op.drop_table("ledger_head")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("accounts")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("head_hash")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("fk_events_operator_id_people", type_="foreignkey")
        batch.drop_constraint("uq_events_ledger_seq", type_="unique")
        for column in ("ledger_hash", "ledger_seq", "hash", "operator_id"):
            batch.drop_column(column)
