"""Writing validated ledger rows as tasks: every row of a file in one transaction, in bulk.

A ledger can hold 100,000 rows, so rows go in through the DBAPI cursor's
``executemany`` in batches of positional tuples (psycopg pipelines them; the
sqlite3 module loops in C), never through ORM objects. Task ids and code
numbers are taken as blocks up front (SQLite: past the largest id, under the
write lock every write transaction holds; PostgreSQL: a block of the id
sequence; codes: one UPDATE of ``code_sequences``), so the tasks, their
co-units and their ``import`` events can be written without reading anything
back. Each ``import`` event joins the audit chains as a fired event does
(engine/domain/audit.py): its hash starts its task's chain, and the ledger
chain is extended in row order from the head, which is locked once and moved
once. Either all of it commits or none of it does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, overload

from ..domain.audit import GENESIS, EventFacts, RowFacts, TaskContent, canonical, chain_hash, event_hash
from ..domain.workflow import IMPORT_TRIGGER
from ..ledger.rows import LedgerRow, derive_title
from .sql import for_dialect
from .types import encode_date, encode_instant
from .uow import UnitOfWork

BATCH = 2000  # rows per executemany: memory for one batch of tuples, few round trips
LOOKUP_CHUNK = 500

TASK_COLUMNS = (
    "id",
    "code",
    "workflow",
    "workflow_version",
    "title",
    "problem",
    "measures",
    "category",
    "campaign",
    "unit_id",
    "responsible_person_id",
    "lead_leader_id",
    "deadline",
    "original_deadline",
    "deadline_expr",
    "ongoing",
    "deadline_version",
    "watch_from",
    "next_action_at",
    "escalation_level",
    "named_in_circular",
    "last_progress_at",
    "clock_stopped_at",
    "priority",
    "source_key",
    "fields",
    "state",
    "version",
    "created_at",
    "updated_at",
    "head_hash",
    "content_hash",
    "assigned_on",
    "closed_on",
    "target",
    "ledger_columns",
    "source",
    "source_ref",
    "source_date",
)
EVENT_COLUMNS = (
    "task_id",
    "seq",
    "trigger",
    "from_state",
    "to_state",
    "actor_id",
    "operator_id",
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
)
CO_UNIT_COLUMNS = ("task_id", "unit_id")


def insert_sql(table: str, columns: Sequence[str], dialect: str) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


@dataclass(frozen=True)
class Known:
    """What the database already holds of a file's rows."""

    by_key: dict[str, tuple[str, str | None]]  # source key → (code, what it says: its problem, else its title)
    by_code: dict[str, str | None]  # code → what it says


@dataclass(frozen=True)
class ImportPlan:
    """Everything the rows share: the workflow, who imports, when, from where, and how to plan the watch."""

    workflow: str
    workflow_version: str
    code_prefix: str
    year: int
    actor_id: str
    operator_id: str | None  # who keyed it in, where that is someone else (代录)
    account: str  # the account that runs the import (os:NAME, pg:ROLE): the database stamps the same
    now: datetime
    file: str
    sheet: str
    unit_ids: Mapping[str, int]
    attention: Callable[[str, date | None], datetime | None]  # next_action_at for a state and deadline
    clock_runs: Callable[[str], bool]
    via: str | None = None  # the signed-in account, when a service (the web workspace) imports for someone


