"""Ledgers out: the tasks as a spreadsheet in the ledger's own columns, in either language.

The rows come from the export read model (persistence/read/ledger_export.py); here they become cells:
the state's label, the light and days overdue as of the export's day, the deadline as the ledger wrote
it, and the ledger's own other columns under their own headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..app import App
from ..domain.errors import InvalidInput, unknown_state
from ..domain.text import Bilingual, Lang
from ..domain.watch import task_standing
from ..domain.workflow import IMPORT_TRIGGER
from ..ledger import headers as H
from ..ledger.cells import numbered
from ..ledger.writer import Cell, Column, export_format, write_ledger
from ..persistence.read.ledger_export import ClosedEntry, ExportQuery
from ..persistence.read.ledger_page import LedgerQuery
from .co_unit_report import export_parts
from .org import resolve_unit


@dataclass(frozen=True)
class ExportFilter:
    campaign: str | None = None
    states: tuple[str, ...] = ()
    unit: str | None = None
    workflow: str | None = None
    as_of: date | None = None  # the ledger as it stood at the end of that day
    lang: Lang = "zh"
    page: LedgerQuery | None = None  # the web ledger's filters, visibility included: the file is what the page lists
    source: str | None = None  # 问题来源; NO_SOURCE ('-'): tasks that cite none


@dataclass(frozen=True)
class ExportResult:
    file: str
    format: str
    rows: int
    as_of: date | None


_WIDTHS = {
    "seq": 6,
    "problem": 40,
    "measures": 50,
    "leader": 10,
    "unit": 16,
    "co_units": 18,
    "person": 10,
    "deadline": 12,
    "status": 24,
    "category": 12,
    "code": 15,
    "state": 10,
    "light": 6,
    "days_overdue": 8,
    "note": 30,
    "closed_on": 12,
    "campaign": 20,
    "priority": 8,
    "title": 30,
    "deadline_date": 12,
    "assigned_on": 12,
    "target": 30,
    "sign_by": 12,
    "signed_at": 17,
    "source": 12,
    "source_ref": 24,
    "source_date": 12,
    "co_unit_parts": 24,
}
EXPORT_FIELDS = (
    "seq",
    "problem",
    "measures",
    "leader",
    "unit",
    "co_units",
    "person",
    "deadline",
    "status",
    "category",
    "code",
    "state",
    "light",
    "days_overdue",
    "note",
    "closed_on",
    "campaign",
    "priority",
    "title",
    "deadline_date",  # the date in force; 整改时限 keeps the deadline as the ledger wrote it
    "assigned_on",
    "target",
    "sign_by",
    "signed_at",  # as of the export's day: a task signed for later was not yet signed for then
    "source",
    "source_ref",
    "source_date",
    "co_unit_parts",  # 配合情况: each co-unit's part as of the export's day
)
WRAPPED = {"problem", "measures", "status", "note", "co_units", "target", "source_ref", "co_unit_parts"}
LEDGER_COLUMN_WIDTH = 16
LIGHT_WORDS = {"red": Bilingual("红", "red"), "yellow": Bilingual("黄", "yellow"), "green": Bilingual("绿", "green")}


def export_ledger(app: App, path: Path, flt: ExportFilter) -> ExportResult:
    """One row per task with the ledger's own columns, in the chosen language; ``as_of`` reads states from events."""
    kind = export_format(path)
    for s in flt.states:
        known = {k for spec in app.registry.specs for k in spec.states}
        if s not in known:
            raise InvalidInput(what=Bilingual("状态", "state"), detail=unknown_state(s, known))
    if flt.workflow:
        app.registry.machine(flt.workflow)
    lang = flt.lang
    if flt.as_of is not None:
        end = datetime.combine(flt.as_of + timedelta(days=1), time(0), app.tz).astimezone(UTC) - timedelta(
            microseconds=1
        )
        today = flt.as_of
    else:
        end = None
        today = app.clock.now().astimezone(app.tz).date()
    with app.uow(write=False) as uow:
        found = uow.ledger_export.rows(
            ExportQuery(
                end=end,
                campaign=flt.campaign or None,
                workflow=flt.workflow or None,
                unit_id=resolve_unit(uow.org, flt.unit) if flt.unit else None,
                states=flt.states,
                page=flt.page,
                source=flt.source,
                without_source=flt.source == NO_SOURCE,
            )
        )
        parts = export_parts(app, uow, [t.id for t in found.tasks], end, lang)
    tasks, co_units, notes, imported, closed_on = (
        found.tasks,
        found.co_units,
        found.notes,
        found.imported,
        found.closed_on,
    )
    specs = {t.workflow: app.registry.find(t.workflow) for t in tasks}
    field_keys: dict[str, Bilingual] = {}
    for spec in specs.values():
        if spec is not None:
            for k, f in spec.fields.items():
                field_keys.setdefault(k, f.label)
    columns = [Column(f, H.label(f).pick(lang), _WIDTHS[f], f in WRAPPED) for f in EXPORT_FIELDS]
    columns += [Column(H.FIELD_PREFIX + k, lab.pick(lang), 14) for k, lab in field_keys.items()]
    # the ledger's own other columns, under their own headers, in the order they first appear
    kept: dict[str, None] = {}
    for t in tasks:
        for pair in t.ledger_columns or ():
            kept.setdefault(str(pair[0]), None)
    taken = {c.header for c in columns}
    kept_headers = [h for h in kept if h not in taken]
    columns += [Column("ledger:" + h, h, LEDGER_COLUMN_WIDTH, True) for h in kept_headers]

    def rows() -> Iterator[tuple[list[Cell], bool]]:
        for i, t in enumerate(tasks, 1):
            spec = specs[t.workflow]
            state, deadline = t.state_at, t.deadline_at
            label = spec.state_label(state).pick(lang) if spec else state
            stand = task_standing(spec, state, deadline, today, app.calendar) if spec else None
            data = imported.get(t.id) or {}
            note = notes.get(t.id) or data.get("note")
            closed: date | None = None
            if state == "closed":
                closed = _closed_date(closed_on.get(t.id), data, app)
            values: list[Cell] = [
                i,
                t.problem,  # blank for a task assigned without one: its title is in the title column
                numbered(list(t.measures or [])),
                t.leader_name or t.lead_leader_id or "",
                t.unit_name,
                "、".join(co_units.get(t.id, [])),
                t.person_name or t.responsible_person_id or "",
                _deadline_cell(t.deadline_expr, deadline, bool(t.ongoing)),
                f"{label}{'：' if lang == 'zh' else ': '}{note}" if note else label,
                t.category,
                t.code,
                label,
                LIGHT_WORDS[stand.light].pick(lang) if stand and stand.light else None,
                stand.days_overdue if stand else None,
                note,
                closed,
                t.campaign,
                t.priority,
                t.title,
                deadline,
                t.assigned_on,
                t.target,
                t.sign_by,
                _signed_cell(t.signed_at, end, app),
                t.source,
                t.source_ref,
                t.source_date,
                parts.get(t.id),
            ]
            values += [_field_cell((t.fields or {}).get(k)) for k in field_keys]
            if kept_headers:
                own = {str(h): v for h, v in (t.ledger_columns or ())}
                values += [own.get(h) for h in kept_headers]
            yield values, bool(stand and stand.light == "red")

    sheet = "整改台账" if lang == "zh" else "Ledger"
    n = write_ledger(path, columns, rows(), sheet_title=sheet)
    return ExportResult(file=str(path), format=kind, rows=n, as_of=flt.as_of)


def _signed_cell(signed_at: datetime | None, end: datetime | None, app: App) -> str | None:
    """签收时间 in the zone, to the minute; blank where it came after the day the export stands at."""
    if signed_at is None or (end is not None and signed_at > end):
        return None
    return signed_at.astimezone(app.tz).strftime("%Y-%m-%d %H:%M")


NO_SOURCE = "-"  # `--source -`: tasks that cite no source


def _closed_date(entered: ClosedEntry | None, data: dict[str, Any], app: App) -> date | None:
    if entered is None:
        return None
    at, trigger = entered
    if trigger == IMPORT_TRIGGER and data.get("closed_on"):
        try:
            return date.fromisoformat(str(data["closed_on"]))
        except ValueError:
            pass
    return at.astimezone(app.tz).date()


def _deadline_cell(expression: str | None, due: date | None, ongoing: bool) -> Cell:
    """整改时限 as the ledger wrote it (立行立改, 6月底前); a plain date where it was one."""
    if expression and expression.strip():
        text = expression.strip()
        if due is not None and text == due.isoformat():
            return due
        return text
    return due if due is not None else ("长期坚持" if ongoing else None)


def _field_cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, list):
        return "、".join(map(str, value))
    if isinstance(value, int):
        return value
    return str(value)
