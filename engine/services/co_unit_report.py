"""The circular's section on co-units' late parts (牵头/配合), replayed from the events up to its date.

A task counts for its lead unit alone; a co-unit late with its part is shown here, apart, so the lead unit
is not blamed for another unit's delay and the co-unit is not let off. Each part's days are in the assign
event and each step is an event, so a circular for a past day reads the same next year.
"""

from __future__ import annotations

from datetime import date, datetime

from ..app import App
from ..domain.co_units import PART_LABELS, replay_parts
from ..domain.report import LateCoUnitPart
from ..persistence.uow import UnitOfWork


def late_parts(
    app: App, uow: UnitOfWork, tasks: list[tuple[int, str, str, str]], until: datetime, day: date
) -> list[LateCoUnitPart]:
    """Parts late at ``day`` (not reported by their report-by day, or reported after it), the latest first.

    ``tasks`` are the circular's tasks with co-units at ``day`` (task id, code, title, lead unit): its one
    as-of pass names them (report_queries.circular_pass), or ``co_units.tasks_with_parts`` does.
    """
    if not tasks:
        return []
    current = uow.co_units.parts_of([t[0] for t in tasks], app.tz)
    # A part's report-by day is fixed at assignment: only one due before ``day`` and not settled by its day
    # can be late at ``day``; the history of those tasks alone is replayed.
    maybe = {
        task_id
        for task_id, parts in current.items()
        for p in parts
        if p.report_by is not None and p.report_by < day and not (p.settled_on and p.settled_on <= p.report_by)
    }
    tasks = [t for t in tasks if t[0] in maybe]
    history = uow.co_units.history([t[0] for t in tasks], until) if tasks else {}
    out: list[LateCoUnitPart] = []
    for task_id, code, title, unit in tasks:
        still = {p.unit_id for p in current.get(task_id, [])}  # a co-unit that became the lead unit has no part
        events = [
            (trigger, at.astimezone(app.tz).date(), data, comment)
            for trigger, at, data, comment in history.get(task_id, [])
        ]
        for part in replay_parts(events, current.get(task_id, [])).values():
            late = part.days_late(day, app.calendar)
            if part.unit_id in still and late and part.report_by is not None:
                reported = part.settled_on if part.state == "reported" else None
                out.append(LateCoUnitPart(code, title, unit, part.unit, part.report_by, reported, late))
    out.sort(key=lambda p: (-p.days_late, p.code, p.co_unit))
    return out


def export_parts(app: App, uow: UnitOfWork, task_ids: list[int], end: datetime | None, lang: str) -> dict[int, str]:
    """配合情况 for an export: each co-unit's part, as it stands (``end`` None) or stood at ``end``."""
    current = uow.co_units.parts_of(task_ids, app.tz)
    if end is not None and current:
        history = uow.co_units.history(sorted(current), end)
        current = {
            task_id: sorted(
                replay_parts(
                    [(t, at.astimezone(app.tz).date(), data, c) for t, at, data, c in history.get(task_id, [])], parts
                ).values(),
                key=lambda p: p.unit,
            )
            for task_id, parts in current.items()
        }
    sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
    pick = 0 if lang == "zh" else 1
    return {
        task_id: sep.join(f"{p.unit}{colon}{PART_LABELS[p.state][pick]}" for p in parts)
        for task_id, parts in current.items()
    }
