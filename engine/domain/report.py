"""The circular (定期通报) as one computed object: every format is rendered from it.

Report arithmetic only: periods, rates, lights, ranks and the headline. The
figures arrive already aggregated (the database counts, Python never walks the
tasks), so a report on a million tasks costs what its fifty units cost.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .errors import InvalidInput
from .scoring import ScoreTable
from .text import Bilingual, Lang

PeriodKind = Literal["week", "month", "quarter", "year", "custom"]
PERIOD_KINDS: tuple[str, ...] = ("week", "month", "quarter", "year")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}

# How a state counts in a circular; a workflow's YAML may say so per state (`report:`).
# not_started (未签收): a state the workflow's YAML puts in that column (assigned: not yet signed for).
# suspended (挂起): waiting on something outside the unit's control; listed in a section of its own.
Bucket = Literal["not_started", "in_progress", "submitted", "reviewed", "closed", "excluded", "suspended"]
BUCKETS: tuple[str, ...] = ("not_started", "in_progress", "submitted", "reviewed", "closed", "excluded", "suspended")


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``start``..``end``, both included, in the configured zone."""

    kind: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before: last week, last month, the same span of days."""
        before = self.start - timedelta(days=1)
        if self.kind in _MONTHS or self.kind == "week":
            return period_ending(self.kind, before)
        return Period(self.kind, before - timedelta(days=self.days - 1), before)

    def label(self, lang: Lang) -> str:
        if lang == "zh":
            return f"{self.start.year}年{self.start.month}月{self.start.day}日至{self.end.year}年{self.end.month}月{self.end.day}日"
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def period_ending(kind: str, end: date) -> Period:
    """A week is the seven days up to and including ``end``; a month the month up to it (a whole one on its last day)."""
    if kind == "week":
        return Period("week", end - timedelta(days=6), end)
    months = _MONTHS.get(kind)
    if months is None:
        raise InvalidInput(what="period", detail=f"'{kind}' is not week, month, quarter or year")
    return Period(kind, add_months(end + timedelta(days=1), -months), end)


def custom_period(start: date, end: date) -> Period:
    if end < start:
        raise InvalidInput(
            what=Bilingual("统计时段", "period"),
            detail=Bilingual(f"--from {start} 晚于 --to {end}", f"--from {start} is after --to {end}"),
        )
    return Period("custom", start, end)


@dataclass(frozen=True, slots=True)
class Counts:
    """The figures of one group: the whole ledger, a unit, a category or a campaign."""

    tasks: int = 0
    closed: int = 0
    in_progress: int = 0
    submitted: int = 0
    reviewed: int = 0
    overdue: int = 0
    closed_with_deadline: int = 0  # closed tasks that had a deadline: the on-time rate's denominator
    closed_on_time: int = 0  # closed by the original deadline, extensions notwithstanding
    not_started: int = 0  # 未签收: still in the initial state, not counted in in_progress
    suspended: int = 0  # 挂起: the clock stopped while waiting on another body; not in in_progress

    @property
    def completion_rate(self) -> float | None:
        return self.closed / self.tasks if self.tasks else None

    @property
    def on_time_rate(self) -> float | None:
        return self.closed_on_time / self.closed_with_deadline if self.closed_with_deadline else None

    @property
    def open_not_overdue(self) -> int:
        return self.tasks - self.closed - self.overdue

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(_astuple(self), _astuple(other), strict=True)))


def _astuple(c: Counts) -> tuple[int, ...]:
    return (
        c.tasks,
        c.closed,
        c.in_progress,
        c.submitted,
        c.reviewed,
        c.overdue,
        c.closed_with_deadline,
        c.closed_on_time,
        c.not_started,
        c.suspended,
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """One aggregate row from the store: so many tasks of a group in a bucket, so many overdue."""

    group: str
    bucket: str
    tasks: int
    overdue: int = 0
    closed_with_deadline: int = 0
    closed_on_time: int = 0


# Where each bucket's tasks go in Counts' fields (in _astuple's order); closed ones also carry the on-time sums.
_BUCKET_FIELD = {"closed": 1, "in_progress": 2, "submitted": 3, "reviewed": 4, "not_started": 8, "suspended": 9}


def fold(tallies: list[Tally]) -> dict[str, Counts]:
    """Aggregate rows into figures per group; excluded states (撤销) count nowhere.

    Sums plain lists and makes one Counts per group at the end: a circular folds thousands of rows.
    """
    sums: dict[str, list[int]] = {}
    for t in tallies:
        if t.bucket == "excluded":
            continue
        acc = sums.get(t.group)
        if acc is None:
            acc = sums[t.group] = [0] * 10
        acc[0] += t.tasks
        field = _BUCKET_FIELD.get(t.bucket)
        if field is not None:
            acc[field] += t.tasks
        acc[5] += t.overdue
        if t.bucket == "closed":
            acc[6] += t.closed_with_deadline
            acc[7] += t.closed_on_time
    return {group: Counts(*acc) for group, acc in sums.items()}


UnitLight = Literal["red", "yellow", "green"]


@dataclass(frozen=True, slots=True)
class UnitLine:
    unit: str
    counts: Counts
    light: UnitLight  # red: something overdue; yellow: completion below the whole ledger's; green otherwise
    rank: int
    lagging: bool  # 滞后: named as lagging in the circular


def rank_units(per_unit: dict[str, Counts], whole: Counts) -> list[UnitLine]:
    """Fewest overdue first, then highest completion, then highest on-time rate; ties share a rank (1, 2, 2, 4).

    Units without a completion rate (no tasks to count) rank last; a unit without an on-time rate (nothing
    closed with a deadline, or closed at unknown dates) ranks after its equals that have one.
    """

    def key(item: tuple[str, Counts]) -> tuple[bool, int, float, bool, float]:
        """A rate nobody can compute (—) ranks after every rate that can be, 0 % included."""
        c = item[1]
        done, punctual = c.completion_rate, c.on_time_rate
        return (done is None, c.overdue, -(done or 0.0), punctual is None, -(punctual or 0.0))

    ordered = sorted(per_unit.items(), key=lambda item: (*key(item), item[0]))
    lines: list[UnitLine] = []
    rank, previous = 0, None
    for position, (unit, c) in enumerate(ordered, start=1):
        k = key((unit, c))
        if k != previous:
            rank, previous = position, k
        overall = whole.completion_rate or 0.0
        light: UnitLight = "red" if c.overdue else ("yellow" if (c.completion_rate or 0.0) < overall else "green")
        lines.append(UnitLine(unit, c, light, rank, lagging=light == "red"))
    return lines


@dataclass(frozen=True, slots=True)
class OverdueTask:
    code: str
    title: str
    unit: str
    leader: str | None
    deadline: date
    days_overdue: int  # working days
    escalation_level: int


@dataclass(frozen=True, slots=True)
class PeriodTask:
    """A task that was assigned, closed or given more time within the period."""

    code: str
    title: str
    unit: str
    on: date
    detail: str | None = None  # extensions: "old → new"


@dataclass(frozen=True, slots=True)
class ImportedLedger:
    """A ledger imported after the as-of date: its tasks stand in the figures as the file described them."""

    on: date  # the import day
    tasks: int  # counted: the ledger says they were assigned by the as-of date
    undated: int = 0  # left out: the ledger gives no 交办日期


@dataclass(frozen=True, slots=True)
class AccountabilityLine:
    """An accountability record (问责) as the circular names it: decided by the period's end, open in it."""

    number: str
    task: str
    unit: str
    kind: str
    persons: tuple[str, ...]
    decision: str
    decided_on: date
    status: str  # open | closed, as of the period's end


