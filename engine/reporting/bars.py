"""The chart's figures, drawn by no one: each unit's bar split into closed, open and overdue, in rank order.

The SVG chart (HTML, the stored chart) and the Word chart (a table of shaded cells) draw from the same bars,
so both say what the PNG says without needing a font on the server: the reader's browser or Word sets the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from duban.engine.domain.report import Report, pct
from duban.engine.domain.text import Lang

from . import labels as L

CLOSED_COLOUR = "#2e7d32"
OPEN_COLOUR = "#90a4ae"
OVERDUE_COLOUR = "#c62828"


@dataclass(frozen=True, slots=True)
class Bar:
    unit: str
    closed: int
    open: int  # open and not overdue
    overdue: int
    rate: str  # the completion rate as the tables print it

    @property
    def total(self) -> int:
        return self.closed + self.open + self.overdue


@dataclass(frozen=True, slots=True)
class Legend:
    title: str
    closed: str
    open: str
    overdue: str
    axis: str


def bars(report: Report) -> list[Bar]:
    units = sorted(report.units, key=lambda u: u.rank)
    return [
        Bar(u.unit, u.counts.closed, max(u.counts.open_not_overdue, 0), u.counts.overdue, pct(u.counts.completion_rate))
        for u in units
    ]


def legend(report: Report, lang: Lang) -> Legend:
    return Legend(
        L.CHART_TITLE.pick(lang).format(period=report.period.label(lang)),
        L.CLOSED.pick(lang),
        L.CHART_OPEN.pick(lang),
        L.OVERDUE_COUNT.pick(lang),
        L.CHART_AXIS.pick(lang),
    )


def segments(bar: Bar, widest: int, cells: int) -> tuple[int, int, int]:
    """The bar in whole cells of a row ``cells`` wide for the widest bar: each part that has a task gets a cell."""
    if widest <= 0 or bar.total == 0:
        return (0, 0, 0)
    length = max(1, round(bar.total * cells / widest))
    parts = [bar.closed, bar.open, bar.overdue]
    shares = [p * length / bar.total for p in parts]
    out = [int(s) for s in shares]
    for i, p in enumerate(parts):  # a part with tasks is never invisible
        if p and not out[i]:
            out[i] = 1
    while sum(out) > length and max(out) > 1:  # give back from the largest part
        out[out.index(max(out))] -= 1
    order = sorted(range(3), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in order:  # the largest remainders fill the row
        if sum(out) >= length:
            break
        if parts[i]:
            out[i] += 1
    return (out[0], out[1], out[2])
