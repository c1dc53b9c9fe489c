"""The circular as sections of rows: the single source of every tabular format.

Cells keep their type (counts as ints, rates as fractions or None, dates as
dates); each format decides only how a value looks, never what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from duban.engine.domain.report import Counts, PeriodTask, Report, UnitLine, delta_points
from duban.engine.domain.scoring import RULE_LABELS, RULES
from duban.engine.domain.text import Bilingual, Lang

from . import labels as L
from .cells import Cell, ColumnKind, cell_text


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    kind: ColumnKind = "text"

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "date")


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]
    highlight: bool = False  # something overdue: a red unit, an overdue task; shown red everywhere
    total: bool = False  # the 合计 line


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # stable across languages: units, overdue, closed, new, extensions, change, by_category, by_campaign,
    # by_source, suspended, periodic_reports, co_unit_late
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    note: str | None = None  # shown under the table: omitted tasks, the previous period, "none"


TITLE_LIMIT = 30  # characters of a task title a table shows; the whole title is in the ledger
_BREAKS = "。；，、：！？;,:!? "


def short_title(title: str, limit: int = TITLE_LIMIT) -> str:
    """A long title cut at the last punctuation within the limit (else at the limit), with an ellipsis."""
    if len(title) <= limit:
        return title
    head = title[: limit - 1]
    cut = max(head.rfind(ch) for ch in _BREAKS)
    if cut >= limit // 2:
        head = head[:cut]
    return head.rstrip(_BREAKS) + "…"


def sections(report: Report, lang: Lang) -> list[Section]:
    return [
        _units(report, lang),
        *_scores(report, lang),
        _overdue(report, lang),
        *_accountability(report, lang),
        *([_suspended(report, lang)] if report.suspended_tasks else []),
        *([_periodic_reports(report, lang)] if report.periodic_reports else []),
        *([_co_unit_late(report, lang)] if report.co_unit_parts else []),
        _period_tasks("closed", L.CLOSED_IN_PERIOD, L.CLOSED_ON, report.closed_in_period, report.closed_count, lang),
        _period_tasks("new", L.NEW_IN_PERIOD, L.ASSIGNED_ON, report.new_in_period, report.new_count, lang),
        _period_tasks(
            "extensions",
            L.EXTENSIONS_IN_PERIOD,
            L.EXTENDED_ON,
            report.extensions_in_period,
            report.extensions_count,
            lang,
        ),
        _change(report, lang),
        _groups("by_category", L.BY_CATEGORY, L.CATEGORY, report.by_category, lang),
        _groups("by_campaign", L.BY_CAMPAIGN, L.CAMPAIGN, report.by_campaign, lang),
        *([_groups("by_source", L.BY_SOURCE, L.SOURCE, report.by_source, lang)] if report.by_source else []),
        *(_workflow(label, units, lang) for label, units in report.other_workflows.items()),
    ]


def _columns(lang: Lang, *spec: tuple[Bilingual, ColumnKind]) -> tuple[Column, ...]:
    return tuple(Column(label.pick(lang), kind) for label, kind in spec)


_COUNT_COLUMNS: tuple[tuple[Bilingual, ColumnKind], ...] = (
    (L.TASKS, "count"),
    (L.CLOSED, "count"),
    (L.NOT_STARTED, "count"),
    (L.IN_PROGRESS, "count"),
    (L.SUBMITTED, "count"),
    (L.REVIEWED, "count"),
    (L.OVERDUE_COUNT, "count"),
    (L.COMPLETION_RATE, "rate"),
    (L.ON_TIME_RATE, "rate"),
)


def _figures(c: Counts) -> tuple[Cell, ...]:
    return (
        c.tasks,
        c.closed,
        c.not_started,
        c.in_progress,
        c.submitted,
        c.reviewed,
        c.overdue,
        c.completion_rate,
        c.on_time_rate,
    )


def _ranked(report: Report) -> list[UnitLine]:
    return sorted(report.units, key=lambda u: u.rank)


def _units(report: Report, lang: Lang) -> Section:
    columns = _columns(
        lang, (L.RANK, "rank"), (L.UNIT, "text"), *_COUNT_COLUMNS, (L.LIGHT, "text"), (L.LAGGING, "text")
    )
    rows = [
        Row(
            (
                u.rank,
                u.unit,
                *_figures(u.counts),
                L.LIGHTS[u.light].pick(lang) if u.light in L.LIGHTS else u.light,
                L.LAGGING.pick(lang) if u.lagging else "",
            ),
            highlight=u.light == "red" or u.lagging,
        )
        for u in _ranked(report)
    ]
    rows.append(Row((None, L.TOTAL.pick(lang), *_figures(report.totals), "", ""), total=True))
    return Section("units", L.UNITS.pick(lang), columns, tuple(rows))


def _scores(report: Report, lang: Lang) -> list[Section]:
    """The ranking by score, each rule's share a column, and the policy version it was computed with."""
    table = report.scores
    if table is None:
        return []
    used = [r for r in (*RULES, "cap", "floor", "ceiling") if any(r in s.by_rule for s in table.lines)]
    columns = (
        Column(L.RANK.pick(lang), "rank"),
        Column(L.UNIT.pick(lang), "text"),
        Column(L.SCORE.pick(lang), "score"),
        Column(L.BAND.pick(lang), "text"),
        *(Column(Bilingual(*RULE_LABELS[r]).pick(lang), "score") for r in used),
    )
    rows = tuple(
        Row((s.rank, s.unit, s.score, s.band or "", *(s.by_rule.get(r, 0) for r in used))) for s in table.lines
    )
    p = table.policy
    note = L.SCORE_POLICY.pick(lang).format(name=p["name"], version=p["version"], hash=str(p["hash"])[:12])
    return [Section("scores", L.SCORES.pick(lang), columns, rows, note)]


