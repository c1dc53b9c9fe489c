"""A supervision notice (督办单) as a Word document: letterhead, number, the task, the facts, the demand, the reply.

Rendered from the notice's chained content, so the document says exactly what
the chain holds; the colour names the notice (红色督办单) and tints its title.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from duban.engine.domain.supervision_notices import COLOR_NAMES, NoticeReply, SupervisionNotice

from .cells import date_text
from .docx_format import FANGSONG, HEI, _font

TINTS = {"red": RGBColor(0xC0, 0x00, 0x00), "yellow": RGBColor(0xB8, 0x86, 0x0B), "blue": RGBColor(0x1F, 0x4E, 0x9A)}


def notice_docx(n: SupervisionNotice, reply: NoticeReply | None = None) -> bytes:
    doc = Document()
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = _font(head.add_run(n.issuer), HEI, 22, bold=True)
    run.font.color.rgb = TINTS.get(n.color, RGBColor(0, 0, 0))
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(COLOR_NAMES.get(n.color, (n.color, n.color))[0]), HEI, 18, bold=True)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(number.add_run(n.number), FANGSONG, 16)
    _line(doc, f"{n.unit}：")
    deadline = date_text(n.deadline, "zh") if n.deadline else "长期坚持"
    facts = (
        f"你单位承担的整改任务“{n.title}”（{n.task}），整改时限为{deadline}，"
        f"截至{date_text(n.issued_on, 'zh')}已逾期{n.days_overdue}个工作日，已升至第{n.level}级督办。"
    )
    _line(doc, facts, indent=True)
    if n.earlier:
        _line(doc, f"此前已就该任务下发{'、'.join(n.earlier)}。", indent=True)
    if n.leader:
        _line(doc, f"责任领导：{n.leader}。", indent=True)
    _line(doc, n.demand, indent=True)
    _line(doc, f"反馈期限：{date_text(n.reply_by, 'zh')}前。", indent=True)
    sign = doc.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(sign.add_run(f"{n.issuer}\n{date_text(n.issued_on, 'zh')}"), FANGSONG, 16)
    if reply is not None:
        late = "（逾期反馈）" if reply.late else ""
        _line(doc, f"反馈情况{late}：{date_text(reply.on, 'zh')}，{reply.by}：{reply.note}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _line(doc: Document, text: str, *, indent: bool = False) -> None:  # type: ignore[valid-type]
    p = doc.add_paragraph()  # type: ignore[attr-defined]
    if indent:
        p.paragraph_format.first_line_indent = Pt(32)
    _font(p.add_run(text), FANGSONG, 16)
