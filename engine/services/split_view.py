"""分解: a parent's roll-up as ``show`` presents it — its sub-tasks, n of m closed, the latest notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..app import App
from ..domain.text import Bilingual
from ..persistence.uow import UnitOfWork

LATEST_NOTES = 3  # the roll-up quotes this many of the sub-tasks' latest progress notes, newest first


@dataclass(frozen=True)
class SubTaskView:
    code: str
    title: str
    unit: str
    state: str
    state_label: Bilingual
    deadline: date | None
    closed: bool  # in a state the circular counts as closed (销号, or closed out)
    open: bool  # not in a final state: the parent waits for it
    percent: int | None  # its latest progress report
    note: str | None
    noted_at: datetime | None


@dataclass(frozen=True)
class RollUp:
    total: int
    closed: int
    open: int
    latest_notes: list[SubTaskView]  # the sub-tasks with a note, newest note first


def sub_task_views(app: App, uow: UnitOfWork, task_id: int) -> tuple[list[SubTaskView], RollUp | None]:
    """Read through the task page's driver queries, which load no SQLAlchemy (``show``)."""
    views = []
    for r in uow.task_page.children(task_id):
        spec = app.registry.find(r.workflow)
        st = spec.states.get(r.state) if spec else None
        label = st.label if st else Bilingual(r.state, r.state)
        views.append(
            SubTaskView(
                r.code,
                r.title,
                r.unit,
                r.state,
                label,
                r.deadline,
                bool(st and st.report == "closed"),
                not (st and st.final),
                r.percent,
                r.note,
                r.noted_at,
            )
        )
    if not views:
        return views, None
    noted = sorted((v for v in views if v.noted_at is not None), key=lambda v: v.noted_at or datetime.min)
    latest = list(reversed(noted))[:LATEST_NOTES]
    return views, RollUp(len(views), sum(v.closed for v in views), sum(v.open for v in views), latest)
