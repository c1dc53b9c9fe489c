"""The ledger as it stood at an instant, rebuilt from the event history.

Each task's last event at or before the instant gives its state and the
deadline then in force (events carry it), so a report or an export for a past
date reads the same however the tasks have moved since.

A task row changes only with an event, and takes that event's instant as its
``updated_at``: a task untouched since the instant still stands as it stood
then. So only the tasks updated later need their events read, and a circular
for last week over millions of events reads the few thousand tasks that moved
this week.

A ledger imported after the instant describes tasks assigned, and many closed, before it: as of a day
before the import they stand as the file described them (``imported_before``), dated by its 交办日期 and
销号日期, and the circular says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Subquery, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from .models import Event, Task


@dataclass(frozen=True)
class LedgerColumns:
    """A task's columns as a report reads them: the fixed ones from its row, state and deadline as of a time."""

    task_id: Any
    code: Any
    title: Any
    workflow: Any
    unit_id: Any
    category: Any
    campaign: Any
    lead_leader_id: Any
    original_deadline: Any
    state: Any
    deadline: Any
    at: Any  # the instant of the event that gave the state
    source_key: Any  # not NULL: the task came from an imported ledger
    created_at: Any  # the instant the task was written (an imported task's import instant)
    assigned_on: Any  # 交办日期; NULL on old imported data
    closed_on: Any  # the closing date an imported ledger gave; NULL: native, or unknown
    priority: Any  # 高/中/低: what a score weighs the task by
    source: Any  # 问题来源 (立项): fixed when the task is written
    parent_id: Any  # 分解: the task it was split from (NULL: a top task); fixed when the task is written


Where = Callable[[LedgerColumns], list[ColumnElement[bool]]]


def imported_rows(source_key: Any) -> ColumnElement[bool]:
    """Tasks that came from an imported ledger, as a filter that can walk the unique index on ``source_key``.

    Every text is at least the empty one, so this is ``IS NOT NULL``; SQLite's planner reads an index for
    the range but scans the whole table for ``IS NOT NULL``, and imported tasks are usually few.
    """
    return source_key >= literal("")


def _row_columns(state: Any, deadline: Any, at: Any, unit_id: Any = Task.unit_id) -> LedgerColumns:
    return LedgerColumns(
        Task.id,
        Task.code,
        Task.title,
        Task.workflow,
        unit_id,
        Task.category,
        Task.campaign,
        Task.lead_leader_id,
        Task.original_deadline,
        state,
        deadline,
        at,
        Task.source_key,
        Task.created_at,
        Task.assigned_on,
        Task.closed_on,
        Task.priority,
        Task.source,
        Task.parent_id,
    )


def _select(cols: LedgerColumns) -> Any:
    return select(
        cols.task_id.label("task_id"),
        cols.code.label("code"),
        cols.title.label("title"),
        cols.workflow.label("workflow"),
        cols.unit_id.label("unit_id"),
        cols.category.label("category"),
        cols.campaign.label("campaign"),
        cols.lead_leader_id.label("lead_leader_id"),
        cols.original_deadline.label("original_deadline"),
        cols.state.label("state"),
        cols.deadline.label("deadline"),
        cols.at.label("at"),
        cols.source_key.label("source_key"),
        cols.created_at.label("created_at"),
        cols.assigned_on.label("assigned_on"),
        cols.closed_on.label("closed_on"),
        cols.priority.label("priority"),
        cols.source.label("source"),
        cols.parent_id.label("parent_id"),
    )


def ledger_now(where: Where | None = None) -> Subquery:
    """The tasks as they stand."""
    cols = _row_columns(Task.state, Task.deadline, Task.updated_at)
    return _select(cols).where(*(where(cols) if where else [])).subquery("ledger")


@dataclass(frozen=True)
class ImportedBefore:
    """How to stand a task imported after the instant as of ``day``, by its ledger's own dates.

    ``closed`` are the (workflow, state) pairs a circular counts as closed; ``open_state`` per workflow is
    the state a task the ledger closed after ``day`` stood in on that day (整改中).
    """

    day: date
    closed: tuple[tuple[str, str], ...]
    open_state: dict[str, str]


