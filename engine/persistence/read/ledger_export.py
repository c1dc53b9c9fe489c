"""The ledger export's queries: one row per task with the ledger's columns, and what each row adds from
the history (co-units, the last progress note, the import's own data, when the task closed).

The per-task additions are read in chunks of ids, one query per chunk, so an export of a hundred
thousand tasks costs a few hundred short queries and never one per task.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select
from sqlalchemy.orm import aliased

from ...domain.workflow import IMPORT_TRIGGER
from ..asof import ledger_as_of
from ..models import Event, Person, ProgressReport, Task, TaskCoUnit, Unit
from .ledger_page import LedgerQuery, ledger_where

_Leader = aliased(Person)
_Responsible = aliased(Person)


@dataclass(frozen=True)
class ExportQuery:
    """Which tasks the file holds; ``end`` set: states and deadlines as they stood then (from the events)."""

    end: datetime | None = None
    campaign: str | None = None
    workflow: str | None = None
    unit_id: int | None = None
    states: tuple[str, ...] = ()
    page: LedgerQuery | None = None  # the web ledger's filters, visibility included
    source: str | None = None
    without_source: bool = False  # tasks that cite no source (``source`` is then ignored)


class ExportRow(NamedTuple):
    id: int
    code: str
    workflow: str
    title: str
    problem: str | None
    measures: list[str] | None
    category: str | None
    campaign: str | None
    lead_leader_id: str | None
    responsible_person_id: str | None
    ongoing: bool | None
    fields: dict[str, Any] | None
    priority: str | None
    deadline_expr: str | None
    assigned_on: date | None
    target: str | None
    ledger_columns: list[Any] | None
    sign_by: date | None
    signed_at: datetime | None
    source: str | None
    source_ref: str | None
    source_date: date | None
    unit_name: str
    leader_name: str | None
    person_name: str | None
    state_at: str  # the state in force (now, or at ``end``)
    deadline_at: date | None


class ClosedEntry(NamedTuple):
    """When a task last entered 'closed' and by which trigger."""

    at: datetime
    trigger: str


@dataclass
class ExportRows:
    tasks: list[ExportRow]
    co_units: dict[int, list[str]] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)  # the last progress note by the end
    imported: dict[int, dict[str, Any]] = field(default_factory=dict)  # the import event's data
    closed_on: dict[int, ClosedEntry] = field(default_factory=dict)


class LedgerExportReads:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def rows(self, q: ExportQuery) -> ExportRows:
        columns = (
            Task.id,
            Task.code,
            Task.workflow,
            Task.title,
            Task.problem,
            Task.measures,
            Task.category,
            Task.campaign,
            Task.lead_leader_id,
            Task.responsible_person_id,
            Task.ongoing,
            Task.fields,
            Task.priority,
            Task.deadline_expr,
            Task.assigned_on,
            Task.target,
            Task.ledger_columns,
            Task.sign_by,
            Task.signed_at,
            Task.source,
            Task.source_ref,
            Task.source_date,
            Unit.name.label("unit_name"),
            _Leader.name.label("leader_name"),
            _Responsible.name.label("person_name"),
        )
        state_col: Any
        if q.end is None:
            query = select(*columns, Task.state.label("state_at"), Task.deadline.label("deadline_at"))
            state_col = Task.state
        else:
            asof = ledger_as_of(q.end)
            query = select(*columns, asof.c.state.label("state_at"), asof.c.deadline.label("deadline_at")).join(
                asof, asof.c.task_id == Task.id
            )
            state_col = asof.c.state
        query = (
            query.join(Unit, Unit.id == Task.unit_id)
            .outerjoin(_Leader, _Leader.id == Task.lead_leader_id)
            .outerjoin(_Responsible, _Responsible.id == Task.responsible_person_id)
        )
        where: list[ColumnElement[bool]] = []
        if q.campaign:
            where.append(Task.campaign == q.campaign)
        if q.workflow:
            where.append(Task.workflow == q.workflow)
        if q.unit_id is not None:
            where.append(Task.unit_id == q.unit_id)
        if q.states:
            where.append(state_col.in_(q.states))
        if q.page is not None:
            where += ledger_where(q.page)
        if q.without_source:
            where.append(Task.source.is_(None))
        elif q.source is not None:
            where.append(Task.source == q.source)
        tasks = [ExportRow._make(r) for r in self._conn.execute(query.where(*where).order_by(Task.id))]
        ids = [t.id for t in tasks]
        return ExportRows(
            tasks,
            co_units=self._co_units(ids),
            notes=self._last_notes(ids, q.end),
            imported=self._import_data(ids),
            closed_on=self._closed_on(ids, q.end),
        )

    def _co_units(self, ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for chunk in _chunks(ids):
            for task_id, name in self._conn.execute(
                select(TaskCoUnit.task_id, Unit.name)
                .join(Unit, Unit.id == TaskCoUnit.unit_id)
                .where(TaskCoUnit.task_id.in_(chunk))
                .order_by(TaskCoUnit.task_id, Unit.id)
            ):
                out.setdefault(task_id, []).append(name)
        return out

    def _last_notes(self, ids: list[int], end: datetime | None) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in _chunks(ids):
            latest = select(func.max(ProgressReport.id)).where(ProgressReport.task_id.in_(chunk))
            if end is not None:
                latest = latest.where(ProgressReport.at <= end)
            latest = latest.group_by(ProgressReport.task_id)
            for task_id, note in self._conn.execute(
                select(ProgressReport.task_id, ProgressReport.note).where(
                    ProgressReport.id.in_(latest.scalar_subquery())
                )
            ):
                out[task_id] = note
        return out

    def _import_data(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """The import event's data: the ledger's own progress note and closing date, where the task came from one."""
        out: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for task_id, data in self._conn.execute(
                select(Event.task_id, Event.data).where(
                    Event.task_id.in_(chunk), Event.seq == 1, Event.trigger == IMPORT_TRIGGER
                )
            ):
                out[task_id] = data or {}
        return out

    def _closed_on(self, ids: list[int], end: datetime | None) -> dict[int, ClosedEntry]:
        """When each task last entered 'closed' (by the end of the as-of day), and by which trigger."""
        out: dict[int, ClosedEntry] = {}
        for chunk in _chunks(ids):
            query = select(Event.task_id, Event.at, Event.trigger).where(
                Event.task_id.in_(chunk),
                Event.to_state == "closed",
                or_(Event.from_state.is_(None), and_(Event.from_state != "closed")),
            )
            if end is not None:
                query = query.where(Event.at <= end)
            for task_id, at, trigger in self._conn.execute(query.order_by(Event.task_id, Event.seq)):
                out[task_id] = ClosedEntry(at, trigger)
        return out


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
