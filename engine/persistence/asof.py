"""The ledger as it stood at an instant, rebuilt from the event history.

Each task's last event at or before the instant gives its state and the
deadline then in force (events carry it), so a report or an export for a past
date reads the same however the tasks have moved since.

A task row changes only with an event, and takes that event's instant as its
``updated_at``: a task untouched since the instant still stands as it stood
then. So only the tasks updated later need their events read, and a circular
for last week over millions of events reads the few thousand tasks that moved
this week.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Subquery, and_, func, select, union_all

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
    source: Any  # 问题来源 (立项): fixed when the task is written


Where = Callable[[LedgerColumns], list[ColumnElement[bool]]]


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
        Task.source,
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
        cols.source.label("source"),
    )


def ledger_now(where: Where | None = None) -> Subquery:
    """The tasks as they stand."""
    cols = _row_columns(Task.state, Task.deadline, Task.updated_at)
    return _select(cols).where(*(where(cols) if where else [])).subquery("ledger")


def _unit_then() -> Any:
    """The unit that held the task after the event (转办/退办 move it); events before 0007 carry none, and
    no task changed unit before then."""
    return func.coalesce(Event.unit_id, Task.unit_id)


def ledger_at(at: datetime, where: Where | None = None) -> Subquery:
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
    return union_all(
        _select(unchanged).where(
            func.coalesce(Task.updated_at, Task.updated_at) <= at, *(where(unchanged) if where else [])
        ),
        _select(moved)
        .select_from(Task)
        .join(Event, and_(Event.task_id == Task.id, Event.seq == latest_seq))
        .where(Task.updated_at > at, *(where(moved) if where else [])),
    ).subquery("ledger")


def ledger_from_events(at: datetime, where: Where | None = None) -> Subquery:
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
    return (
        _select(cols)
        .select_from(latest)
        .join(Event, and_(Event.task_id == latest.c.task_id, Event.seq == latest.c.seq))
        .join(Task, Task.id == Event.task_id)
        .where(*(where(cols) if where else []))
        .subquery("ledger")
    )


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
