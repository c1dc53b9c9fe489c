"""One entry point for every stored format, with the media type and suffix to file it under."""

from __future__ import annotations

import json

from duban.engine.domain.errors import InvalidInput
from duban.engine.domain.report import Report, to_dict
from duban.engine.domain.text import Lang

from .csv_format import render_csv
from .html import render_html
from .letterhead import Letterhead
from .markdown import render_markdown

FORMATS: tuple[str, ...] = ("markdown", "csv", "xlsx", "html", "docx", "json")

MEDIA_TYPES: dict[str, str] = {
    "markdown": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
}

SUFFIXES: dict[str, str] = {
    "markdown": ".md",
    "csv": ".csv",
    "xlsx": ".xlsx",
    "html": ".html",
    "docx": ".docx",
    "json": ".json",
}


def render(
    report: Report,
    fmt: str,
    lang: Lang,
    *,
    chart: bool = True,
    issuer: str | None = None,
    letterhead: Letterhead | None = None,
) -> bytes:
    """The chart and the letterhead (number, issuing office, 落款, 抄送) appear where a format has room (HTML, Word).

    Both draw the chart natively (SVG, a Word table), so it needs no font on the server.
    """
    head = letterhead or Letterhead(issuer=issuer)
    if fmt == "markdown":
        return render_markdown(report, lang).encode("utf-8")
    if fmt == "csv":
        return render_csv(report, lang)
    if fmt == "xlsx":
        from .xlsx import render_xlsx  # openpyxl is imported only by those who ask for a workbook

        return render_xlsx(report, lang)
    if fmt == "html":
        return render_html(report, lang, chart=chart, letterhead=head).encode("utf-8")
    if fmt == "docx":
        from .docx_format import render_docx

        return render_docx(report, lang, chart=chart, letterhead=head)
    if fmt == "json":
        return json.dumps(to_dict(report, lang), ensure_ascii=False, indent=2).encode("utf-8")
    raise InvalidInput(what="format", detail=f"'{fmt}' is not one of {', '.join(FORMATS)}")
