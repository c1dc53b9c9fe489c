"""Build a circular: the period, the aggregate queries, the arithmetic; one Report for every format.

A report for a past day is rebuilt from the event history, never from
today's task states, so a circular for last month reads the same next year.
The report for today reads the tasks table, which the same events produced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..app import App
from ..domain.errors import InvalidInput
from ..domain.report import (
    Counts,
    ImportedLedger,
    OverdueTask,
    Period,
    PeriodTask,
    Previous,
    Report,
    ReportDutyLine,
    SuspendedTask,
    Tally,
    custom_period,
    fold,
    period_ending,
    rank_units,
)
from ..domain.splitting import check_level
from ..domain.text import Bilingual
from ..persistence.read.report_queries import (
    NO_SOURCE,
    CircularPass,
    OverdueRow,
    Scope,
    Source,
    StateRules,
    TallyRow,
    current_source,
    imported_before,
    state_rules,
)
from ..persistence.uow import UnitOfWork
from .org import resolve_unit
from .report_duties import unit_duties

NO_CATEGORY = "—"
MAIN_WORKFLOW = "rectification"  # 整改任务: the headline and the tables; every other workflow has a section of its own
NAMED_LIMIT = 100  # tasks named per list in a circular; the counts are always whole


@dataclass(frozen=True)
class ReportRequest:
    period: str = "week"
    start: date | None = None
    end: date | None = None
    as_of: date | None = None
    campaign: str | None = None
    unit: str | None = None
    category: str | None = None
    limit: int | None = NAMED_LIMIT  # None: name every task
    scores: bool | None = None  # the ranking by score: None when DUBAN_SCORING names a policy
    source: str | None = None  # 问题来源; '-': tasks that cite none
    level: str = "top"  # 分解: count top tasks (top) or every level, sub-tasks too (all)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last instant of ``day`` in the zone, in UTC: events at or before it belong to the day."""
    return datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(ZoneInfo("UTC")) - timedelta(
        microseconds=1
    )


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(ZoneInfo("UTC"))


def resolve_period(req: ReportRequest, today: date) -> Period:
    """The period ends on the as-of date (today unless given); --from/--to give a span of their own."""
    if req.start is not None or req.end is not None:
        end = req.end or req.as_of or today
        if req.as_of is not None and req.as_of != end:
            raise InvalidInput(
                what="--as-of",
                detail=Bilingual(
                    f"{req.as_of} 与 --to {end} 不一致；两者只给一个",
                    f"{req.as_of} differs from --to {end}; give one of them",
                ),
            )
        period = custom_period(req.start or end, end)
    else:
        period = period_ending(req.period, req.as_of or today)
    if period.end > today:
        raise InvalidInput(
            what=Bilingual("日期", "date"),
            detail=Bilingual(
                f"{period.end} 晚于今天（{today}）；通报只统计已过去的日子",
                f"{period.end} is after today ({today}); a circular reports the past",
            ),
        )
    return period


