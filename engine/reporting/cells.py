"""How one table cell reads as text, for the formats that carry text rather than typed values."""

from __future__ import annotations

from datetime import date
from typing import Literal

from duban.engine.domain.report import pct
from duban.engine.domain.text import Lang

# text: words from the ledger; count: a number of tasks; rank; rate: a fraction 0..1;
# points: a change in percentage points; change: a signed change in a count; date.
# score: a unit's score or a rule's share of it (92.5, -13).
ColumnKind = Literal["text", "count", "rank", "rate", "points", "change", "date", "score"]
Cell = str | int | float | date | None

NUMERIC_KINDS: frozenset[str] = frozenset({"count", "rank", "rate", "points", "change", "score"})


def date_text(day: date, lang: Lang) -> str:
    """Chinese dates as the headline and the period label write them, so one circular reads alike throughout."""
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else day.isoformat()


def cell_text(value: Cell, kind: ColumnKind, lang: Lang) -> str:
    if kind in ("rate", "points") and value is None:
        return "—"
    if value is None:
        return ""
    if isinstance(value, date):
        return date_text(value, lang)
    if isinstance(value, str):
        return value
    if kind == "rate":
        return pct(value)
    if kind == "points":
        return "0.0" if value == 0 else f"{value:+.1f}"
    if kind == "score":
        return f"{value:g}"
    if kind == "change":
        return "0" if value == 0 else f"{int(value):+d}"
    return str(value)
