"""Repositories for the write path and the organisation.

``TaskRepository`` serves assign, fire and progress with prepared statements
on the unit of work's DBAPI cursor; ``OrgRepository`` reads the organisation
the same way (a firing reads it to notify) and writes it with SQLAlchemy Core,
where speed does not matter. The read side (lists,
details, reports) queries the typed models directly through the unit of
work's session.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple

from ..domain.audit import GENESIS, EventFacts, RowFacts, TaskContent, row_json
from ..domain.co_units import Part
from ..domain.machine import Actor, TaskFacts
from ..domain.planning import DeadlineClock
from .codec import decode_date, decode_instant, decode_json, encode_date, encode_instant, encode_json
from .sql import DriverStatements, bound, for_dialect, positional

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..domain.org import OrgDoc

# The chain's next link, computed by the database so the head moves in one statement.
CHAIN_STEP = {
    "sqlite": "UPDATE chain_head SET seq = seq + 1, hash = duban_sha256(hash || :hash) WHERE id = 1 "
    "RETURNING seq, hash",
    "postgresql": "UPDATE chain_head SET seq = seq + 1, hash = encode(sha256(convert_to(hash || :hash, 'UTF8')), "
    "'hex') WHERE id = 1 RETURNING seq, hash",
}


# 牵头/配合: a task's co-unit parts, by co-unit name (the firing path, the task page and the inbox read them alike).
PARTS_COLUMNS = "c.unit_id, c.state, c.sign_by, c.report_by, c.signed_at, c.settled_at, u.name"
PARTS_SELECT = (
    f"SELECT {PARTS_COLUMNS} FROM task_co_units c JOIN units u ON u.id = c.unit_id WHERE c.task_id = :t ORDER BY u.name"
)


def part_from_row(row: Any, tz: tzinfo) -> Part:
    unit_id, state, sign_by, report_by, signed_at, settled_at, name = row
    signed = None if signed_at is None else decode_instant(signed_at)
    settled = None if settled_at is None else decode_instant(settled_at)
    return Part(
        unit_id=unit_id,
        unit=name,
        state=state,
        sign_by=decode_date(sign_by),
        report_by=decode_date(report_by),
        signed_on=signed.astimezone(tz).date() if signed else None,
        settled_on=settled.astimezone(tz).date() if settled else None,
    )


_ROLES: dict[str, frozenset[str]] = {}


def roles_of(stored: str) -> frozenset[str]:
    """A person's roles from their stored JSON list. Few distinct lists exist (a role set is shared by many
    people), and every firing reads the actor's: each list is parsed once."""
    roles = _ROLES.get(stored)
    if roles is None:
        if len(_ROLES) > 1000:
            _ROLES.clear()
        roles = _ROLES[stored] = frozenset(json.loads(stored))
    return roles


def _instant(value: Any) -> datetime:
    return decode_instant(value)