@dataclass(frozen=True, slots=True)
class SuspendedTask:
    """A task suspended (挂起) at the report's date: since when, and why."""

    code: str
    title: str
    unit: str
    since: date
    reason: str | None


@dataclass(frozen=True, slots=True)
class ReportDutyLine:
    """定期填报 per unit: the periodic reports due in the period, and how they were met by its end."""

    unit: str
    due: int
    on_time: int
    late: int  # 迟报
    missed: int  # 漏报
    missed_tasks: tuple[str, ...] = ()  # the tasks with a missed report, named


@dataclass(frozen=True, slots=True)
class LateCoUnitPart:
    """牵头/配合: a co-unit's part late at the report's date — not reported by its day, or reported after it.

    The task itself counts for the lead unit alone; the co-unit's lateness is shown here, apart."""

    code: str
    title: str
    unit: str  # the lead unit
    co_unit: str
    report_by: date
    reported_on: date | None  # None: still not reported at the report's date
    days_late: int  # working days


@dataclass(frozen=True, slots=True)
class Previous:
    period: Period
    totals: Counts
    units: dict[str, Counts]


@dataclass(frozen=True)
class Report:
    as_of: date
    period: Period
    totals: Counts
    units: list[UnitLine]
    overdue_tasks: list[OverdueTask]
    overdue_omitted: int  # overdue tasks beyond the named limit
    new_in_period: list[PeriodTask]
    closed_in_period: list[PeriodTask]
    extensions_in_period: list[PeriodTask]
    by_category: dict[str, Counts]
    by_campaign: dict[str, Counts]
    previous: Previous
    campaign: str | None = None
    unit: str | None = None
    category: str | None = None
    generated_at: datetime | None = None
    zone: str = "Asia/Shanghai"
    notes: list[str] = field(default_factory=list)
    # The lists above may be cut at the named limit; these are the full counts (None: the list is whole).
    new_total: int | None = None
    closed_total: int | None = None
    extensions_total: int | None = None
    # Tasks of other workflows (帮扶任务), by workflow label then unit: a section each, not in the figures above.
    other_workflows: dict[str, dict[str, Counts]] = field(default_factory=dict)
    # Ledgers imported after the as-of date whose tasks are counted by their own dates (导入): marked in the notes.
    imported: list[ImportedLedger] = field(default_factory=list)
    # The ranking by score (考核评分) and the policy version it used, when the office scores its units.
    scores: ScoreTable | None = None
    accountability: list[AccountabilityLine] = field(default_factory=list)
    # 问题来源 (立项): figures per source ("—" for tasks citing none); empty when no task cites one.
    by_source: dict[str, Counts] = field(default_factory=dict)
    source: str | None = None  # the circular cut to one source ("-": tasks citing none)
    suspended_tasks: list[SuspendedTask] = field(default_factory=list)  # 挂起: a section of their own
    periodic_reports: list[ReportDutyLine] = field(default_factory=list)  # 定期填报: 迟报/漏报 per unit
    co_unit_parts: list[LateCoUnitPart] = field(default_factory=list)  # 牵头/配合: co-units' late parts, apart
    level: str = "top"  # 分解: top tasks only (top), or sub-tasks counted too (all)

    @property
    def new_count(self) -> int:
        return len(self.new_in_period) if self.new_total is None else self.new_total

    @property
    def closed_count(self) -> int:
        return len(self.closed_in_period) if self.closed_total is None else self.closed_total

    @property
    def extensions_count(self) -> int:
        return len(self.extensions_in_period) if self.extensions_total is None else self.extensions_total

    @property
    def scope_name(self) -> Bilingual:
        """Who the figures cover: 全部整改任务, or the campaign, unit and category they were cut to."""
        parts = [p for p in (self.campaign, self.unit, self.category, self.source) if p]
        if self.level == "all":  # 分解: sub-tasks counted as well as the tasks they were split from
            zh = "·".join(parts) or "全部整改任务"
            en = " / ".join(parts) or "all tasks"
            return Bilingual(f"{zh}（含分解的子任务）", f"{en} (sub-tasks included)")
        if not parts:
            return Bilingual("全部整改任务", "all tasks")
        return Bilingual("·".join(parts), " / ".join(parts))


