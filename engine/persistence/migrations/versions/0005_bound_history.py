"""what people read is bound to the history: task rows, progress, the organisation, settings and refusals

Events gain the account that wrote them (stamped by the database on PostgreSQL)
and the task row after them; records chain everything else into the same
ledger; the stores of anchors and campaigns; the columns an office's ledger
brings (assigned and closed dates, target, its other columns, unit aliases).
A workspace that had people but no mapped accounts stays usable: it becomes
single-desk, on record, until an admin maps accounts and turns that off.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import duban.engine.persistence.types
from duban.engine.domain.audit import RecordFacts, chain_hash, record_hash
from duban.engine.persistence.binding import CONTENT_COLUMNS, content_of, row_facts_of

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = duban.engine.persistence.types.UTCDateTime
JSONText = duban.engine.persistence.types.JSONText
UPGRADE_ACCOUNT = "upgrade:0005"

SQLITE_GUARDS = (
    "CREATE TRIGGER records_append_only_update BEFORE UPDATE ON records "
    "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END",
    "CREATE TRIGGER records_append_only_delete BEFORE DELETE ON records "
    "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END",
)
# On PostgreSQL the account is the login role, stamped by the server: a client cannot write another's name.
PG_GUARDS = (
    "CREATE OR REPLACE FUNCTION duban_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$",
    "CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records "
    "FOR EACH ROW EXECUTE FUNCTION duban_append_only()",
    "CREATE TRIGGER records_append_only_truncate BEFORE TRUNCATE ON records "
    "FOR EACH STATEMENT EXECUTE FUNCTION duban_append_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON records FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION duban_stamp_account() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.account := 'pg:' || session_user; RETURN NEW; END $$",
    "CREATE TRIGGER events_stamp_account BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION duban_stamp_account()",
    "CREATE TRIGGER records_stamp_account BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION duban_stamp_account()",
)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("account", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("row_facts", JSONText(), nullable=True))
        batch.add_column(sa.Column("via", sa.String(length=200), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("assigned_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("target", sa.Text(), nullable=True))
        batch.add_column(sa.Column("ledger_columns", JSONText(), nullable=True))
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("aliases", JSONText(), nullable=True))
    with op.batch_alter_table("circulars") as batch:
        batch.add_column(sa.Column("issue_no", sa.Integer(), nullable=True))
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=250), nullable=False),
        sa.Column("body", JSONText(), nullable=True),
        sa.Column("at", Instant(timezone=True), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("via", sa.String(length=200), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("ledger_seq", sa.Integer(), nullable=False),
        sa.Column("ledger_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ledger_seq", name="uq_records_ledger_seq"),
    )
    with op.batch_alter_table("records") as batch:
        batch.create_index("ix_records_kind_subject", ["kind", "subject"], unique=False)
        batch.create_index("ix_records_kind_id", ["kind", "id"], unique=False)
        batch.create_index("ix_records_at", ["at"], unique=False)
    op.create_table(
        "anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ledger_seq", sa.Integer(), nullable=False),
        sa.Column("ledger_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("at", Instant(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("anchors") as batch:
        batch.create_index("ix_anchors_at", ["at"], unique=False)
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("feedback_on", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("created_at", Instant(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    _Chainer(op.get_bind()).run()
    op.drop_index("ix_refusals_at", table_name="refusals")
    op.drop_table("refusals")
    for statement in SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else PG_GUARDS:
        op.execute(statement)


class _Chainer:
    """Appends the baselines to the ledger chain: what the tables say at the upgrade is what the history binds."""

    def __init__(self, bind: sa.Connection) -> None:
        self.bind = bind
        self.now = datetime.now(UTC)
        self.records = sa.table(
            "records",
            sa.column("kind", sa.String),
            sa.column("subject", sa.String),
            sa.column("body", JSONText()),
            sa.column("at", Instant(timezone=True)),
            sa.column("account", sa.String),
            sa.column("operator_id", sa.String),
            sa.column("hash", sa.String),
            sa.column("ledger_seq", sa.Integer),
            sa.column("ledger_hash", sa.String),
        )
        row = bind.execute(sa.text("SELECT seq, hash FROM ledger_head WHERE id = 1")).one()
        self.seq, self.head = int(row[0]), str(row[1])
        self.pending: list[dict[str, Any]] = []

    def add(self, facts: RecordFacts) -> None:
        h = record_hash(facts)
        self.seq += 1
        self.head = chain_hash(self.head, h)
        self.pending.append(
            {
                "kind": facts.kind,
                "subject": facts.subject,
                "body": facts.body,
                "at": facts.at,
                "account": facts.account,
                "operator_id": facts.operator_id,
                "hash": h,
                "ledger_seq": self.seq,
                "ledger_hash": self.head,
            }
        )
        if len(self.pending) >= 2000:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.bind.execute(self.records.insert(), self.pending)
            self.pending = []

    def run(self) -> None:
        from duban.engine.persistence.binding import person_body, unit_body

        b = self.bind
        for r in b.execute(
            sa.text("SELECT at, actor, operator, action, task_code, reason, exit_code FROM refusals ORDER BY id")
        ).mappings():
            self.add(
                RecordFacts(
                    "refusal",
                    r["task_code"] or "",
                    {
                        "actor": r["actor"],
                        "operator": r["operator"],
                        "action": r["action"],
                        "reason": r["reason"],
                        "exit_code": r["exit_code"],
                    },
                    duban.engine.persistence.types.decode_instant(r["at"]),
                    UPGRADE_ACCOUNT,
                    None,
                )
            )
        for r in b.execute(
            sa.text("SELECT id, name, parent_id, head_id, channels, aliases FROM units ORDER BY id")
        ).mappings():
            self.add(RecordFacts("unit", str(r["id"]), unit_body(r), self.now, UPGRADE_ACCOUNT, None))
        people = list(
            b.execute(
                sa.text(
                    "SELECT id, name, unit_id, roles, email, phone, wecom, dingtalk, channels, accounts "
                    "FROM people ORDER BY id"
                )
            ).mappings()
        )
        for r in people:
            self.add(RecordFacts("person", r["id"], person_body(r), self.now, UPGRADE_ACCOUNT, None))
        settings = dict(b.execute(sa.text("SELECT key, value FROM workspace")).all())
        if people and "single_desk" not in settings and not any(r["accounts"] for r in people):
            # The previous release could not be used without mapped accounts; nobody had any yet.
            b.execute(sa.text("INSERT INTO workspace (key, value) VALUES ('single_desk', 'true')"))
            settings["single_desk"] = "true"
        for key, value in sorted(settings.items()):
            self.add(RecordFacts("workspace", key, {"value": value}, self.now, UPGRADE_ACCOUNT, None))
        co: dict[int, list[int]] = {}
        for task_id, unit_id in b.execute(sa.text("SELECT task_id, unit_id FROM task_co_units")):
            co.setdefault(task_id, []).append(unit_id)
        columns = ", ".join(
            dict.fromkeys(
                (
                    "id",
                    "code",
                    "state",
                    "deadline",
                    "unit_id",
                    "lead_leader_id",
                    "original_deadline",
                    "deadline_version",
                )
                + CONTENT_COLUMNS
            )
        )
        rows = b.execute(sa.text(f"SELECT {columns} FROM tasks ORDER BY id")).mappings().all()  # noqa: S608
        for r in rows:
            content = content_of(r, co.get(r["id"], ())).digest()
            facts = row_facts_of(r, content)
            deadline = duban.engine.persistence.types.decode_date(r["deadline"])
            body = {"state": r["state"], "deadline": deadline.isoformat() if deadline else None, "row": facts.to_json()}
            self.add(RecordFacts("task", r["code"], body, self.now, UPGRADE_ACCOUNT, None))
            b.execute(sa.text("UPDATE tasks SET content_hash = :h WHERE id = :id"), {"h": content, "id": r["id"]})
        self.flush()
        b.execute(sa.text("UPDATE ledger_head SET seq = :s, hash = :h WHERE id = 1"), {"s": self.seq, "h": self.head})


def downgrade() -> None:
    raise NotImplementedError("0005 binds the history to what people read; it is not undone (restore a backup)")