# The tasks table's typed columns (models.Task), as the driver hands them back: read as the ORM reads them.
_TASK_DECODE: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(("measures", "fields", "ledger_columns"), decode_json),
    **dict.fromkeys(
        ("deadline", "original_deadline", "assigned_on", "closed_on", "sign_by", "source_date"), decode_date
    ),
    **dict.fromkeys(
        (
            "watch_from",
            "next_action_at",
            "last_progress_at",
            "clock_stopped_at",
            "signed_at",
            "created_at",
            "updated_at",
        ),
        _instant,
    ),
    **dict.fromkeys(("ongoing", "named_in_circular"), bool),
}


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A task as the write path sees it."""

    id: int
    code: str
    workflow: str
    version: int
    facts: TaskFacts
    clock: DeadlineClock
    head_hash: str  # the hash of its last event: the next one chains to it
    content_hash: str  # TaskContent.digest() of the row: the next event binds it
    original_deadline: date | None
    assigned_on: date | None = None  # 交办日期: a reassignment's restarted clock counts the first allowance from it

    def row_json(self, clock: DeadlineClock) -> dict[str, Any]:
        """``row_facts(clock).to_json()``, without the RowFacts in between (the firing's hot path)."""
        return row_json(
            self.content_hash,
            self.facts.unit_id,
            self.facts.lead_leader_id,
            self.original_deadline,
            clock.deadline_version,
            clock.sign_by,
            clock.signed_at,
        )

    def row_facts(self, clock: DeadlineClock) -> RowFacts:
        """The row as the next event binds it: of these only the deadline facts move on a transition."""
        return RowFacts(
            content=self.content_hash,
            unit_id=self.facts.unit_id,
            lead_leader=self.facts.lead_leader_id,
            original_deadline=self.original_deadline,
            deadline_version=clock.deadline_version,
            sign_by=clock.sign_by,
            signed_at=clock.signed_at,
        )


@dataclass(frozen=True, slots=True)
class NewTaskRow:
    code: str
    workflow: str
    workflow_version: str
    title: str
    problem: str | None
    measures: list[str]
    category: str | None
    campaign: str | None
    unit_id: int
    responsible_person_id: str | None
    lead_leader_id: str | None
    deadline: date | None
    deadline_expr: str | None
    ongoing: bool
    priority: str | None
    fields: dict[str, Any]
    state: str
    at: datetime
    next_action_at: datetime | None
    head_hash: str = GENESIS
    content_hash: str | None = None
    assigned_on: date | None = None
    closed_on: date | None = None
    target: str | None = None
    ledger_columns: list[Any] | None = None
    sign_by: date | None = None
    source: str | None = None  # 问题来源
    source_ref: str | None = None
    source_date: date | None = None
    instruction: str | None = None  # the 领导批示 it was turned from

    def content(self, co_unit_ids: Iterable[int]) -> TaskContent:
        return TaskContent(
            workflow=self.workflow,
            title=self.title,
            problem=self.problem,
            measures=tuple(self.measures),
            category=self.category,
            campaign=self.campaign,
            priority=self.priority,
            fields=self.fields,
            responsible_person=self.responsible_person_id,
            co_units=tuple(co_unit_ids),
            deadline_expr=self.deadline_expr,
            ongoing=self.ongoing,
            source_key=None,
            target=self.target,
            ledger_columns=self.ledger_columns,
            assigned_on=self.assigned_on,
            closed_on=self.closed_on,
            source=self.source,
            source_ref=self.source_ref,
            source_date=self.source_date,
            instruction=self.instruction,
        )


# The event's INSERT, with its :names in the order ``append_event`` gives the values.
EVENT_INSERT = (
    "INSERT INTO events (task_id, seq, trigger, from_state, to_state, actor_id, operator_id, comment, at, "
    "data, deadline, hash, chain_seq, chain_hash, account, row_facts, via, unit_id) VALUES (:task_id, :seq, "
    ":trigger, :source, :dest, :actor, :operator, :comment, :at, :data, :deadline, :hash, :chain_seq, "
    ":chain_hash, :account, :row_facts, :via, :unit_id)"
)
_EVENT_INSERT_SQLITE, _EVENT_INSERT_NAMES = positional(EVENT_INSERT)
assert _EVENT_INSERT_NAMES == (
    "task_id",
    "seq",
    "trigger",
    "source",
    "dest",
    "actor",
    "operator",
    "comment",
    "at",
    "data",
    "deadline",
    "hash",
    "chain_seq",
    "chain_hash",
    "account",
    "row_facts",
    "via",
    "unit_id",
), "append_event gives the values in this order"

# The deadline clock's columns a firing writes with its state, each with the codec that stores it (None:
# stored as it is); the column is the DeadlineClock field of the same name.
_CLOCK_COLUMNS: tuple[tuple[str, Callable[[Any, str], object] | None], ...] = (
    ("deadline", encode_date),
    ("deadline_version", None),
    ("watch_from", encode_instant),
    ("next_action_at", encode_instant),
    ("last_progress_at", encode_instant),
    ("clock_stopped_at", encode_instant),
    ("sign_by", encode_date),
    ("signed_at", encode_instant),
)
# The firing's UPDATE by dialect and the columns it writes: a handful of shapes, each text made once (and each
# statement prepared once by the driver's own cache, keyed by the text).
_ADVANCE_UPDATES: dict[tuple[str, tuple[str, ...]], str] = {}


class TaskRepository:
    """The write path's statements, on the unit of work's driver connection (one cursor, reused)."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self.conn = conn  # the DBAPI connection
        self.dialect = dialect
        self._cursor: Any = None

    @property
    def cursor(self) -> Any:
        if self._cursor is None:
            self._cursor = self.conn.cursor()
        return self._cursor

    def _run(self, statement: str, params: dict[str, Any]) -> Any:
        cur = self.cursor
        cur.execute(*bound(statement, self.dialect, params))
        return cur

    def for_firing(self, code: str, actor_id: str) -> tuple[TaskRow, Actor | None] | None:
        """The task and the actor in one round trip: on PostgreSQL each round trip is a tenth of a firing."""
        row = self._run(
            "SELECT t.id, t.code, t.workflow, t.state, t.version, t.unit_id, u.head_id, "
            "t.lead_leader_id, t.responsible_person_id, p.id, p.name, p.roles, p.unit_id, "
            "t.deadline, t.deadline_version, t.watch_from, t.next_action_at, t.last_progress_at, "
            "t.clock_stopped_at, t.created_at, t.head_hash, t.content_hash, t.original_deadline, t.sign_by, t.signed_at, "
            "t.assigned_on, t.escalation_level "
            "FROM tasks t JOIN units u ON u.id = t.unit_id LEFT JOIN people p ON p.id = :actor "
            "WHERE t.code = :code",
            {"code": code, "actor": actor_id},
        ).fetchone()
        if row is None:
            return None
        task = TaskRow(
            id=row[0],
            code=row[1],
            workflow=row[2],
            version=row[4],
            facts=TaskFacts(
                code=row[1],
                state=row[3],
                unit_id=row[5],
                unit_head_id=row[6],
                lead_leader_id=row[7],
                responsible_person_id=row[8],
            ),
            clock=DeadlineClock(
                deadline=decode_date(row[13]),
                deadline_version=row[14],
                watch_from=decode_instant(row[15]),
                next_action_at=None if row[16] is None else decode_instant(row[16]),
                last_progress_at=None if row[17] is None else decode_instant(row[17]),
                clock_stopped_at=None if row[18] is None else decode_instant(row[18]),
                created_at=decode_instant(row[19]),
                sign_by=decode_date(row[23]),
                signed_at=None if row[24] is None else decode_instant(row[24]),
                escalation_level=row[26],
            ),
            head_hash=row[20] or GENESIS,
            content_hash=row[21] or "",
            original_deadline=decode_date(row[22]),
            assigned_on=decode_date(row[25]),
        )
        actor = None if row[9] is None else Actor(row[9], row[10], roles_of(row[11]), row[12])
        return task, actor

    def actor(self, person_id: str) -> Actor | None:
        row = self._run("SELECT id, name, roles, unit_id FROM people WHERE id = :id", {"id": person_id}).fetchone()
        if row is None:
            return None
        return Actor(id=row[0], name=row[1], roles=roles_of(row[2]), unit_id=row[3])

    def campaign_of(self, task_id: int) -> str | None:
        row = self._run("SELECT campaign FROM tasks WHERE id = :id", {"id": task_id}).fetchone()
        return None if row is None else row[0]

    def parts(self, task_id: int, tz: tzinfo) -> list[Part]:
        """牵头/配合: the task's co-unit parts, by co-unit name, on the firing's own cursor (one statement)."""
        return [part_from_row(r, tz) for r in self._run(PARTS_SELECT, {"t": task_id}).fetchall()]

    def has_progress_report(self, task_id: int) -> bool:
        return (
            self._run("SELECT 1 FROM progress_reports WHERE task_id = :t LIMIT 1", {"t": task_id}).fetchone()
            is not None
        )

    def advance(
        self,
        task_id: int,
        expected_version: int,
        state: str,
        at: datetime,
        clock: DeadlineClock,
        head_hash: str,
        *,
        before: DeadlineClock | None = None,
        from_state: str | None = None,
    ) -> bool:
        """Optimistic lock: the update only lands on the version that was read.

        The deadline facts are written with the state, so the watch never lags a transition; the new
        event's hash too, so the next event chains to it without reading the history.

        On SQLite, given the clock and state that were read (``before``, ``from_state``), only the columns
        that change are written: the read and this update share one ``BEGIN IMMEDIATE`` transaction, so no
        other writer can have moved the row in between, and an indexed column left out of the SET costs its
        index nothing (SQLite rewrites the index entry of every column named, changed or not). PostgreSQL
        reads under READ COMMITTED without a lock, and the sweep writes the watch columns without moving the
        version, so there the firing writes every column as before.
        """
        d = self.dialect
        only_moved = d == "sqlite" and before is not None
        names = ["version", "updated_at", "head_hash"]
        values: list[Any] = [expected_version + 1, encode_instant(at, d), head_hash]
        if not only_moved or state != from_state:
            names.append("state")
            values.append(state)
        for column, encode in _CLOCK_COLUMNS:
            value = getattr(clock, column)
            if only_moved and value == getattr(before, column):
                continue
            names.append(column)
            values.append(value if value is None or encode is None else encode(value, d))
        key = (d, tuple(names))
        sql = _ADVANCE_UPDATES.get(key)
        if sql is None:
            named = "UPDATE tasks SET " + ", ".join(f"{n} = :{n}" for n in names) + " WHERE id = :id AND version = :old"
            sql = _ADVANCE_UPDATES[key] = positional(named)[0] if d == "sqlite" else for_dialect(named, d)
        cur = self.cursor
        if d == "sqlite":
            cur.execute(sql, [*values, task_id, expected_version])
        else:
            cur.execute(sql, {**dict(zip(names, values, strict=True)), "id": task_id, "old": expected_version})
        return cur.rowcount == 1

    def current_version(self, task_id: int) -> int:
        return int(self._run("SELECT version FROM tasks WHERE id = :id", {"id": task_id}).fetchone()[0])

    def append_event(self, task_id: int, event: EventFacts, event_hash: str) -> None:
        """The event, and its place in the chain (one statement moves the head; it is held to commit)."""
        head = self._run(CHAIN_STEP[self.dialect], {"hash": event_hash}).fetchone()
        if head is None:  # pragma: no cover - the head row is created with the schema
            raise RuntimeError("the chain head is missing")
        values = (
            task_id,
            event.seq,
            event.trigger,
            event.from_state,
            event.to_state,
            event.actor_id,
            event.operator_id,
            event.comment,
            encode_instant(event.at, self.dialect),
            encode_json(event.data),
            encode_date(event.deadline, self.dialect),
            event_hash,
            head[0],
            head[1],
            event.account,
            encode_json(event.row),
            event.via,
            event.row.get("unit") if event.row else None,
        )
        # Bound by position on SQLite (the values above are in the statement's order): no dict of 18 names
        # made and read back on every firing; psycopg gets its named parameters.
        if self.dialect == "sqlite":
            self.cursor.execute(_EVENT_INSERT_SQLITE, values)
        else:
            self.cursor.execute(
                for_dialect(EVENT_INSERT, self.dialect), dict(zip(_EVENT_INSERT_NAMES, values, strict=True))
            )

    def add_progress(self, task_id: int, seq: int, percent: int, note: str, actor_id: str, at: datetime) -> int:
        return int(
            self._run(
                "INSERT INTO progress_reports (task_id, event_seq, percent, note, actor_id, at) "
                "VALUES (:t, :seq, :percent, :note, :actor, :at) RETURNING id",
                {
                    "t": task_id,
                    "seq": seq,
                    "percent": percent,
                    "note": note,
                    "actor": actor_id,
                    "at": encode_instant(at, self.dialect),
                },
            ).fetchone()[0]
        )

    def add_evidence(self, report_id: int, sha256: str, size: int, original_name: str) -> None:
        self._run(
            "INSERT INTO evidence_files (report_id, sha256, size, original_name) VALUES (:r, :sha, :size, :name)",
            {"r": report_id, "sha": sha256, "size": size, "name": original_name},
        )

    def next_code_number(self, prefix: str, year: int) -> int:
        """Allocate the next number of a code series; the row lock serialises concurrent assigns."""
        return int(
            self._run(
                "INSERT INTO code_sequences (prefix, year, last) VALUES (:p, :y, 1) "
                "ON CONFLICT (prefix, year) DO UPDATE SET last = code_sequences.last + 1 RETURNING last",
                {"p": prefix, "y": year},
            ).fetchone()[0]
        )

    def insert(self, task: NewTaskRow) -> int:
        return int(
            self._run(
                "INSERT INTO tasks (code, workflow, workflow_version, title, problem, measures, category, campaign, "
                "unit_id, responsible_person_id, lead_leader_id, deadline, original_deadline, deadline_expr, ongoing, "
                "deadline_version, watch_from, next_action_at, escalation_level, named_in_circular, priority, fields, "
                "state, version, created_at, updated_at, head_hash, content_hash, assigned_on, closed_on, target, ledger_columns, "
                "sign_by, source, source_ref, source_date, instruction) "
                "VALUES (:code, :workflow, :wv, :title, :problem, "
                ":measures, :category, :campaign, :unit, :person, :leader, :deadline, :deadline, :expr, :ongoing, 1, "
                ":at, :next_at, 0, :false, :priority, :fields, :state, 1, :at, :at, :head, :content, :assigned_on, "
                ":closed_on, :target, :ledger_columns, :sign_by, :source, :source_ref, :source_date, :instruction) "
                "RETURNING id",
                {
                    "code": task.code,
                    "workflow": task.workflow,
                    "wv": task.workflow_version,
                    "title": task.title,
                    "problem": task.problem,
                    "measures": encode_json(task.measures),
                    "category": task.category,
                    "campaign": task.campaign,
                    "unit": task.unit_id,
                    "person": task.responsible_person_id,
                    "leader": task.lead_leader_id,
                    "deadline": encode_date(task.deadline, self.dialect),
                    "expr": task.deadline_expr,
                    "ongoing": task.ongoing,
                    "false": False,
                    "next_at": None
                    if task.next_action_at is None
                    else encode_instant(task.next_action_at, self.dialect),
                    "priority": task.priority,
                    "fields": encode_json(task.fields),
                    "state": task.state,
                    "at": encode_instant(task.at, self.dialect),
                    "head": task.head_hash,
                    "content": task.content_hash,
                    "assigned_on": encode_date(task.assigned_on, self.dialect),
                    "closed_on": encode_date(task.closed_on, self.dialect),
                    "target": task.target,
                    "ledger_columns": encode_json(task.ledger_columns),
                    "sign_by": encode_date(task.sign_by, self.dialect),
                    "source": task.source,
                    "source_ref": task.source_ref,
                    "source_date": encode_date(task.source_date, self.dialect),
                    "instruction": task.instruction,
                },
            ).fetchone()[0]
        )

    def add_co_units(self, task_id: int, unit_ids: list[int]) -> None:
        for unit_id in unit_ids:
            self._run("INSERT INTO task_co_units (task_id, unit_id) VALUES (:t, :u)", {"t": task_id, "u": unit_id})

    def move_to_unit(self, task_id: int, unit_id: int) -> None:
        """转办/退办: the task's new unit; the old unit's responsible person goes, the new unit is no co-unit."""
        self._run(
            "UPDATE tasks SET unit_id = :u, responsible_person_id = NULL WHERE id = :t", {"u": unit_id, "t": task_id}
        )
        self._run("DELETE FROM task_co_units WHERE task_id = :t AND unit_id = :u", {"t": task_id, "u": unit_id})

    def set_content_hash(self, task_id: int, content_hash: str) -> None:
        self._run("UPDATE tasks SET content_hash = :h WHERE id = :t", {"h": content_hash, "t": task_id})

    def content_row(self, task_id: int) -> tuple[dict[str, Any], list[int]]:
        """The columns the content digest covers, and the co-unit ids, as stored now."""
        cur = self._run("SELECT * FROM tasks WHERE id = :t", {"t": task_id})
        row = dict(zip((d[0] for d in cur.description), cur.fetchone(), strict=True))
        for name, decode in _TASK_DECODE.items():  # the values the ORM's column types would give
            if name in row and row[name] is not None:
                row[name] = decode(row[name])
        co_units = [r[0] for r in self._run("SELECT unit_id FROM task_co_units WHERE task_id = :t", {"t": task_id})]
        return row, co_units

    def steps_of(self, task_id: int, triggers: tuple[str, ...]) -> list[tuple[str, dict[str, Any] | None]]:
        """(trigger, data) of the task's events of these triggers, oldest first."""
        names = {f"g{i}": trigger for i, trigger in enumerate(triggers)}
        rows = self._run(
            f"SELECT trigger, data FROM events WHERE task_id = :t AND trigger IN ({', '.join(':' + n for n in names)}) "
            "ORDER BY seq",
            {"t": task_id, **names},
        ).fetchall()
        return [(r[0], decode_json(r[1])) for r in rows]

    def withdraw_extension_requests(self, task_id: int, at: datetime) -> None:
        """A closed or cancelled task has nothing left to extend."""
        self._run(
            "UPDATE extension_requests SET status = 'withdrawn', decided_at = :at WHERE task_id = :t AND status = 'pending'",
            {"at": encode_instant(at, self.dialect), "t": task_id},
        )

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None


@dataclass(frozen=True, slots=True)
class ImportCounts:
    units_added: int
    units_updated: int
    people_added: int
    people_updated: int


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: int
    name: str
    parent_id: int | None
    head_id: str | None


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: str
    name: str
    unit_id: int | None
    roles: list[str]
    email: str | None
    phone: str | None


class ContactRow(NamedTuple):
    """A person's contact facts, as the notification directory reads them."""

    id: str
    name: str
    unit_id: int | None
    roles: list[str]
    email: str | None
    phone: str | None
    wecom: str | None
    dingtalk: str | None
    channels: list[str] | None
    digest: str | None
    notify: str | None


class UnitContactRow(NamedTuple):
    id: int
    name: str
    parent_id: int | None
    head_id: str | None
    channels: list[str] | None
    digest: str | None


class OrgRepository(DriverStatements):
    """The organisation: read on the driver connection (a firing reads it to notify), written with Core."""

    def __init__(self, conn: Any, dialect: str, core: Callable[[], Connection]) -> None:
        super().__init__(conn, dialect)
        self._core = core

    def _rows(self, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
        cur = self._run(statement, params or {})
        rows = cur.fetchall()
        cur.close()
        return rows

    def unit_ids(self) -> dict[str, int]:
        return {name: id_ for id_, name in self._rows("SELECT id, name FROM units")}

    def unit_aliases(self) -> dict[str, str]:
        """alias → the unit's name, from units.aliases."""
        out: dict[str, str] = {}
        for name, aliases in self._rows("SELECT name, aliases FROM units WHERE aliases IS NOT NULL"):
            for alias in decode_json(aliases) or ():
                out.setdefault(str(alias), name)
        return out

    def people(self) -> dict[str, tuple[str, int | None, list[str]]]:
        return {
            pid: (name, unit_id, decode_json(roles))
            for pid, name, unit_id, roles in self._rows("SELECT id, name, unit_id, roles FROM people")
        }

    def units_listing(self) -> list[UnitRow]:
        return [UnitRow(*r) for r in self._rows("SELECT id, name, parent_id, head_id FROM units ORDER BY id")]

    def people_listing(self) -> list[PersonRow]:
        rows = self._rows("SELECT id, name, unit_id, roles, email, phone FROM people ORDER BY id")
        return [PersonRow(r[0], r[1], r[2], list(decode_json(r[3]) or ()), r[4], r[5]) for r in rows]

    def parent_names(self) -> dict[str, str | None]:
        """unit name → its parent's name (None at the top), for validating an organisation file against the store."""
        rows = self._rows("SELECT u.name, p.name FROM units u LEFT OUTER JOIN units p ON p.id = u.parent_id")
        return {name: parent_name for name, parent_name in rows}

    def version(self) -> tuple[int, int]:
        """The organisation's version: its latest person and unit records (every change through duban adds one).

        Two index probes, so a process can keep the organisation in memory and ask this on every step.
        """
        row = self._rows(
            "SELECT (SELECT MAX(id) FROM records WHERE kind = 'person'), "
            "(SELECT MAX(id) FROM records WHERE kind = 'unit')"
        )[0]
        return int(row[0] or 0), int(row[1] or 0)

    def contacts(self) -> tuple[list[Any], list[Any]]:
        """Every person's and unit's contact facts, for the notification directory."""
        people = [
            ContactRow(r[0], r[1], r[2], decode_json(r[3]), r[4], r[5], r[6], r[7], decode_json(r[8]), r[9], r[10])
            for r in self._rows(
                "SELECT id, name, unit_id, roles, email, phone, wecom, dingtalk, channels, digest, notify FROM people"
            )
        ]
        units = [
            UnitContactRow(r[0], r[1], r[2], r[3], decode_json(r[4]), r[5])
            for r in self._rows("SELECT id, name, parent_id, head_id, channels, digest FROM units")
        ]
        return people, units

    def account_owners(self) -> dict[str, tuple[str, frozenset[str]]]:
        """Each mapped account (os:NAME, pg:ROLE) and the person it is, with their roles."""
        owners: dict[str, tuple[str, frozenset[str]]] = {}
        for pid, accts, roles in self._rows("SELECT id, accounts, roles FROM people WHERE accounts IS NOT NULL"):
            for a in decode_json(accts) or ():
                owners.setdefault(a, (pid, frozenset(decode_json(roles) or ())))
        return owners

    def apply(self, doc: OrgDoc) -> ImportCounts:
        """Upsert units, then people, then unit heads and parents (they refer to each other).

        Only what the file states is written: a contacts sheet does not wipe roles.
        """
        from sqlalchemy import insert, update

        from .models import Person, Unit

        core = self._core()
        units = self.unit_ids()
        u_added = u_updated = 0
        for u in doc.units:
            if u.name in units:
                u_updated += 1
            else:
                units[u.name] = core.execute(insert(Unit).values(name=u.name).returning(Unit.id)).scalar_one()
                u_added += 1
        existing = set(self.people())
        p_added = p_updated = 0
        for p in doc.people:
            values: dict[str, Any] = {
                "name": p.name,
                "unit_id": units[p.unit] if p.unit else None,
                "roles": list(p.roles),
                "channels": list(p.channels) if p.channels else None,
                "accounts": list(p.accounts) if p.accounts else None,
                "digest": p.digest,
                "notify": p.notify,
                **{k: p.contacts.get(k) for k in ("email", "phone", "wecom", "dingtalk")},
            }
            if p.id in existing:
                given = {"unit_id" if k == "unit" else k for k in p.given}
                core.execute(
                    update(Person).where(Person.id == p.id).values(**{k: v for k, v in values.items() if k in given})
                )
                p_updated += 1
            else:
                core.execute(insert(Person).values(id=p.id, **values))
                p_added += 1
        for u in doc.units:
            unit_values: dict[str, Any] = {
                "parent_id": units[u.parent] if u.parent else None,
                "head_id": u.head,
                "channels": list(u.channels) if u.channels else None,
                "aliases": list(u.aliases) if u.aliases else None,
                "digest": u.digest,
            }
            given = {"parent_id" if k == "parent" else "head_id" if k == "head" else k for k in u.given}
            changes = {k: v for k, v in unit_values.items() if k in given}
            if changes:
                core.execute(update(Unit).where(Unit.id == units[u.name]).values(**changes))
        return ImportCounts(u_added, u_updated, p_added, p_updated)