def percent(rate: float, digits: int = 1) -> Decimal:
    """A fraction as a percentage rounded half up, as people round (9/16 is 56.3 %, not 56.2 %).

    The float's shortest decimal form is the fraction the counts gave, so 0.5625 is exactly 56.25.
    """
    return (Decimal(repr(rate)) * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def rounded_rate(rate: float | None, digits: int = 1) -> float | None:
    """The fraction a spreadsheet should hold so that its 0.0 % shows what the other formats print."""
    return None if rate is None else float(percent(rate, digits) / 100)


def pct(rate: float | None, digits: int = 1) -> str:
    return "—" if rate is None else f"{percent(rate, digits)}%"


def delta_points(now: float | None, before: float | None) -> float | None:
    """Change in percentage points, rounded half up; None where either side has no tasks."""
    if now is None or before is None:
        return None
    change = (Decimal(repr(now)) - Decimal(repr(before))) * 100
    return float(change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def headline(report: Report, lang: Lang) -> str:
    """One paragraph in a circular's own words: 截至…，共交办整改任务32项，…"""
    t = report.totals
    d = report.as_of
    if lang == "zh":
        scope = "·".join(p for p in (report.campaign, report.unit, report.category, report.source) if p)
        if report.level == "all":
            scope += "（含分解的子任务）"
        return (
            f"截至{d.year}年{d.month}月{d.day}日，{scope}共交办整改任务{t.tasks}项，"
            f"已销号{t.closed}项，完成率{pct(t.completion_rate)}；未签收{t.not_started}项，整改中{t.in_progress}项，"
            f"待审核{t.submitted}项，已审核待销号{t.reviewed}项，{f'挂起{t.suspended}项，' if t.suspended else ''}逾期{t.overdue}项；"
            f"本期新增{report.new_count}项，新销号{report.closed_count}项。"
        )
    return (
        f"As of {d.isoformat()}, {report.scope_name.en}: {t.tasks} tasks assigned, {t.closed} closed "
        f"(completion {pct(t.completion_rate)}); {t.not_started} not yet signed for, {t.in_progress} in progress, "
        f"{t.submitted} awaiting review, {t.reviewed} reviewed and awaiting closing, "
        f"{f'{t.suspended} suspended, ' if t.suspended else ''}{t.overdue} overdue; "
        f"this period {report.new_count} new, {report.closed_count} closed."
    )


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def imported_notes(report: Report, lang: Lang) -> list[str]:
    """导入: the figures of a day before an import include the ledger as the file described it."""
    out = []
    for imp in report.imported:
        if lang == "zh":
            parts = []
            if imp.tasks:
                parts.append(
                    f"{_day(imp.on)}前的数字含当日导入台账所载的{imp.tasks}项任务，"
                    "其交办日期、销号日期和状态以台账为准；台账未载销号日期的，按期情况记为“—”。"
                )
            if imp.undated:
                parts.append(f"{_day(imp.on)}导入的台账另有{imp.undated}项未载交办日期，不计入该日前的数字。")
            out.append("导入：" + "".join(parts))
        else:
            parts = []
            if imp.tasks:
                parts.append(
                    f"figures before {imp.on.isoformat()} include {imp.tasks} tasks of the ledger imported that day, "
                    "dated and stated as the file described them; those without a closing date have no on-time "
                    "status (—)."
                )
            if imp.undated:
                parts.append(
                    f"{imp.undated} tasks of the ledger imported on {imp.on.isoformat()} have no assignment date "
                    "and are not counted before it."
                )
            out.append("Imported: " + " ".join(parts))
    return out


def notes(report: Report, lang: Lang) -> list[str]:
    """Every note a circular prints: the imported ledgers first, then the ones it was given."""
    return [*imported_notes(report, lang), *report.notes]


def _rate(r: float | None) -> float | None:
    return None if r is None else float(Decimal(repr(r)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _counts_dict(c: Counts) -> dict[str, Any]:
    return {
        "tasks": c.tasks,
        "closed": c.closed,
        "in_progress": c.in_progress,
        "submitted": c.submitted,
        "reviewed": c.reviewed,
        "overdue": c.overdue,
        "completion_rate": _rate(c.completion_rate),
        "on_time_rate": _rate(c.on_time_rate),
        "closed_with_deadline": c.closed_with_deadline,
        "closed_on_time": c.closed_on_time,
        "not_started": c.not_started,
        "suspended": c.suspended,
    }


def _period_dict(p: Period) -> dict[str, Any]:
    return {"kind": p.kind, "from": p.start.isoformat(), "to": p.end.isoformat(), "days": p.days}


def _task_dict(t: PeriodTask) -> dict[str, Any]:
    out: dict[str, Any] = {"code": t.code, "title": t.title, "unit": t.unit, "on": t.on.isoformat()}
    if t.detail is not None:
        out["detail"] = t.detail
    return out


def to_dict(report: Report, lang: Lang = "en") -> dict[str, Any]:
    """The JSON format: stable keys, documented in the README. Rates are fractions (0.25 is 25 %)."""
    prev = report.previous
    return {
        "as_of": report.as_of.isoformat(),
        "period": _period_dict(report.period),
        "scope": {
            "campaign": report.campaign,
            "unit": report.unit,
            "category": report.category,
            **({"source": report.source} if report.source else {}),
            "level": report.level,
        },
        "headline": headline(report, lang),
        "totals": _counts_dict(report.totals),
        "units": [
            {
                "unit": u.unit,
                **{k: v for k, v in _counts_dict(u.counts).items()},
                "light": u.light,
                "rank": u.rank,
                "lagging": u.lagging,
            }
            for u in report.units
        ],
        "overdue_tasks": [
            {
                "code": o.code,
                "title": o.title,
                "unit": o.unit,
                "leader": o.leader,
                "deadline": o.deadline.isoformat(),
                "days_overdue": o.days_overdue,
                "escalation_level": o.escalation_level,
            }
            for o in report.overdue_tasks
        ],
        "overdue_tasks_omitted": report.overdue_omitted,
        "closed_in_period": [_task_dict(t) for t in report.closed_in_period],
        "new_in_period": [_task_dict(t) for t in report.new_in_period],
        "extensions_in_period": [_task_dict(t) for t in report.extensions_in_period],
        "period_counts": {
            "new": report.new_count,
            "closed": report.closed_count,
            "extensions": report.extensions_count,
        },
        "by_category": {k: _counts_dict(v) for k, v in report.by_category.items()},
        "by_campaign": {k: _counts_dict(v) for k, v in report.by_campaign.items()},
        "by_source": {k: _counts_dict(v) for k, v in report.by_source.items()},
        "suspended_tasks": [
            {"code": t.code, "title": t.title, "unit": t.unit, "since": t.since.isoformat(), "reason": t.reason}
            for t in report.suspended_tasks
        ],
        "periodic_reports": [
            {
                "unit": r.unit,
                "due": r.due,
                "on_time": r.on_time,
                "late": r.late,
                "missed": r.missed,
                "missed_tasks": list(r.missed_tasks),
            }
            for r in report.periodic_reports
        ],
        "co_unit_late_parts": [
            {
                "code": p.code,
                "title": p.title,
                "unit": p.unit,
                "co_unit": p.co_unit,
                "report_by": p.report_by.isoformat(),
                "reported_on": p.reported_on.isoformat() if p.reported_on else None,
                "days_late": p.days_late,
            }
            for p in report.co_unit_parts
        ],
        "previous_period": {
            "period": _period_dict(prev.period),
            "totals": _counts_dict(prev.totals),
            "change": {
                "completion_rate_points": delta_points(report.totals.completion_rate, prev.totals.completion_rate),
                "overdue": report.totals.overdue - prev.totals.overdue,
            },
            "units": [
                {
                    "unit": u.unit,
                    "completion_rate": _rate(prev.units[u.unit].completion_rate) if u.unit in prev.units else None,
                    "overdue": prev.units[u.unit].overdue if u.unit in prev.units else 0,
                    "completion_rate_points": delta_points(
                        u.counts.completion_rate, prev.units[u.unit].completion_rate if u.unit in prev.units else None
                    ),
                    "overdue_change": u.counts.overdue - (prev.units[u.unit].overdue if u.unit in prev.units else 0),
                }
                for u in report.units
            ],
            "unit_counts": {name: _counts_dict(c) for name, c in prev.units.items()},
        },
        "generated_at": report.generated_at.isoformat() if report.generated_at else None,
        "zone": report.zone,
        "other_workflows": {
            label: {
                "totals": _counts_dict(sum(units.values(), Counts())),
                "units": {name: _counts_dict(c) for name, c in units.items()},
            }
            for label, units in report.other_workflows.items()
        },
        "notes": list(report.notes),
        "imported": [{"on": i.on.isoformat(), "tasks": i.tasks, "undated": i.undated} for i in report.imported],
        "scores": report.scores.to_dict() if report.scores is not None else None,
        "accountability": [
            {
                "number": a.number,
                "task": a.task,
                "unit": a.unit,
                "kind": a.kind,
                "persons": list(a.persons),
                "decision": a.decision,
                "decided_on": a.decided_on.isoformat(),
                "status": a.status,
            }
            for a in report.accountability
        ],
    }


def _counts(d: dict[str, Any]) -> Counts:
    return Counts(
        tasks=d["tasks"],
        closed=d["closed"],
        in_progress=d["in_progress"],
        submitted=d["submitted"],
        reviewed=d["reviewed"],
        overdue=d["overdue"],
        closed_with_deadline=d.get("closed_with_deadline", 0),
        closed_on_time=d.get("closed_on_time", 0),
        not_started=d.get("not_started", 0),
        suspended=d.get("suspended", 0),
    )


def _period(d: dict[str, Any]) -> Period:
    return Period(d["kind"], date.fromisoformat(d["from"]), date.fromisoformat(d["to"]))


def _task(d: dict[str, Any]) -> PeriodTask:
    return PeriodTask(d["code"], d["title"], d["unit"], date.fromisoformat(d["on"]), d.get("detail"))


def from_dict(d: dict[str, Any]) -> Report:
    """A stored circular's figures back into the report they came from, to render it again in any format."""
    prev = d["previous_period"]
    counts = d["period_counts"]
    return Report(
        as_of=date.fromisoformat(d["as_of"]),
        period=_period(d["period"]),
        totals=_counts(d["totals"]),
        units=[UnitLine(u["unit"], _counts(u), u["light"], u["rank"], u["lagging"]) for u in d["units"]],
        overdue_tasks=[
            OverdueTask(
                o["code"],
                o["title"],
                o["unit"],
                o["leader"],
                date.fromisoformat(o["deadline"]),
                o["days_overdue"],
                o["escalation_level"],
            )
            for o in d["overdue_tasks"]
        ],
        overdue_omitted=d["overdue_tasks_omitted"],
        new_in_period=[_task(t) for t in d["new_in_period"]],
        closed_in_period=[_task(t) for t in d["closed_in_period"]],
        extensions_in_period=[_task(t) for t in d["extensions_in_period"]],
        by_category={k: _counts(v) for k, v in d["by_category"].items()},
        by_campaign={k: _counts(v) for k, v in d["by_campaign"].items()},
        by_source={k: _counts(v) for k, v in d.get("by_source", {}).items()},
        source=d["scope"].get("source"),
        suspended_tasks=[
            SuspendedTask(t["code"], t["title"], t["unit"], date.fromisoformat(t["since"]), t.get("reason"))
            for t in d.get("suspended_tasks", [])
        ],
        periodic_reports=[
            ReportDutyLine(r["unit"], r["due"], r["on_time"], r["late"], r["missed"], tuple(r.get("missed_tasks", [])))
            for r in d.get("periodic_reports", [])
        ],
        co_unit_parts=[
            LateCoUnitPart(
                p["code"],
                p["title"],
                p["unit"],
                p["co_unit"],
                date.fromisoformat(p["report_by"]),
                date.fromisoformat(p["reported_on"]) if p.get("reported_on") else None,
                p["days_late"],
            )
            for p in d.get("co_unit_late_parts", [])
        ],
        previous=Previous(
            _period(prev["period"]),
            _counts(prev["totals"]),
            {k: _counts(v) for k, v in prev.get("unit_counts", {}).items()},
        ),
        campaign=d["scope"]["campaign"],
        unit=d["scope"]["unit"],
        category=d["scope"]["category"],
        generated_at=datetime.fromisoformat(d["generated_at"]) if d.get("generated_at") else None,
        zone=d.get("zone", "Asia/Shanghai"),
        notes=list(d.get("notes", [])),
        imported=[
            ImportedLedger(date.fromisoformat(i["on"]), i["tasks"], i.get("undated", 0)) for i in d.get("imported", [])
        ],
        other_workflows={
            label: {name: _counts(c) for name, c in w["units"].items()}
            for label, w in d.get("other_workflows", {}).items()
        },
        scores=ScoreTable.from_dict(d["scores"]) if d.get("scores") else None,
        accountability=[
            AccountabilityLine(
                a["number"],
                a["task"],
                a["unit"],
                a["kind"],
                tuple(a["persons"]),
                a["decision"],
                date.fromisoformat(a["decided_on"]),
                a["status"],
            )
            for a in d.get("accountability", [])
        ],
        new_total=counts["new"],
        closed_total=counts["closed"],
        extensions_total=counts["extensions"],
    )
