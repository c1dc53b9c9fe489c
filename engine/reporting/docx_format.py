"""The circular as a Word document, laid out the way an office sends one.

Word picks a Latin font for Chinese unless a run names an East Asian font
(``w:eastAsia``), so every run here names one: 黑体 for titles, 仿宋 for text.
The chart is Word's own: a borderless table whose shaded cells are the bars,
so Word sets its Chinese and the server needs no font to draw a picture.
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

from duban.engine.domain.report import Report, headline, notes
from duban.engine.domain.text import Lang

from . import labels as L
from .bars import CLOSED_COLOUR, OPEN_COLOUR, OVERDUE_COLOUR, bars, legend, segments
from .cells import date_text
from .letterhead import Letterhead
from .tables import Section, row_texts, sections

HEI = "黑体"
FANGSONG = "仿宋"
LATIN = "Times New Roman"
CHART_CELLS = 30  # the widest unit's bar, in cells
CHART_NAME_WIDTH, CHART_RATE_WIDTH, CHART_BAR_WIDTH = Cm(3.8), Cm(1.8), Cm(10.5)
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


def _chart(doc: DocumentObject, report: Report, lang: Lang) -> None:
    """Each unit a row: its name, its bar as shaded cells (closed, open, overdue), its completion rate."""
    words = legend(report, lang)
    rows = bars(report)
    if not rows:
        return
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.keep_with_next = True
    _font(caption.add_run(words.title), HEI, 12)
    widest = max(b.total for b in rows)
    table = doc.add_table(rows=len(rows), cols=CHART_CELLS + 2)
    table.autofit = False  # a fixed layout: the cells keep their widths, so the bars are to scale
    described = OxmlElement("w:tblCaption")  # the table's alt text: a reader (and a test) knows it is the chart
    described.set(qn("w:val"), words.title)
    table._tbl.tblPr.append(described)
    cell_width = int(CHART_BAR_WIDTH / CHART_CELLS)
    for tr, bar in zip(table.rows, rows, strict=True):
        cells = tr.cells
        cells[0].width = CHART_NAME_WIDTH
        name = cells[0].paragraphs[0]
        name.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _font(name.add_run(bar.unit), FANGSONG, 9)
        closed, open_, overdue = segments(bar, widest, CHART_CELLS)
        fills = [CLOSED_COLOUR] * closed + [OPEN_COLOUR] * open_ + [OVERDUE_COLOUR] * overdue
        for i in range(CHART_CELLS):
            cells[1 + i].width = cell_width
            if i < len(fills):
                _shade(cells[1 + i], fills[i].lstrip("#").upper())
        cells[-1].width = CHART_RATE_WIDTH
        _font(cells[-1].paragraphs[0].add_run(bar.rate), FANGSONG, 9)
    key = doc.add_paragraph()
    key.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for label, colour in ((words.closed, CLOSED_COLOUR), (words.open, OPEN_COLOUR), (words.overdue, OVERDUE_COLOUR)):
        mark = _font(key.add_run("■"), FANGSONG, 10)
        mark.font.color.rgb = RGBColor.from_string(colour.lstrip("#").upper())
        _font(key.add_run(f"{label}　"), FANGSONG, 10)


def _rule(p: Paragraph, edge: str) -> None:
    """A line across the page above or below a paragraph: under the masthead, around the 抄送 block."""
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    line = OxmlElement(f"w:{edge}")
    for key, value in (("w:val", "single"), ("w:sz", "8"), ("w:space", "1"), ("w:color", "auto")):
        line.set(qn(key), value)
    borders.append(line)
    ppr.append(borders)


def render_docx(report: Report, lang: Lang, *, chart: bool = True, letterhead: Letterhead | None = None) -> bytes:
    """Laid out as an office issues a 通报: 第N期, office and date, title, 一、二、… sections, 落款, 抄送."""
    head = letterhead or Letterhead()
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
    number = head.number(lang)
    if number:
        _text(doc, number).alignment = WD_ALIGN_PARAGRAPH.CENTER
    masthead = _text(doc, head.masthead(report, lang))
    masthead.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _rule(masthead, "bottom")
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(title), HEI, 22, bold=True)
    _text(doc, L.period_line(report, lang)).alignment = WD_ALIGN_PARAGRAPH.CENTER

    _heading(doc, 1, L.SUMMARY.pick(lang), lang)
    _text(doc, headline(report, lang), indent=True)
    for note in notes(report, lang):
        _text(doc, note, size=12, indent=True)
    for n, section in enumerate(sections(report, lang), start=2):
        _heading(doc, n, section.title, lang)
        if section.rows:
            _table(doc, section, lang)
        if section.note:
            _text(doc, section.note, size=12, italic=True)
        if section.key == "units" and chart:
            _chart(doc, report, lang)
    signed = head.signed_by()
    if signed:
        doc.add_paragraph()
        _text(doc, signed).alignment = WD_ALIGN_PARAGRAPH.RIGHT  # 落款
        _text(doc, date_text(head.day(report), lang)).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    cc = head.cc_line(lang)
    if cc:
        block = _text(doc, cc, size=12)
        _rule(block, "top")
        _rule(block, "bottom")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
