"""The ledger as it stood at an instant, rebuilt from the event history.

Each task's last event at or before the instant gives its state and the
deadline then in force (events carry it), so a report or an export for a past
date reads the same however the tasks have moved since.

A task row changes only with an event, and takes that event's instant as its
``updated_at``: a task untouched since the instant still stands as it stood
then. So only the tasks updated later need their events read
(``ledger_since``), and a circular for last week over millions of events reads
the few thousand tasks that moved this week.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Subquery, and_, func, select, union_all

from .models import Event, Task


def ledger_as_of(at: datetime) -> Subquery:
    """Columns: task_id, state, deadline, seq, at (of that last event). Tasks created later are absent."""
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


def ledger_at(at: datetime) -> Subquery:
    """Same columns as ``ledger_as_of``; reads events only for the tasks that changed after ``at``."""
    unchanged = select(
        Task.id.label("task_id"),
        Task.state.label("state"),
        Task.deadline.label("deadline"),
        Task.version.label("seq"),
        Task.updated_at.label("at"),
    ).where(Task.updated_at <= at)
    latest = (
        select(Event.task_id, func.max(Event.seq).label("seq"))
        .join(Task, Task.id == Event.task_id)
        .where(Task.updated_at > at, Event.at <= at)
        .group_by(Event.task_id)
        .subquery("latest")
    )
    changed = select(
        Event.task_id, Event.to_state.label("state"), Event.deadline.label("deadline"), Event.seq, Event.at
    ).join(latest, and_(Event.task_id == latest.c.task_id, Event.seq == latest.c.seq))
    return union_all(unchanged, changed).subquery("asof")
