"""What a supervision notice (督办单) says, paragraph by paragraph, for every format that prints it.

The Word and PDF documents are drawn from this one list, so the two files a unit
receives always say the same thing; each format only decides how a kind of
paragraph looks (the letterhead in 黑体 and the colour's tint, the text in 仿宋).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from duban.engine.domain.supervision_notices import COLOR_NAMES, NoticeReply, SupervisionNotice

from .cells import date_text

Part = Literal["issuer", "title", "number", "addressee", "text", "signature", "reply"]


@dataclass(frozen=True, slots=True)
class NoticeParagraph:
    part: Part  # how it is laid out: issuer, title and number centred; text indented; the signature right
    lines: tuple[str, ...]  # more than one only for the signature (issuer, then date)


def notice_paragraphs(n: SupervisionNotice, reply: NoticeReply | None = None) -> list[NoticeParagraph]:
    """Letterhead, number, the unit, the facts, earlier notices, the leader, the demand, the reply day, 落款, reply."""
    deadline = date_text(n.deadline, "zh") if n.deadline else "长期坚持"
    facts = (
        f"你单位承担的整改任务“{n.title}”（{n.task}），整改时限为{deadline}，"
        f"截至{date_text(n.issued_on, 'zh')}已逾期{n.days_overdue}个工作日，已升至第{n.level}级督办。"
    )
    out = [
        NoticeParagraph("issuer", (n.issuer,)),
        NoticeParagraph("title", (COLOR_NAMES.get(n.color, (n.color, n.color))[0],)),
        NoticeParagraph("number", (n.number,)),
        NoticeParagraph("addressee", (f"{n.unit}：",)),
        NoticeParagraph("text", (facts,)),
    ]
    if n.earlier:
        out.append(NoticeParagraph("text", (f"此前已就该任务下发{'、'.join(n.earlier)}。",)))
    if n.leader:
        out.append(NoticeParagraph("text", (f"责任领导：{n.leader}。",)))
    out.append(NoticeParagraph("text", (n.demand,)))
    out.append(NoticeParagraph("text", (f"反馈期限：{date_text(n.reply_by, 'zh')}前。",)))
    out.append(NoticeParagraph("signature", (n.issuer, date_text(n.issued_on, "zh"))))
    if reply is not None:
        late = "（逾期反馈）" if reply.late else ""
        out.append(
            NoticeParagraph("reply", (f"反馈情况{late}：{date_text(reply.on, 'zh')}，{reply.by}：{reply.note}",))
        )
    return out


def notice_filename(n: SupervisionNotice, suffix: str) -> str:
    """督办单2026-12.docx / .pdf: the name a message's attachment carries."""
    return f"督办单{n.year}-{n.seq}.{suffix}"