def _imported_later(at: datetime, how: ImportedBefore, where: Where | None) -> Any:
    """Tasks imported after ``at`` whose ledger says they were assigned by ``how.day``, as the file described them.

    A task the ledger closed after that day was still open then; one it closed on an unknown date stands
    closed, its punctuality unknown (the report's rules for an import's closing date apply: ``at`` is the
    import instant). A task without a 交办日期 cannot be placed in time and is left out.
    """
    first_seq = select(func.min(Event.seq)).where(Event.task_id == Task.id).correlate(Task).scalar_subquery()
    closed_by_workflow: dict[str, list[str]] = {}
    for workflow, key in how.closed:
        closed_by_workflow.setdefault(workflow, []).append(key)
    reopen = [
        (and_(Task.workflow == w, Event.to_state.in_(states), Task.closed_on > how.day), how.open_state[w])
        for w, states in sorted(closed_by_workflow.items())
        if w in how.open_state
    ]
    state: Any = case(*reopen, else_=Event.to_state) if reopen else Event.to_state
    cols = _row_columns(state, Event.deadline, Task.created_at)
    return (
        _select(cols)
        .select_from(Task)
        .join(Event, and_(Event.task_id == Task.id, Event.seq == first_seq))
        .where(
            imported_rows(Task.source_key),
            Task.created_at > at,
            Task.assigned_on.is_not(None),
            Task.assigned_on <= how.day,
            *(where(cols) if where else []),
        )
    )


def _unit_then() -> Any:
    """The unit that held the task after the event (转办/退办 move it); events before 0007 carry none, and
    no task changed unit before then."""
    return func.coalesce(Event.unit_id, Task.unit_id)


def ledger_at(at: datetime, where: Where | None = None, imported: ImportedBefore | None = None) -> Subquery:
    """The tasks as they stood at ``at``; ``where`` is applied inside each branch, so it can use the indexes.

    Unchanged tasks are a scan of most of the table, so their branch must not walk the ``updated_at``
    index (coalesce keeps the planner off it); the moved ones start from that index and read each one's
    latest event up to ``at`` by the (task_id, seq) key.
    """
    unchanged = _row_columns(Task.state, Task.deadline, Task.updated_at)
    latest_seq = (
        select(func.max(Event.seq)).where(Event.task_id == Task.id, Event.at <= at).correlate(Task).scalar_subquery()
    )
    moved = _row_columns(Event.to_state, Event.deadline, Event.at, _unit_then())
    parts = [
        _select(unchanged).where(
            func.coalesce(Task.updated_at, Task.updated_at) <= at, *(where(unchanged) if where else [])
        ),
        _select(moved)
        .select_from(Task)
        .join(Event, and_(Event.task_id == Task.id, Event.seq == latest_seq))
        .where(Task.updated_at > at, *(where(moved) if where else [])),
    ]
    if imported is not None:
        parts.append(_imported_later(at, imported, where))
    return union_all(*parts).subquery("ledger")


def ledger_from_events(at: datetime, where: Where | None = None, imported: ImportedBefore | None = None) -> Subquery:
    """The tasks as they stood at ``at``, every one from its latest event then: one pass over the events.

    Cheaper than ``ledger_at`` when most tasks have moved since (a date far back).
    """
    latest = (
        select(Event.task_id, func.max(Event.seq).label("seq"))
        .where(Event.at <= at)
        .group_by(Event.task_id)
        .subquery("latest")
    )
    cols = _row_columns(Event.to_state, Event.deadline, Event.at, _unit_then())
    replayed = (
        _select(cols)
        .select_from(latest)
        .join(Event, and_(Event.task_id == latest.c.task_id, Event.seq == latest.c.seq))
        .join(Task, Task.id == Event.task_id)
        .where(*(where(cols) if where else []))
    )
    if imported is None:
        return replayed.subquery("ledger")
    return union_all(replayed, _imported_later(at, imported, where)).subquery("ledger")


def moved_share(conn: Connection, at: datetime) -> float:
    """The share of tasks changed after ``at``, counted by the index: it decides how to rebuild the past."""
    total = conn.execute(select(func.count()).select_from(Task)).scalar() or 0
    if not total:
        return 0.0
    moved = conn.execute(select(func.count()).select_from(Task).where(Task.updated_at > at)).scalar() or 0
    return moved / total


def ledger_as_of(at: datetime) -> Subquery:
    """Columns task_id, state, deadline, seq, at, from the events alone (the plain way; exports use it)."""
    latest = (
        select(Event.task_id, func.max(Event.seq).label("seq"))
        .where(Event.at <= at)
        .group_by(Event.task_id)
        .subquery("latest")
    )
    return (
        select(
            Event.task_id,
            Event.to_state.label("state"),
            Event.deadline.label("deadline"),
            Event.seq,
            Event.at,
        )
        .join(latest, and_(Event.task_id == latest.c.task_id, Event.seq == latest.c.seq))
        .subquery("asof")
    )


PAIR_EXTRA = ("prev_state", "prev_deadline", "prev_at")


def _pair_select(cols: LedgerColumns, prev_state: Any, prev_deadline: Any, prev_at: Any, prev_unit: Any) -> Any:
    return _select(cols).add_columns(
        prev_state.label("prev_state"),
        prev_deadline.label("prev_deadline"),
        prev_at.label("prev_at"),
        prev_unit.label("prev_unit_id"),  # 转办/退办 may have moved it since
    )


def _unit_of(event: Any) -> Any:
    """The unit that held the task after ``event`` (an alias of Event); before 0007 events carry none."""
    return func.coalesce(event.unit_id, Task.unit_id)


