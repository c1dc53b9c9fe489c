"""The circular on a terminal (``--format table``): rich renderables the CLI prints with its console."""

from __future__ import annotations

from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from duban.engine.domain.report import Report, headline, notes
from duban.engine.domain.text import Lang

from . import labels as L
from .tables import Section, row_texts, sections


def _table(section: Section, lang: Lang) -> Table:
    table = Table(
        title=section.title, title_justify="left", title_style="bold", header_style="bold", caption=section.note
    )
    for column in section.columns:
        table.add_column(column.label, justify="right" if column.numeric else "left", overflow="fold")
    for row in section.rows:
        style = "red" if row.highlight else ("bold" if row.total else None)
        # Text objects, so a task title like "[red]" is shown as typed rather than read as rich markup.
        table.add_row(*(Text(t) for t in row_texts(section, row, lang)), style=style)
    return table


def render_terminal(report: Report, lang: Lang) -> list[RenderableType]:
    body = Text(headline(report, lang))
    for note in notes(report, lang):
        body.append("\n" + note, style="yellow")
    out: list[RenderableType] = [
        Panel(body, title=Text(L.title(report, lang), style="bold"), subtitle=L.period_line(report, lang))
    ]
    for section in sections(report, lang):
        if section.rows:
            out.append(_table(section, lang))
        else:
            out.append(Text.assemble((section.title, "bold"), "  ", (section.note or "", "dim")))
    return out