def build_report(app: App, req: ReportRequest) -> Report:
    today = app.clock.now().astimezone(app.tz).date()
    period = resolve_period(req, today)
    with app.uow(write=False) as uow:
        others = tuple(s.name for s in app.registry.specs if s.name != MAIN_WORKFLOW)
        scope = Scope(
            campaign=req.campaign or None,
            unit_id=resolve_unit(uow.org, req.unit) if req.unit else None,
            category=req.category or None,
            not_workflows=others,
            source=_checked_source(app, req.source),
            top_only=check_level(req.level) == "top",
        )
        rules = state_rules(app.registry.specs)
        prev_period = period.previous()
        until = app.clock.now() if period.end >= today else end_of_day(period.end, app.tz)
        one = _as_of_reads(app, uow, rules, scope, period, today, until, req.limit)
        now_rows, prev_rows = one.now, one.prev
        main = [r for r in now_rows if r.workflow not in others]
        totals, units, by_category, by_campaign, by_source = _fold(main)
        prev_totals, prev_units, _, _, _ = _fold([r for r in prev_rows if r.workflow not in others])
        named = _overdue(app, one.overdue, period.end)
        suspended = [
            SuspendedTask(code, title, unit, _local_day(since, app.tz) if since else period.end, reason)
            for code, title, unit, since, reason in one.suspended
        ]
        from .co_unit_report import late_parts  # 牵头/配合: co-units' late parts, a section apart

        co_parts = late_parts(app, uow, one.with_co_units, until, period.end)
        other_workflows: dict[str, dict[str, Counts]] = {}
        for name in others:
            _, per_unit, _, _, _ = _fold([r for r in now_rows if r.workflow == name])
            if per_unit:
                other_workflows[app.registry.spec(name).label.zh] = per_unit
        lists = {
            kind: _period_list(app, uow, rules, kind, scope, period, req.limit)
            for kind in ("new", "closed", "extended")
        }
        # 导入: marked where the figures include a ledger imported later, this period's or else the previous one's
        imported = _imported(app, uow, scope, period.end, today) or _imported(app, uow, scope, prev_period.end, today)
        # Scoring and accountability build on this module's periods: imported here, not at the top.
        from .accountability import circular_lines
        from .scoring import score_table

        scores = score_table(app, uow, req.scores, scope.campaign, scope.unit_id, period.end, today)
        accountability = circular_lines(app, uow, period.start, period.end, req.unit, scope.campaign)
        periodic = _periodic_reports(app, uow, until, period.start, scope)
    return Report(
        as_of=period.end,
        period=period,
        totals=totals,
        units=rank_units(units, totals),
        overdue_tasks=named,
        overdue_omitted=max(0, totals.overdue - len(named)),
        new_in_period=lists["new"][0],
        closed_in_period=lists["closed"][0],
        extensions_in_period=lists["extended"][0],
        by_category=by_category,
        by_campaign=by_campaign,
        by_source=by_source if any(k != NO_CATEGORY for k in by_source) else {},
        source=scope.source,
        suspended_tasks=suspended,
        co_unit_parts=co_parts,
        level=req.level,
        previous=Previous(prev_period, prev_totals, prev_units),
        campaign=scope.campaign,
        unit=req.unit,
        category=scope.category,
        generated_at=app.clock.now(),
        zone=app.tz.key,
        new_total=lists["new"][1],
        closed_total=lists["closed"][1],
        extensions_total=lists["extended"][1],
        other_workflows=other_workflows,
        imported=imported,
        scores=scores,
        accountability=accountability,
        periodic_reports=periodic,
    )


def _periodic_reports(app: App, uow: UnitOfWork, until: datetime, since: date, scope: Scope) -> list[ReportDutyLine]:
    """定期填报: the periodic reports due in the period, per unit, as the history stood at its end."""
    return [
        ReportDutyLine(u.unit, u.tally.due, u.tally.on_time, u.tally.late, u.tally.missed, u.missed_tasks)
        for u in unit_duties(app, uow, until, since=since, campaign=scope.campaign, unit_id=scope.unit_id)
    ]


def _source(app: App, uow: UnitOfWork, rules: StateRules, day: date, today: date) -> Source:
    """Today's tasks, or the history replayed to the end of ``day`` with later imports as their ledger said."""
    if day >= today:
        return current_source()
    return uow.reports.as_of_source(end_of_day(day, app.tz), imported_before(rules, day))


def _imported(app: App, uow: UnitOfWork, scope: Scope, day: date, today: date) -> list[ImportedLedger]:
    """The ledgers imported after ``day`` that the figures include (导入), one per import day."""
    if day >= today:
        return []
    by_day: dict[date, tuple[int, int]] = {}
    for instant, counted, undated in uow.reports.imports_after(end_of_day(day, app.tz), day, scope):
        on = _local_day(instant, app.tz)
        n, u = by_day.get(on, (0, 0))
        by_day[on] = (n + counted, u + undated)
    return [ImportedLedger(on, n, u) for on, (n, u) in sorted(by_day.items()) if n or u]


def _fold(
    rows: list[TallyRow],
) -> tuple[Counts, dict[str, Counts], dict[str, Counts], dict[str, Counts], dict[str, Counts]]:
    """The groups' figures by unit, category, campaign and source."""

    def by(key: Callable[[TallyRow], str]) -> dict[str, Counts]:
        return fold([Tally(key(r), r.bucket, r.tasks, r.overdue, r.with_deadline, r.on_time) for r in rows])

    units = by(lambda r: r.unit)
    by_category = by(lambda r: r.category or NO_CATEGORY)
    by_campaign = by(lambda r: r.campaign or NO_CATEGORY)
    by_source = by(lambda r: r.source or NO_CATEGORY)
    return sum(units.values(), Counts()), units, by_category, by_campaign, by_source