class LedgerStore:
    """The import's statements, on the unit of work's DBAPI cursor and transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.dialect = uow.db.dialect
        self.cursor = uow.tasks.cursor

    def _execute(self, statement: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        self.cursor.execute(statement, params)
        return self.cursor

    def known(self, keys: Sequence[str], codes: Sequence[str]) -> Known:
        mark = "?" if self.dialect == "sqlite" else "%s"
        by_key: dict[str, tuple[str, str | None]] = {}
        by_code: dict[str, str | None] = {}
        for i in range(0, len(keys), LOOKUP_CHUNK):
            chunk = list(keys[i : i + LOOKUP_CHUNK])
            sql = f"SELECT source_key, code, COALESCE(problem, title) FROM tasks WHERE source_key IN ({', '.join([mark] * len(chunk))})"
            for key, code, problem in self._execute(sql, chunk).fetchall():
                by_key[key] = (code, problem)
        for i in range(0, len(codes), LOOKUP_CHUNK):
            chunk = list(codes[i : i + LOOKUP_CHUNK])
            sql = f"SELECT code, COALESCE(problem, title) FROM tasks WHERE code IN ({', '.join([mark] * len(chunk))})"
            for code, problem in self._execute(sql, chunk).fetchall():
                by_code[code] = problem
        return Known(by_key, by_code)

    def create_units(self, names: Iterable[str]) -> dict[str, int]:
        """Units a ledger names that the organisation lacks (``--create-units``): no parent, no head yet."""
        out = {}
        for name in names:
            row = self._execute(
                for_dialect("INSERT INTO units (name) VALUES (:n) RETURNING id", self.dialect), {"n": name}
            )
            out[name] = int(row.fetchone()[0])
        return out

    def allocate_codes(self, prefix: str, year: int, n: int) -> int:
        """The first of ``n`` consecutive code numbers; the row lock serialises concurrent assigns and imports."""
        last = self._execute(
            for_dialect(
                "INSERT INTO code_sequences (prefix, year, last) VALUES (:p, :y, :n) "
                "ON CONFLICT (prefix, year) DO UPDATE SET last = code_sequences.last + excluded.last RETURNING last",
                self.dialect,
            ),
            {"p": prefix, "y": year, "n": n},
        ).fetchone()[0]
        return int(last) - n + 1

    def allocate_ids(self, n: int) -> Sequence[int]:
        if self.dialect == "sqlite":  # BEGIN IMMEDIATE holds the write lock: nobody else adds tasks meanwhile
            top = int(self._execute("SELECT COALESCE(MAX(id), 0) FROM tasks").fetchone()[0])
            return range(top + 1, top + 1 + n)
        rows = self._execute(
            "SELECT nextval(pg_get_serial_sequence('tasks', 'id')) FROM generate_series(1, %s)", (n,)
        ).fetchall()
        return [int(r[0]) for r in rows]

    def chain_head(self) -> tuple[int, str]:
        """The chain's head, held until commit: events elsewhere wait rather than fork the chain."""
        lock = "" if self.dialect == "sqlite" else " FOR UPDATE"  # SQLite: BEGIN IMMEDIATE holds the write lock
        row = self._execute(f"SELECT seq, hash FROM chain_head WHERE id = 1{lock}").fetchone()
        if row is None:  # pragma: no cover - the head row is created with the schema
            raise RuntimeError("the chain head is missing")
        return int(row[0]), str(row[1])

    def move_chain_head(self, seq: int, chained: str) -> None:
        mark = "?" if self.dialect == "sqlite" else "%s"
        self._execute(f"UPDATE chain_head SET seq = {mark}, hash = {mark} WHERE id = 1", (seq, chained))

    def insert(
        self, tasks: list[tuple[Any, ...]], co_units: list[tuple[int, int]], events: list[tuple[Any, ...]]
    ) -> None:
        cur = self.cursor
        cur.executemany(insert_sql("tasks", TASK_COLUMNS, self.dialect), tasks)
        if co_units:
            cur.executemany(insert_sql("task_co_units", CO_UNIT_COLUMNS, self.dialect), co_units)
        cur.executemany(insert_sql("events", EVENT_COLUMNS, self.dialect), events)


class CodeBlock(Sequence[str]):
    """The codes of an import, ZG-2026-0101 … ZG-2026-0200, without holding 100,000 strings."""

    def __init__(self, prefix: str, year: int, first: int, n: int) -> None:
        self.prefix, self.year, self.first, self.n = prefix, year, first, n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return f"{self.prefix}-{self.year}-{self.first + i:04d}"


