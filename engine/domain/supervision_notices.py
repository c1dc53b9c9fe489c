"""Graded supervision notices (三色督办单): a numbered document an escalation level issues, and the unit's reply.

A level of a workflow's deadline policy that says ``notice: yellow`` (or blue,
or red) issues one notice per task, level and deadline version, numbered per
year (督办〔2026〕第12号). The notice is kept on the chain (kind
``supervision_notice``, subject its dedup key) with everything the document
says, so the Word file is rendered from hashed content and an edit shows in
``audit verify``; the reply (反馈) is a record of its own (``notice_reply``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .errors import DubanError, InvalidInput
from .text import Bilingual

KIND = "supervision_notice"
REPLY = "notice_reply"
COLOR_NAMES = {
    "blue": ("蓝色督办单", "blue notice"),
    "yellow": ("黄色督办单", "yellow notice"),
    "red": ("红色督办单", "red notice"),
}


def notice_key(task: str, level: int, deadline_version: int) -> str:
    """One notice per task, level and deadline version: the same escalation after an extension is a new one."""
    return f"{task}:L{level}:v{deadline_version}"


def notice_number(year: int, seq: int) -> str:
    return f"督办〔{year}〕第{seq}号"


def parse_number(text: str) -> tuple[int, int]:
    """督办〔2026〕第12号, or 2026-12 as typed at a terminal."""
    raw = text.strip()
    if raw.startswith("督办〔") and raw.endswith("号") and "〕第" in raw:
        year, _, seq = raw[3:-1].partition("〕第")
    else:
        year, _, seq = raw.partition("-")
    if year.isdigit() and seq.isdigit() and len(year) == 4:
        return int(year), int(seq)
    raise InvalidInput(
        what=Bilingual("督办单编号", "notice number"),
        detail=Bilingual(
            f"'{text}' 不是督办单编号；请写作 督办〔2026〕第12号 或 2026-12",
            f"'{text}' is not a number such as 督办〔2026〕第12号 or 2026-12",
        ),
    )


@dataclass(frozen=True, slots=True)
class SupervisionNotice:
    key: str
    number: str
    year: int
    seq: int
    task: str
    title: str
    unit: str
    leader: str | None
    color: str
    level: int
    deadline: date | None
    deadline_version: int
    days_overdue: int
    issued_on: date
    reply_by: date
    issuer: str
    earlier: tuple[str, ...]  # the numbers of the notices issued on this task before
    demand: str

    def body(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "year": self.year,
            "seq": self.seq,
            "task": self.task,
            "title": self.title,
            "unit": self.unit,
            "leader": self.leader,
            "color": self.color,
            "level": self.level,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "deadline_version": self.deadline_version,
            "days_overdue": self.days_overdue,
            "issued_on": self.issued_on.isoformat(),
            "reply_by": self.reply_by.isoformat(),
            "issuer": self.issuer,
            "earlier": list(self.earlier),
            "demand": self.demand,
        }

    @classmethod
    def from_body(cls, key: str, b: dict[str, Any]) -> SupervisionNotice:
        return cls(
            key=key,
            number=str(b["number"]),
            year=int(b["year"]),
            seq=int(b["seq"]),
            task=str(b["task"]),
            title=str(b["title"]),
            unit=str(b["unit"]),
            leader=b.get("leader"),
            color=str(b["color"]),
            level=int(b["level"]),
            deadline=date.fromisoformat(b["deadline"]) if b.get("deadline") else None,
            deadline_version=int(b["deadline_version"]),
            days_overdue=int(b["days_overdue"]),
            issued_on=date.fromisoformat(b["issued_on"]),
            reply_by=date.fromisoformat(b["reply_by"]),
            issuer=str(b["issuer"]),
            earlier=tuple(b.get("earlier") or ()),
            demand=str(b["demand"]),
        )


def demand_text(color: str, reply_by: date) -> str:
    """What the notice asks of the unit, in an office's words."""
    by = f"{reply_by.year}年{reply_by.month}月{reply_by.day}日"
    if color == "red":
        return f"请立即组织整改，于{by}前书面反馈整改进展、未按期完成的原因及责任人，逾期未反馈将予以问责。"
    if color == "yellow":
        return f"请加快整改进度，于{by}前书面反馈整改进展和下一步措施。"
    return f"请按期完成整改，于{by}前反馈整改进展。"


@dataclass(frozen=True, slots=True)
class NoticeReply:
    number: str
    by: str
    on: date
    note: str
    late: bool

    def body(self) -> dict[str, Any]:
        return {"by": self.by, "on": self.on.isoformat(), "note": self.note, "late": self.late}


class UnknownNotice(DubanError):
    exit_code = 3
    zh = "没有编号为 {number} 的督办单；用 'duban notices list' 查看"
    en = "no supervision notice {number}; 'duban notices list' shows them"


class NoticeAnswered(DubanError):
    exit_code = 5
    zh = "督办单 {number} 已于 {on} 反馈，不能重复反馈"
    en = "supervision notice {number} was replied to on {on} already"
