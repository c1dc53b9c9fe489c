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
__all__ = [
    "BINARY_FORMATS",
    "FORMATS",
    "SUFFIXES",
    "Letterhead",
    "RenderedFile",
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


def chart_font_warnings(lang: Lang) -> list[str]:
    """What a chart drawn now would warn of (no Chinese font), for commands that draw one without showing it."""
    from ..reporting.chart import NO_CJK_FONT, find_cjk_font

    warnings: list[str] = []
    if find_cjk_font(warnings) is None:
        warnings.append(NO_CJK_FONT.pick(lang))
    return warnings


def render_report(
    report: Report,
    fmt: str,
    lang: Lang,
    *,
    chart_png: bytes | None = None,
    issuer: str | None = None,
    letterhead: Letterhead | None = None,
) -> bytes:
    return render(report, fmt, lang, chart_png=chart_png, issuer=issuer, letterhead=letterhead)


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
    """What an issued circular keeps: its files in the configured formats, and the chart."""
    png = draw_chart(report, lang)[0] if chart or any(f in ("docx", "html") for f in formats) else None
    stem = file_stem(report, lang)
    out = [
        RenderedFile(
            stem + SUFFIXES[fmt],
            MEDIA_TYPES[fmt],
            render(report, fmt, lang, chart_png=png, issuer=issuer, letterhead=letterhead),
        )
        for fmt in formats
    ]
    if chart and png is not None:
        out.append(RenderedFile(stem + ".png", "image/png", png))
    return out
