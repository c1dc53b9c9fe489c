"""The circular as a workbook: a summary sheet, then one sheet per section, with typed cells.

Rates are stored as fractions formatted as percentages, so whoever filters or
sums the sheet works with numbers rather than with text that looks like them.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import date

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from duban.engine.domain.report import Report, headline, notes, rounded_rate
from duban.engine.domain.text import Lang

from ..domain.formula import starts_formula
from . import labels as L
from .cells import Cell, ColumnKind, cell_text
from .tables import Column, Section, sections

RED_FILL = PatternFill("solid", fgColor="FFC7CE")
RED_FONT = Font(color="9C0006")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
HEADER_FONT = Font(bold=True)
RATE_FORMAT = "0.0%"
_NUMBER_FORMATS: dict[str, str] = {"rate": RATE_FORMAT, "points": "+0.0;-0.0;0.0", "change": "+0;-0;0"}
_DATE_FORMATS = {"zh": 'yyyy"年"m"月"d"日"', "en": "yyyy-mm-dd"}
MAX_WIDTH = 60  # wider text wraps instead of pushing the next column off screen
_SHEET_NAME_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def display_width(text: str) -> int:
    """CJK characters take two columns in Excel's width unit, Latin ones one."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _put_text(cell: XCell, text: str) -> None:
    """Keep ledger words as text: '=HYPERLINK(…)' must never become a formula.

    The cell is a string with Excel's own quote prefix, so the title reads as
    typed and no spreadsheet evaluates it.
    """
    cell.value = text
    cell.data_type = "s"
    if starts_formula(text):
        cell.quotePrefix = True


def _put(cell: XCell, value: Cell, kind: ColumnKind, lang: Lang) -> None:
    if value is None:
        _put_text(cell, cell_text(None, kind, lang))
    elif isinstance(value, str):
        _put_text(cell, value)
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = _DATE_FORMATS[lang]
    else:
        # A rate is stored rounded half up, so the sheet's 0.0 % shows what every other format prints.
        cell.value = rounded_rate(value) if kind == "rate" and isinstance(value, float) else value
        if kind in _NUMBER_FORMATS:
            cell.number_format = _NUMBER_FORMATS[kind]


def _fit(ws: Worksheet, widths: dict[int, int]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(MAX_WIDTH, width + 2)


def _sheet_name(title: str, used: set[str]) -> str:
    name = title.translate(_SHEET_NAME_FORBIDDEN)[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[: 31 - len(str(n)) - 1]}_{n}"
        n += 1
    used.add(name)
    return name


def _section_sheet(ws: Worksheet, section: Section, lang: Lang) -> None:
    widths: dict[int, int] = {}

    def widen(col: int, text: str) -> None:
        widths[col] = max(widths.get(col, 0), *(display_width(line) for line in text.splitlines() or [""]))

    for col, column in enumerate(section.columns, start=1):
        cell = ws.cell(row=1, column=col)
        _put_text(cell, column.label)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        widen(col, column.label)
    ws.freeze_panes = "A2"
    for r, row in enumerate(section.rows, start=2):
        for col, (value, column) in enumerate(zip(row.cells, section.columns, strict=True), start=1):
            cell = ws.cell(row=r, column=col)
            _put(cell, value, column.kind, lang)
            cell.alignment = _alignment(column)
            if row.highlight:
                cell.fill, cell.font = RED_FILL, RED_FONT
            elif row.total:
                cell.font = HEADER_FONT
            widen(col, cell_text(value, column.kind, lang))
    if section.note:
        _put_text(ws.cell(row=len(section.rows) + 3, column=1), section.note)
    _fit(ws, widths)


def _alignment(column: Column) -> Alignment:
    return Alignment(wrap_text=True, vertical="top", horizontal="right" if column.numeric else "left")


def _summary_sheet(ws: Worksheet, report: Report, lang: Lang) -> None:
    _put_text(ws["A1"], L.title(report, lang))
    ws["A1"].font = Font(bold=True, size=14)
    _put_text(ws["A2"], L.period_line(report, lang))
    _put_text(ws["A3"], headline(report, lang))
    ws.merge_cells("A3:B3")
    ws["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[3].height = 75
    t = report.totals
    figures: list[tuple[str, int | float | None, ColumnKind]] = [
        (L.TASKS.pick(lang), t.tasks, "count"),
        (L.CLOSED.pick(lang), t.closed, "count"),
        (L.NOT_STARTED.pick(lang), t.not_started, "count"),
        (L.IN_PROGRESS.pick(lang), t.in_progress, "count"),
        (L.SUBMITTED.pick(lang), t.submitted, "count"),
        (L.REVIEWED.pick(lang), t.reviewed, "count"),
        (L.OVERDUE_COUNT.pick(lang), t.overdue, "count"),
        (L.COMPLETION_RATE.pick(lang), t.completion_rate, "rate"),
        (L.ON_TIME_RATE.pick(lang), t.on_time_rate, "rate"),
    ]
    for r, (label, value, kind) in enumerate(figures, start=5):
        _put_text(ws.cell(row=r, column=1), label)
        ws.cell(row=r, column=1).font = HEADER_FONT
        _put(ws.cell(row=r, column=2), value, kind, lang)
    r = 5 + len(figures) + 1
    if notes(report, lang):
        _put_text(ws.cell(row=r, column=1), L.NOTES.pick(lang))
        ws.cell(row=r, column=1).font = HEADER_FONT
        for i, note in enumerate(notes(report, lang), start=r + 1):
            _put_text(ws.cell(row=i, column=1), note)
    ws.column_dimensions["A"].width = max(display_width(label) for label, _, _ in figures) + 4
    ws.column_dimensions["B"].width = MAX_WIDTH


def render_xlsx(report: Report, lang: Lang) -> bytes:
    wb = Workbook()
    used: set[str] = set()
    summary = wb.active
    assert summary is not None  # a new workbook always has its first sheet
    summary.title = _sheet_name(L.SUMMARY.pick(lang), used)
    _summary_sheet(summary, report, lang)
    for section in sections(report, lang):
        _section_sheet(wb.create_sheet(_sheet_name(section.title, used)), section, lang)
    wb.properties.title = L.title(report, lang)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
