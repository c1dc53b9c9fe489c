"""A report's files: every format rendered from the one Report, and the chart beside them."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import RenderableType

from ..domain.report import Report
from ..domain.text import Lang
from ..reporting.letterhead import Letterhead
from ..reporting.render import FORMATS, MEDIA_TYPES, SUFFIXES, render
from ..reporting.terminal import render_terminal

BINARY_FORMATS = ("xlsx", "docx")
CHART_SUFFIX, CHART_MEDIA_TYPE = ".svg", "image/svg+xml"  # the chart an issued circular keeps
__all__ = [
    "BINARY_FORMATS",
    "CHART_MEDIA_TYPE",
    "CHART_SUFFIX",
    "FORMATS",
    "SUFFIXES",
    "Letterhead",
    "RenderedFile",
    "chart_svg",
    "draw_chart",
    "render_files",
    "render_report",
]


@dataclass(frozen=True)
class RenderedFile:
    name: str
    media_type: str
    content: bytes


def draw_chart(report: Report, lang: Lang) -> tuple[bytes, list[str]]:
    """The PNG and what the reader should know about it (no Chinese font: English labels)."""
    from ..reporting.chart import unit_chart  # matplotlib loads only when a chart is drawn

    chart = unit_chart(report, lang)
    return chart.png, list(chart.warnings)


def chart_svg(report: Report, lang: Lang) -> bytes:
    """The chart as SVG: drawn without a font, so nothing to warn of; the reader's viewer sets the Chinese."""
    from ..reporting.svg_chart import unit_chart_svg

    return unit_chart_svg(report, lang).encode("utf-8")


def render_report(
    report: Report,
    fmt: str,
    lang: Lang,
    *,
    chart: bool = True,
    issuer: str | None = None,
    letterhead: Letterhead | None = None,
) -> bytes:
    return render(report, fmt, lang, chart=chart, issuer=issuer, letterhead=letterhead)


def terminal(report: Report, lang: Lang) -> list[RenderableType]:
    return render_terminal(report, lang)


def file_stem(report: Report, lang: Lang) -> str:
    p = report.period
    word = "整改进展通报" if lang == "zh" else "circular"
    return f"{word}-{p.start.isoformat()}-{p.end.isoformat()}"


def render_files(
    report: Report,
    lang: Lang,
    *,
    formats: tuple[str, ...],
    chart: bool,
    issuer: str | None,
    letterhead: Letterhead | None = None,
) -> list[RenderedFile]:
    """What an issued circular keeps: its files in the configured formats, and the chart (SVG: no font needed)."""
    stem = file_stem(report, lang)
    out = [
        RenderedFile(
            stem + SUFFIXES[fmt],
            MEDIA_TYPES[fmt],
            render(report, fmt, lang, chart=chart, issuer=issuer, letterhead=letterhead),
        )
        for fmt in formats
    ]
    if chart:
        out.append(RenderedFile(stem + CHART_SUFFIX, CHART_MEDIA_TYPE, chart_svg(report, lang)))
    return out
