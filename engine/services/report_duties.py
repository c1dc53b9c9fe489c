"""Periodic reporting duties (定期填报): a task's duties for ``show`` and ``list``, per-unit counts for a
circular, per-task late and missed counts for the score, all replayed from the history for a date.

The arithmetic is the domain's (``engine.domain.cadence``); this module reads the histories through the
read model and hands each task its workflow's cadence (or its campaign's).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

from ..app import App
from ..domain.cadence import Cadence, Duty, ReportingPolicy, Tally, duties, history
from ..domain.text import Bilingual
from ..domain.workflow import WorkflowSpec
from ..persistence.uow import UnitOfWork

if TYPE_CHECKING:  # the many-task read loads SQLAlchemy; one task's (show) does not
    from ..persistence.read.report_duties import DutySource
    from ..persistence.read.task_page import DutyRow

T = TypeVar("T")


@dataclass(frozen=True)
class DutyView:
    """What ``show`` and ``list`` say of a task's periodic reports."""

    code: str
    cadence: Bilingual
    next_due: datetime | None  # the next due instant not yet reported for; None once the task owes nothing
    reported_ahead: bool  # the next duty has its report already
    missed: tuple[date, ...]  # 漏报: due days without a report
    late: tuple[date, ...]  # 迟报: due days reported for after the due instant
    tally: Tally

    def to_dict(self) -> dict[str, object]:
        return {
            "cadence": self.cadence.zh,
            "cadence_en": self.cadence.en,
            "next_report_due": self.next_due,
            "next_report_done": self.reported_ahead,
            "reports_due": self.tally.due,
            "reports_on_time": self.tally.on_time,
            "reports_late": self.tally.late,
            "reports_missed": self.tally.missed,
            "late_report_days": list(self.late),
            "missed_report_days": list(self.missed),
        }


def reporting_workflows(app: App) -> list[WorkflowSpec]:
    return [s for s in app.registry.specs if s.reporting is not None]


def ongoing_only(app: App) -> frozenset[str]:
    """The workflows that ask only their 长期坚持 tasks for periodic reports: the read skips the others."""
    return frozenset(s.name for s in reporting_workflows(app) if s.reporting and s.reporting.tasks == "ongoing")


def _cadence(spec: WorkflowSpec, src: DutySource | DutyRow) -> tuple[ReportingPolicy, Cadence] | None:
    policy = spec.reporting
    if policy is None:
        return None
    cadence = policy.cadence_for(src.campaign, src.ongoing)
    return (policy, cadence) if cadence is not None else None


def task_duty_list(
    app: App, src: DutySource | DutyRow, at: datetime
) -> tuple[ReportingPolicy, Cadence, list[Duty]] | None:
    """A task's duties as of ``at``, or None if its workflow asks it for no periodic reports."""
    spec = app.registry.find(src.workflow)
    found = _cadence(spec, src) if spec is not None else None
    if spec is None or found is None:
        return None
    policy, cadence = found
    h = history(src.steps, spec.reporting_states(), policy.trigger, at)
    return policy, cadence, duties(cadence, policy.due_at, h, at, app.calendar, app.tz)


def _view(src: DutySource | DutyRow, cadence: Cadence, found: list[Duty]) -> DutyView:
    coming = next((d for d in found if d.status == "open"), None)
    t = Tally()
    for d in found:
        t = t.add(d)
    return DutyView(
        code=src.code,
        cadence=cadence.label(),
        next_due=coming.due if coming is not None else None,
        reported_ahead=bool(coming and coming.reported_at),
        missed=tuple(d.day for d in found if d.status == "missed"),
        late=tuple(d.day for d in found if d.status == "late"),
        tally=t,
    )


def duty_views(app: App, uow: UnitOfWork, codes: Sequence[str], at: datetime | None = None) -> dict[str, DutyView]:
    """The duties of these tasks (a page of a list, one task shown), by code; tasks without duties are absent."""
    at = at or app.clock.now()
    workflows = [s.name for s in reporting_workflows(app)]
    out: dict[str, DutyView] = {}
    for src in uow.report_duties.sources(
        workflows=workflows, until=at, codes=list(codes), ongoing_only=ongoing_only(app)
    ):
        found = task_duty_list(app, src, at)
        if found is not None:
            out[src.code] = _view(src, found[1], found[2])
    return out


