"""The circular as a Word document, laid out the way an office sends one.

Word picks a Latin font for Chinese unless a run names an East Asian font
(``w:eastAsia``), so every run here names one: 黑体 for titles, 仿宋 for text.
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from engine.domain.report import Report, headline
from engine.domain.text import Lang

from . import labels as L
from .tables import Section, row_texts, sections

HEI = "黑体"
FANGSONG = "仿宋"
LATIN = "Times New Roman"
CHART_WIDTH = Cm(15)
RED_SHADING = "FFC7CE"
HEADER_SHADING = "D9E1F2"
RED_TEXT = RGBColor(0x9C, 0x00, 0x06)
_NUMERALS = "一二三四五六七八九十"


def _font(run: Run, east_asia: str, size: float, *, bold: bool = False) -> Run:
    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)
    return run


def _heading_number(n: int, lang: Lang) -> str:
    """一、二、… as Chinese documents number their parts."""
    if lang == "zh" and n <= len(_NUMERALS):
        return f"{_NUMERALS[n - 1]}、"
    return f"{n}. "


def _heading(doc: DocumentObject, n: int, text: str, lang: Lang) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(12)
    p.paragraph_format.keep_with_next = True
    _font(p.add_run(_heading_number(n, lang) + text), HEI, 16)


def _text(doc: DocumentObject, text: str, *, size: float = 14, italic: bool = False, indent: bool = False) -> Paragraph:
    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)  # 首行缩进两字
    _font(p.add_run(text), FANGSONG, size).font.italic = italic
    return p


def _shade(cell: _Cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _table(doc: DocumentObject, section: Section, lang: Lang) -> None:
    table = doc.add_table(rows=1 + len(section.rows), cols=len(section.columns))
    table.style = "Table Grid"
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on every page
    for cell, column in zip(header.cells, section.columns, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(cell.paragraphs[0].add_run(column.label), HEI, 9)
        _shade(cell, HEADER_SHADING)
    for tr, row in zip(table.rows[1:], section.rows, strict=True):
        for cell, text, column in zip(tr.cells, row_texts(section, row, lang), section.columns, strict=True):
            p = cell.paragraphs[0]
            if column.numeric:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = _font(p.add_run(text), FANGSONG, 9, bold=row.total)
            if row.highlight:
                run.font.color.rgb = RED_TEXT
                _shade(cell, RED_SHADING)


def render_docx(report: Report, lang: Lang, *, chart_png: bytes | None = None, issuer: str | None = None) -> bytes:
    doc = Document()
    page = doc.sections[0]
    page.page_width, page.page_height = Cm(21), Cm(29.7)  # A4, not the template's Letter
    page.left_margin = page.right_margin = Cm(2.2)
    page.top_margin = page.bottom_margin = Cm(2.5)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FANGSONG)

    title = L.title(report, lang)
    doc.core_properties.title = title
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(title), HEI, 22, bold=True)
    period = L.period_line(report, lang)
    _text(doc, f"{issuer}　　{period}" if issuer else period).alignment = WD_ALIGN_PARAGRAPH.CENTER

    _heading(doc, 1, L.SUMMARY.pick(lang), lang)
    _text(doc, headline(report, lang), indent=True)
    for note in report.notes:
        _text(doc, note, size=12, indent=True)
    for n, section in enumerate(sections(report, lang), start=2):
        _heading(doc, n, section.title, lang)
        if section.rows:
            _table(doc, section, lang)
        if section.note:
            _text(doc, section.note, size=12, italic=True)
        if section.key == "units" and chart_png:
            doc.add_picture(io.BytesIO(chart_png), width=CHART_WIDTH)
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