def _accountability(report: Report, lang: Lang) -> list[Section]:
    if not report.accountability:
        return []
    columns = _columns(
        lang,
        (L.RECORD_NO, "text"),
        (L.TASK_CODE, "text"),
        (L.RESPONSIBLE_UNIT, "text"),
        (L.ACCOUNTABILITY_KIND, "text"),
        (L.PERSONS, "text"),
        (L.DECISION, "text"),
        (L.DECIDED_ON, "date"),
        (L.STATUS, "text"),
    )
    rows = tuple(
        Row(
            (
                a.number,
                a.task,
                a.unit,
                a.kind,
                "、".join(a.persons) if lang == "zh" else ", ".join(a.persons),
                short_title(a.decision, 40),
                a.decided_on,
                L.RECORD_STATUS[a.status].pick(lang) if a.status in L.RECORD_STATUS else a.status,
            ),
            highlight=a.status == "open",
        )
        for a in report.accountability
    )
    return [Section("accountability", L.ACCOUNTABILITY.pick(lang), columns, rows)]


def _overdue(report: Report, lang: Lang) -> Section:
    columns = _columns(
        lang,
        (L.CODE, "text"),
        (L.TASK, "text"),
        (L.RESPONSIBLE_UNIT, "text"),
        (L.LEAD_LEADER, "text"),
        (L.DEADLINE, "date"),
        (L.DAYS_OVERDUE, "count"),
        (L.ESCALATION_LEVEL, "count"),
    )
    rows = tuple(
        Row(
            (o.code, short_title(o.title), o.unit, o.leader or "", o.deadline, o.days_overdue, o.escalation_level),
            highlight=True,
        )
        for o in report.overdue_tasks
    )
    note = _more_note(len(rows), len(rows) + report.overdue_omitted, lang)
    return Section("overdue", L.OVERDUE.pick(lang), columns, rows, note)


def _suspended(report: Report, lang: Lang) -> Section:
    """挂起: tasks waiting on another body, listed apart from the overdue (their clock stands still)."""
    columns = _columns(
        lang,
        (L.CODE, "text"),
        (L.TASK, "text"),
        (L.RESPONSIBLE_UNIT, "text"),
        (L.SUSPENDED_SINCE, "date"),
        (L.SUSPENDED_REASON, "text"),
    )
    rows = tuple(Row((t.code, short_title(t.title), t.unit, t.since, t.reason or "")) for t in report.suspended_tasks)
    return Section(
        "suspended", L.SUSPENDED.pick(lang), columns, rows, _more_note(len(rows), report.totals.suspended, lang)
    )


def _periodic_reports(report: Report, lang: Lang) -> Section:
    """定期填报: per unit, the reports due in the period, on time, late (迟报) and missed (漏报), the missed named."""
    columns = _columns(
        lang,
        (L.RESPONSIBLE_UNIT, "text"),
        (L.REPORTS_DUE, "count"),
        (L.REPORTS_ON_TIME, "count"),
        (L.REPORTS_LATE, "count"),
        (L.REPORTS_MISSED, "count"),
        (L.MISSED_TASKS, "text"),
    )
    sep = "、" if lang == "zh" else ", "
    rows = tuple(
        Row((r.unit, r.due, r.on_time, r.late, r.missed, sep.join(r.missed_tasks)), highlight=r.missed > 0)
        for r in report.periodic_reports
    )
    return Section("periodic_reports", L.PERIODIC_REPORTS.pick(lang), columns, rows)


