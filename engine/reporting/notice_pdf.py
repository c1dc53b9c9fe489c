"""A supervision notice (督办单) as a PDF: the same paragraphs as the Word document, for those who print or archive.

Chinese is set in reportlab's built-in CID font STSong-Light, which names a font
every PDF reader ships (Adobe's Asian font packs) instead of embedding one, so the
server needs no font file and the file stays a few kilobytes. ``invariant=1``
fixes the dates and the document id reportlab would otherwise take from the
clock: the same notice gives the same bytes, so the file channel stores it once.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate

from duban.engine.domain.supervision_notices import COLOR_NAMES, NoticeReply, SupervisionNotice

from .notice_text import Part, notice_paragraphs

FONT = "STSong-Light"  # one CID font for all: it has no bold, so the letterhead is set larger instead
TINTS = {"red": Color(0.75, 0, 0), "yellow": Color(0.72, 0.53, 0.04), "blue": Color(0.12, 0.31, 0.6)}


def _style(name: str, size: float, align: int, indent: float = 0, before: float = 0) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=FONT,
        fontSize=size,
        leading=size * 1.75,
        alignment=align,
        firstLineIndent=indent,
        spaceBefore=before,
        wordWrap="CJK",  # break between any two Chinese characters, as an office document does
    )


STYLES: dict[Part, ParagraphStyle] = {
    "issuer": _style("issuer", 24, TA_CENTER),
    "title": _style("title", 20, TA_CENTER),
    "number": _style("number", 16, TA_CENTER),
    "addressee": _style("addressee", 16, TA_LEFT, before=12),
    "text": _style("text", 16, TA_LEFT, indent=32),
    "signature": _style("signature", 16, TA_RIGHT, before=24),
    "reply": _style("reply", 16, TA_LEFT, before=12),
}


def notice_pdf(n: SupervisionNotice, reply: NoticeReply | None = None) -> bytes:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=37 * mm,
        bottomMargin=35 * mm,
        invariant=1,
        title=f"{COLOR_NAMES.get(n.color, (n.color, n.color))[0]} {n.number}",
        author=n.issuer,
        subject=f"{n.title}（{n.task}）",
        creator="duban",
    )
    story = []
    for para in notice_paragraphs(n, reply):
        style = STYLES[para.part]
        if para.part == "issuer":
            style = ParagraphStyle("issuer-tinted", parent=style, textColor=TINTS.get(n.color, black))
        story.append(Paragraph("<br/>".join(escape(line) for line in para.lines), style))
    doc.build(story)
    return out.getvalue()