def _checked_source(app: App, source: str | None) -> str | None:
    """A source no workflow lists is a typo, not an empty circular."""
    if not source:
        return None
    known = {name for spec in app.registry.specs for name in spec.sources}
    if source != NO_SOURCE and known and source not in known:
        raise InvalidInput(
            what="--source",
            detail=Bilingual(
                f"“{source}”不是问题来源之一（可选：{'、'.join(sorted(known))}；'-' 表示未写来源）",
                f"'{source}' is not a source (sources: {', '.join(sorted(known))}; '-' for none)",
            ),
        )
    return source


def _as_of_reads(
    app: App,
    uow: UnitOfWork,
    rules: StateRules,
    scope: Scope,
    period: Period,
    today: date,
    until: datetime,
    limit: int | None,
) -> CircularPass:
    """The figures of both periods and the named lists (overdue, suspended, tasks with co-units).

    Usually one statement over one pass of the history (``circular_pass``). An instant before a later
    import stands the ledger as its file described it, which that pass does not do: then each instant and
    each list reads a ledger of its own, the figures and the lists from the same one.
    """
    prev_period = period.previous()
    before = end_of_day(prev_period.end, app.tz)
    if not uow.reports.imported_since(before):
        at = None if period.end >= today else end_of_day(period.end, app.tz)
        pair = uow.reports.pair_source(at, before)
        return uow.reports.circular_pass(rules, pair, scope, period.end, prev_period.end, app.tz, until, limit)
    every = Scope(
        campaign=scope.campaign,
        unit_id=scope.unit_id,
        category=scope.category,
        source=scope.source,
        top_only=scope.top_only,
    )
    source = _source(app, uow, rules, period.end, today)  # decided once: the figures and the named lists agree
    prev_source = _source(app, uow, rules, prev_period.end, today)
    return CircularPass(
        uow.reports.tally(rules, source, every, period.end, app.tz),
        uow.reports.tally(rules, prev_source, every, prev_period.end, app.tz, breakdowns=False),
        uow.reports.overdue_tasks(rules, source, scope, period.end, limit),
        uow.reports.suspended_tasks(rules, source, scope, until, limit),
        uow.co_units.tasks_with_parts(rules, source, scope),
    )


def _overdue(app: App, rows: list[OverdueRow], day: date) -> list[OverdueTask]:
    out = []
    for code, title, unit, leader, deadline, workflow in rows:
        days = app.calendar.working_days_between(deadline, day)
        level = app.registry.spec(workflow).deadlines.level_reached(days)
        out.append(OverdueTask(code, title, unit, leader, deadline, days, level))
    out.sort(key=lambda o: (-o.days_overdue, o.deadline, o.code))
    return out


def _period_list(
    app: App, uow: UnitOfWork, rules: StateRules, kind: str, scope: Scope, period: Period, limit: int | None
) -> tuple[list[PeriodTask], int]:
    start, end = start_of_day(period.start, app.tz), start_of_day(period.end + timedelta(days=1), app.tz)
    rows, total = uow.reports.period_events(kind, rules, start, end, scope, limit, days=(period.start, period.end))
    out: list[PeriodTask] = []
    for code, title, unit, at, data, _deadline in rows:
        out.append(PeriodTask(code, title, unit, _local_day(at, app.tz), _detail(kind, data)))
    out.sort(key=lambda t: (t.on, t.code))  # the parts come one after another; a circular lists by date
    return (out if limit is None else out[:limit]), total


def _local_day(at: object, tz: ZoneInfo) -> date:
    """An event's instant as a day in the zone; a date column (交办日期, 销号日期) is a day already."""
    if isinstance(at, datetime):
        return (at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC"))).astimezone(tz).date()
    if isinstance(at, date):
        return at
    text = str(at)
    if len(text) <= 10:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo("UTC"))).astimezone(tz).date()


def _detail(kind: str, data: Any) -> str | None:
    if kind != "extended" or not isinstance(data, dict):
        return None
    return f"{data.get('from') or '—'} → {data.get('to') or '—'}"