def _co_unit_late(report: Report, lang: Lang) -> Section:
    """牵头/配合: co-units late with their parts, apart from the figures (the task counts for its lead unit)."""
    columns = _columns(
        lang,
        (L.CODE, "text"),
        (L.TASK, "text"),
        (L.LEAD_UNIT, "text"),
        (L.CO_UNIT, "text"),
        (L.REPORT_BY, "date"),
        (L.REPORTED_ON, "text"),
        (L.DAYS_LATE, "count"),
    )
    rows = tuple(
        Row(
            (
                p.code,
                short_title(p.title),
                p.unit,
                p.co_unit,
                p.report_by,
                p.reported_on.isoformat() if p.reported_on else L.NOT_REPORTED.pick(lang),
                p.days_late,
            ),
            highlight=p.reported_on is None,
        )
        for p in report.co_unit_parts
    )
    return Section("co_unit_late", L.CO_UNIT_LATE.pick(lang), columns, rows)


def _more_note(shown: int, total: int, lang: Lang) -> str | None:
    """What the named list leaves out ("及其他N项"), or that there was nothing at all."""
    if total > shown:
        return L.OMITTED.pick(lang).format(n=total - shown)
    return None if shown else L.NONE_THIS_PERIOD.pick(lang)


def _period_tasks(
    key: str, title: Bilingual, on: Bilingual, tasks: list[PeriodTask], total: int, lang: Lang
) -> Section:
    with_detail = key == "extensions"
    spec: list[tuple[Bilingual, ColumnKind]] = [
        (L.CODE, "text"),
        (L.TASK, "text"),
        (L.RESPONSIBLE_UNIT, "text"),
        (on, "date"),
    ]
    if with_detail:
        spec.append((L.DEADLINE_CHANGE, "text"))
    rows = tuple(
        Row((t.code, short_title(t.title), t.unit, t.on, *((t.detail or "",) if with_detail else ()))) for t in tasks
    )
    return Section(key, title.pick(lang), _columns(lang, *spec), rows, _more_note(len(rows), total, lang))


def _change_row(name: str, now: Counts, before: Counts | None, *, total: bool = False) -> Row:
    """A unit that had no tasks last period had no completion rate and nothing overdue (as to_dict says)."""
    rate_before = before.completion_rate if before else None
    overdue_before = before.overdue if before else 0
    return Row(
        (
            name,
            now.completion_rate,
            rate_before,
            delta_points(now.completion_rate, rate_before),
            now.overdue,
            overdue_before,
            now.overdue - overdue_before,
        ),
        highlight=now.overdue > 0 and not total,
        total=total,
    )


def _change(report: Report, lang: Lang) -> Section:
    prev = report.previous
    columns = _columns(
        lang,
        (L.UNIT, "text"),
        (L.RATE_NOW, "rate"),
        (L.RATE_BEFORE, "rate"),
        (L.RATE_CHANGE, "points"),
        (L.OVERDUE_NOW, "count"),
        (L.OVERDUE_BEFORE, "count"),
        (L.OVERDUE_CHANGE, "change"),
    )
    rows = [_change_row(u.unit, u.counts, prev.units.get(u.unit)) for u in _ranked(report)]
    rows.append(_change_row(L.TOTAL.pick(lang), report.totals, prev.totals, total=True))
    note = L.PREVIOUS_PERIOD.pick(lang).format(period=prev.period.label(lang))
    return Section("change", L.CHANGE.pick(lang), columns, tuple(rows), note)


def _groups(key: str, title: Bilingual, name: Bilingual, groups: dict[str, Counts], lang: Lang) -> Section:
    rows = tuple(Row((group, *_figures(c)), highlight=c.overdue > 0) for group, c in groups.items())
    return Section(
        key,
        title.pick(lang),
        _columns(lang, (name, "text"), *_COUNT_COLUMNS),
        rows,
        None if rows else L.NONE_THIS_PERIOD.pick(lang),
    )


def _workflow(label: str, units: dict[str, Counts], lang: Lang) -> Section:
    """Tasks of another workflow (帮扶任务), unit by unit: counted here, never among the 整改任务 above."""
    rows = [Row((unit, *_figures(c)), highlight=c.overdue > 0) for unit, c in sorted(units.items())]
    rows.append(Row((L.TOTAL.pick(lang), *_figures(sum(units.values(), Counts()))), total=True))
    return Section(
        f"workflow:{label}",
        L.WORKFLOW_PROGRESS.pick(lang).format(workflow=label),
        _columns(lang, (L.UNIT, "text"), *_COUNT_COLUMNS),
        tuple(rows),
    )


def row_texts(section: Section, row: Row, lang: Lang) -> list[str]:
    """A row as the text formats show it; the typed formats read ``row.cells`` instead."""
    return [cell_text(v, c.kind, lang) for v, c in zip(row.cells, section.columns, strict=True)]
