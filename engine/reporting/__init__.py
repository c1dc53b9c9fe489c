"""The circular (定期通报) rendered into every format a supervision office sends or files.

Every tabular format is built from one list of sections (``tables.sections``),
so a unit's figures cannot differ between the Word circular, the spreadsheet
and the web page.

The chart is loaded on first use, and the workbook and Word writers when a
format asks for them: matplotlib and openpyxl take half a second to import,
which a command that only prints a table should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .render import FORMATS, MEDIA_TYPES, SUFFIXES, render
from .terminal import render_terminal

if TYPE_CHECKING:
    from .chart import CHART_SIZE, Chart, unit_chart

__all__ = [
    "CHART_SIZE",
    "FORMATS",
    "MEDIA_TYPES",
    "SUFFIXES",
    "Chart",
    "render",
    "render_terminal",
    "unit_chart",
]


def __getattr__(name: str) -> object:
    if name in ("CHART_SIZE", "Chart", "unit_chart"):
        from . import chart

        return getattr(chart, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