def _held(unit_id: int | None, *units: Any) -> list[ColumnElement[bool]]:
    """The pair's filter on the unit: held by ``unit_id`` at one of the instants (``units``), if one is asked."""
    if unit_id is None:
        return []
    return [or_(*(unit == unit_id for unit in units))]


def _latest_seq(at: datetime) -> Any:
    return select(func.max(Event.seq)).where(Event.task_id == Task.id, Event.at <= at).correlate(Task).scalar_subquery()


def ledger_pair(
    at: datetime | None, before: datetime, where: Where | None = None, unit_id: int | None = None
) -> Subquery:
    """Every task as it stood at ``at`` (None: as it stands now) and at ``before``, in one row and one pass.

    A circular needs both instants (its period's end, and the previous period's for the comparison); one
    pass over the tasks gives both, instead of one pass each. Columns as ``ledger_at``, plus ``prev_state``,
    ``prev_deadline`` and ``prev_at``. A task that did not yet exist at an instant has NULL there.
    Tasks untouched since ``before`` come from their row (both instants alike); moved ones read their latest
    event up to each instant by the (task_id, seq) key, as ``ledger_at`` does.

    ``where`` sees the task's fixed columns; ``unit_id`` keeps the tasks that unit held at either instant
    (转办 may have moved them since), and the reader credits each instant to the unit that held it then.
    """
    e_now, e_prev = aliased(Event), aliased(Event)
    row = _row_columns(Task.state, Task.deadline, Task.updated_at)
    filters = where(row) if where else []
    unchanged = _pair_select(row, Task.state, Task.deadline, Task.updated_at, Task.unit_id).where(
        func.coalesce(Task.updated_at, Task.updated_at) <= before, *filters, *_held(unit_id, Task.unit_id)
    )
    prev_join = and_(e_prev.task_id == Task.id, e_prev.seq == _latest_seq(before))
    moved_row = (
        _pair_select(row, e_prev.to_state, e_prev.deadline, e_prev.at, _unit_of(e_prev))
        .select_from(Task)
        .outerjoin(e_prev, prev_join)
        .where(Task.updated_at > before, *filters, *_held(unit_id, Task.unit_id, _unit_of(e_prev)))
    )
    if at is None:
        return union_all(unchanged, moved_row).subquery("ledger")
    moved_row = moved_row.where(Task.updated_at <= at)
    now_cols = _row_columns(e_now.to_state, e_now.deadline, e_now.at, _unit_of(e_now))
    moved_events = (
        _pair_select(now_cols, e_prev.to_state, e_prev.deadline, e_prev.at, _unit_of(e_prev))
        .select_from(Task)
        .outerjoin(e_now, and_(e_now.task_id == Task.id, e_now.seq == _latest_seq(at)))
        .outerjoin(e_prev, prev_join)
        .where(Task.updated_at > at, *filters, *_held(unit_id, _unit_of(e_now), _unit_of(e_prev)))
    )
    return union_all(unchanged, moved_row, moved_events).subquery("ledger")


def ledger_pair_from_events(
    at: datetime | None, before: datetime, where: Where | None = None, unit_id: int | None = None
) -> Subquery:
    """``ledger_pair`` from one pass over the events: cheaper when most tasks moved since ``before``."""
    e_now, e_prev = aliased(Event), aliased(Event)
    horizon = [] if at is None else [Event.at <= at]
    now_seq = func.max(Event.seq) if at is None else func.max(case((Event.at <= at, Event.seq)))
    latest = (
        select(
            Event.task_id,
            now_seq.label("now_seq"),
            func.max(case((Event.at <= before, Event.seq))).label("prev_seq"),
        )
        .where(*horizon)
        .group_by(Event.task_id)
        .subquery("latest")
    )
    if at is None:
        cols = _row_columns(Task.state, Task.deadline, Task.updated_at)
        query = _pair_select(cols, e_prev.to_state, e_prev.deadline, e_prev.at, _unit_of(e_prev)).select_from(Task)
    else:
        cols = _row_columns(e_now.to_state, e_now.deadline, e_now.at, _unit_of(e_now))
        query = (
            _pair_select(cols, e_prev.to_state, e_prev.deadline, e_prev.at, _unit_of(e_prev))
            .select_from(Task)
            .join(latest, latest.c.task_id == Task.id)
            .join(e_now, and_(e_now.task_id == Task.id, e_now.seq == latest.c.now_seq))
        )
    if at is None:
        query = query.outerjoin(latest, latest.c.task_id == Task.id)
    query = query.outerjoin(e_prev, and_(e_prev.task_id == Task.id, e_prev.seq == latest.c.prev_seq))
    held = _held(unit_id, cols.unit_id, _unit_of(e_prev))
    return query.where(*(where(cols) if where else []), *held).subquery("ledger")
