"""The ledger as it stood at an instant, rebuilt from the event history alone.

Each task's last event at or before the instant gives its state and the
deadline then in force (events carry it), so a report or an export for a past
date reads the same however the tasks have moved since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Subquery, and_, func, select

from .models import Event


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