def page_duties(app: App, codes: Sequence[str]) -> dict[str, DutyView]:
    """The duties of a page of tasks, now; nothing is read when no workflow asks for periodic reports."""
    if not codes or not reporting_workflows(app):
        return {}
    with app.uow(write=False) as uow:
        return duty_views(app, uow, codes)


def task_duties(app: App, code: str, at: datetime | None = None) -> DutyView | None:
    """One task's periodic reports, or None if it owes none (its workflow or campaign asks for none)."""
    if not reporting_workflows(app):
        return None
    at = at or app.clock.now()
    with app.uow(write=False) as uow:  # one task: the task page's driver query, no SQLAlchemy
        src = uow.task_page.duty_source(
            code, workflows=[s.name for s in reporting_workflows(app)], until=at, ongoing_only=ongoing_only(app)
        )
    found = task_duty_list(app, src, at) if src is not None else None
    return _view(src, found[1], found[2]) if src is not None and found is not None else None


def with_duties(
    app: App, rows: Iterable[T], code_of: Callable[[T], str], chunk: int = 500
) -> Iterator[tuple[T, DutyView | None]]:
    """Each row of a listing with its task's duties, read a chunk of rows at a time."""
    it = iter(rows)
    while batch := list(itertools.islice(it, chunk)):
        views = page_duties(app, [code_of(r) for r in batch])
        for r in batch:
            yield r, views.get(code_of(r))


@dataclass(frozen=True)
class UnitDuties:
    """A unit's periodic reports as of a date, for the circular (漏报/迟报)."""

    unit: str
    tally: Tally
    missed_tasks: tuple[str, ...]  # tasks with a missed report, named in the circular


def unit_duties(
    app: App,
    uow: UnitOfWork,
    at: datetime,
    *,
    since: date | None = None,
    campaign: str | None = None,
    unit_id: int | None = None,
) -> list[UnitDuties]:
    """Per unit (the unit in charge on each due day), the duties due from ``since`` that fell due by ``at``:
    on time, late, missed, as known at ``at``."""
    workflows = [s.name for s in reporting_workflows(app)]
    if not workflows:
        return []
    names = uow.report_duties.unit_names()
    tallies: dict[str, Tally] = {}
    missed: dict[str, list[str]] = {}
    for src in uow.report_duties.sources(
        workflows=workflows, until=at, campaign=campaign, unit_id=unit_id, ongoing_only=ongoing_only(app)
    ):
        found = task_duty_list(app, src, at)
        if found is None:
            continue
        for d in found[2]:
            if d.status == "open" or (since is not None and d.day < since):
                continue
            unit = names.get(d.unit if d.unit is not None else src.unit_id, str(d.unit))
            tallies[unit] = tallies.get(unit, Tally()).add(d)
            if d.status == "missed" and src.code not in missed.setdefault(unit, []):
                missed[unit].append(src.code)
    return [UnitDuties(u, t, tuple(missed.get(u, []))) for u, t in sorted(tallies.items())]


def late_and_missed(
    app: App, uow: UnitOfWork, at: datetime, *, campaign: str | None = None, unit_id: int | None = None
) -> dict[str, int]:
    """Per task code, its late and missed reports as of ``at`` (the score's 迟报/漏报), for tasks with duties.

    A task present here is counted by its cadence alone; the scoring rule's ``after_days`` gap applies to
    tasks whose workflow asks for no periodic reports.
    """
    workflows = [s.name for s in reporting_workflows(app)]
    out: dict[str, int] = {}
    for src in uow.report_duties.sources(
        workflows=workflows, until=at, campaign=campaign, unit_id=unit_id, ongoing_only=ongoing_only(app)
    ):
        found = task_duty_list(app, src, at)
        if found is not None:
            out[src.code] = sum(1 for d in found[2] if d.counted)
    return out