class ImportEvents:
    """The ``import`` events of one import: their stored data and their hashes.

    An event's hash covers ``duban.engine.domain.audit.canonical`` of it. For 100,000 rows that function (a dict,
    a sorted ``json.dumps``, an ``strftime``) would be a tenth of the import, so the canonical text is put
    together here from parts that are the same for every row of the import. The assembly is checked
    against ``canonical`` itself on the first event; should the two ever differ (the format moved on),
    every event goes through ``canonical`` instead, so a hash is never wrong, only slower.
    """

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        self._file = _compact(plan.file)
        self._sheet = _compact(plan.sheet)
        self._file_stored, self._sheet_stored = _stored(plan.file), _stored(plan.sheet)
        self._words: dict[str, tuple[str, str]] = {}
        self._prefix = (
            f'{{"account":{_compact(plan.account)},"actor":{_compact(plan.actor_id)},'
            f'"at":{_compact(_utc_text(plan.now))},"comment":null,"data":'
        )
        self._operator = f',"from":null,"operator":{_compact(plan.operator_id)},"row":'
        self._via = "" if plan.via is None else f',"via":{_compact(plan.via)}'
        self.fast: bool | None = None  # decided on the first event

    def data(self, r: LedgerRow) -> tuple[str, str]:
        """The event's data (file, sheet, row; the status word, note and closing date read): (canonical, stored)."""
        if r.note is None and r.closed_on is None and r.assigned_on is None and r.flags is None:
            word = r.status_word
            if word is None:
                status = ("", "")
            else:
                found = self._words.get(word)
                if found is None:
                    found = self._words[word] = (f',"status":{_compact(word)}', f', "status": {_stored(word)}')
                status = found
            compact = f'{{"file":{self._file},"row":{r.row},"sheet":{self._sheet}{status[0]}}}'
            stored = f'{{"file": {self._file_stored}, "row": {r.row}, "sheet": {self._sheet_stored}{status[1]}}}'
            return compact, stored
        data: dict[str, Any] = {"file": self.plan.file, "row": r.row, "sheet": self.plan.sheet}
        if r.status_word is not None:
            data["status"] = r.status_word
        if r.note is not None:
            data["note"] = r.note
        if r.closed_on is not None:
            data["closed_on"] = r.closed_on.isoformat()
        if r.assigned_on is not None:
            data["assigned_on"] = r.assigned_on.isoformat()
        if r.flags:
            data.update(r.flags)  # behind, percent, ongoing_measures: what the status word said
        return _compact(data), json.dumps(data, ensure_ascii=False, sort_keys=True)

    def hash(self, code: str, r: LedgerRow, compact_data: str, stored_data: str, row: dict[str, Any]) -> str:
        if self.fast is not False:
            deadline = "null" if r.deadline is None else f'"{r.deadline.isoformat()}"'
            text = (
                f'{self._prefix}{compact_data},"deadline":{deadline}{self._operator}{_compact(row)},"seq":1,"task":'
                f'{_compact(code)},"to":{_compact(r.state)},"trigger":"{IMPORT_TRIGGER}"{self._via}}}'
            )
            if self.fast is None:
                self.fast = text.encode("utf-8") == canonical(self._facts(code, r, stored_data, row))
            if self.fast:
                return hashlib.sha256(GENESIS.encode("ascii") + text.encode("utf-8")).hexdigest()
        return event_hash(self._facts(code, r, stored_data, row), GENESIS)

    def _facts(self, code: str, r: LedgerRow, stored_data: str, row: dict[str, Any]) -> EventFacts:
        p = self.plan
        data = json.loads(stored_data)
        return EventFacts(
            code,
            1,
            IMPORT_TRIGGER,
            None,
            r.state,
            p.actor_id,
            p.operator_id,
            None,
            p.now,
            data,
            r.deadline,
            account=p.account,
            row=row,
            via=p.via,
        )


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _stored(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_rows(
    store: LedgerStore,
    rows: list[LedgerRow],
    plan: ImportPlan,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> Sequence[str]:
    """Insert the rows as tasks, each with its co-units and one ``import`` event; returns their codes in order.

    ``rows`` is consumed, batch by batch: a row is released once written. The driver leaves a UTF-8 copy
    inside every text it binds, so rows kept to the end would hold their text twice by then.
    """
    n = len(rows)
    if n == 0:
        return []
    d = store.dialect
    first = store.allocate_codes(plan.code_prefix, plan.year, n)
    ids = store.allocate_ids(n)
    codes = CodeBlock(plan.code_prefix, plan.year, first, n)
    # The audit chains, computed here as the firing path computes them (engine/domain/audit.py): each task's
    # first event hashes over GENESIS, and every event extends the chain; the head moves once, at the end.
    position, chained = store.chain_head()
    events_of = ImportEvents(plan)
    now = encode_instant(plan.now, d)
    dates: dict[date, object] = {}
    watch: dict[tuple[str, date | None], tuple[object, object]] = {}

    def day(value: date | None) -> object:
        if value is None:
            return None
        encoded = dates.get(value)
        if encoded is None:
            encoded = dates[value] = encode_date(value, d)
        return encoded

    def watch_of(state: str, due: date | None) -> tuple[object, object]:
        """(next_action_at, clock_stopped_at): the same for every row with this state and deadline."""
        found = watch.get((state, due))
        if found is None:
            next_at = plan.attention(state, due)
            found = watch[(state, due)] = (
                None if next_at is None else encode_instant(next_at, d),
                None if plan.clock_runs(state) else now,
            )
        return found

    for start in range(0, n, batch):
        tasks: list[tuple[Any, ...]] = []
        co_units: list[tuple[int, int]] = []
        events: list[tuple[Any, ...]] = []
        chunk = rows[:batch]
        del rows[:batch]
        for i, r in enumerate(chunk, start):
            task_id, code = ids[i], codes[i]
            deadline = day(r.deadline)
            next_at, stopped = watch_of(r.state, r.deadline)
            compact_data, stored_data = events_of.data(r)
            title = r.title or derive_title(r.problem or "")
            unit_id = plan.unit_ids[r.unit]
            co_unit_ids = [plan.unit_ids[unit] for unit in r.co_units]
            content = TaskContent(
                workflow=plan.workflow,
                title=title,
                problem=r.problem,
                measures=tuple(json.loads(r.measures_json) if r.measures_json else ()),
                category=r.category,
                campaign=r.campaign,
                priority=r.priority,
                fields=r.fields or {},
                responsible_person=r.person_id,
                co_units=tuple(co_unit_ids),
                deadline_expr=r.deadline_expr,
                ongoing=bool(r.ongoing),
                source_key=r.key,
                target=r.target,
                ledger_columns=r.ledger_columns,
                assigned_on=r.assigned_on,
                closed_on=r.closed_on,
                source=r.source,
                source_ref=r.source_ref,
                source_date=r.source_date,
            ).digest()
            row = RowFacts(content, unit_id, r.leader_id, r.deadline, 1).to_json()
            own = events_of.hash(code, r, compact_data, stored_data, row)
            position += 1
            chained = chain_hash(chained, own)
            tasks.append(
                (
                    task_id,
                    code,
                    plan.workflow,
                    plan.workflow_version,
                    title,
                    r.problem,
                    r.measures_json,
                    r.category,
                    r.campaign,
                    unit_id,
                    r.person_id,
                    r.leader_id,
                    deadline,
                    deadline,
                    r.deadline_expr,
                    r.ongoing,
                    1,
                    now,
                    next_at,
                    0,
                    False,
                    None,
                    stopped,
                    r.priority,
                    r.key,
                    "{}" if r.fields is None else json.dumps(r.fields, ensure_ascii=False, sort_keys=True),
                    r.state,
                    1,
                    now,
                    now,
                    own,
                    content,
                    day(r.assigned_on),
                    day(r.closed_on),
                    r.target,
                    None if r.ledger_columns is None else json.dumps(r.ledger_columns, ensure_ascii=False),
                    r.source,
                    r.source_ref,
                    day(r.source_date),
                )
            )
            for unit_id in co_unit_ids:
                co_units.append((task_id, unit_id))
            events.append(
                (
                    task_id,
                    1,
                    IMPORT_TRIGGER,
                    None,
                    r.state,
                    plan.actor_id,
                    plan.operator_id,
                    None,
                    now,
                    stored_data,
                    deadline,
                    own,
                    position,
                    chained,
                    plan.account,
                    json.dumps(row, ensure_ascii=False, sort_keys=True),
                    plan.via,
                )
            )
        store.insert(tasks, co_units, events)
        del chunk, tasks, co_units, events
        if progress is not None:
            progress(min(start + batch, n))
    store.move_chain_head(position, chained)
    return codes
