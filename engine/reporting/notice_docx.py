"""A supervision notice (督办单) as a Word document: letterhead, number, the task, the facts, the demand, the reply.

Rendered from the notice's chained content (through ``notice_text``, which the
PDF shares), so the document says exactly what the chain holds; the colour
names the notice (红色督办单) and tints its issuer.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from duban.engine.domain.supervision_notices import NoticeReply, SupervisionNotice

from .docx_format import FANGSONG, HEI, _font
from .notice_text import notice_paragraphs

TINTS = {"red": RGBColor(0xC0, 0x00, 0x00), "yellow": RGBColor(0xB8, 0x86, 0x0B), "blue": RGBColor(0x1F, 0x4E, 0x9A)}
_CENTRED = {"issuer": (HEI, 22, True), "title": (HEI, 18, True), "number": (FANGSONG, 16, False)}


def notice_docx(n: SupervisionNotice, reply: NoticeReply | None = None) -> bytes:
    doc = Document()
    for para in notice_paragraphs(n, reply):
        p = doc.add_paragraph()
        text = "\n".join(para.lines)
        if para.part in _CENTRED:
            font, size, bold = _CENTRED[para.part]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = _font(p.add_run(text), font, size, bold=bold)
            if para.part == "issuer":
                run.font.color.rgb = TINTS.get(n.color, RGBColor(0, 0, 0))
            continue
        if para.part == "signature":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif para.part == "text":
            p.paragraph_format.first_line_indent = Pt(32)
        _font(p.add_run(text), FANGSONG, 16)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
