"""The daily digest (每日督办摘要): one message a working morning instead of one per task.

Pure: the facts come from the inbox as of the digest's instant (engine/services/digest.py); here they are
only put into words, in Chinese or English, as plain text (console, file, email, webhook) or as markdown
with links to the task pages (WeCom and DingTalk robots render markdown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time

from .errors import InvalidInput
from .text import Bilingual, Lang

DEFAULT_AT = time(8, 0)
MARKDOWN_CHANNELS = frozenset({"wecom", "dingtalk"})
SHOWN = 20  # lines per section: a digest is read on a phone; the rest is counted and waits in the inbox


@dataclass(frozen=True, slots=True)
class DigestTask:
    code: str
    title: str
    unit: str
    deadline: date | None
    days_overdue: int | None
    days_left: int | None
    state: Bilingual


@dataclass(frozen=True, slots=True)
class DigestExtension:
    code: str
    title: str
    requested_by: str
    requested_deadline: date | None


@dataclass(frozen=True, slots=True)
class DigestDecision:
    """A 转办 proposal (``to_unit`` set) or a 挂起 request waiting for the lead leader."""

    code: str
    title: str
    to_unit: str | None


@dataclass(frozen=True, slots=True)
class DigestNotice:
    number: str
    task: str
    title: str
    color: Bilingual
    reply_by: date


@dataclass
class DigestFacts:
    person_id: str
    name: str
    day: date
    red: list[DigestTask] = field(default_factory=list)
    red_total: int = 0
    yellow: list[DigestTask] = field(default_factory=list)
    yellow_total: int = 0
    approvals: list[DigestTask] = field(default_factory=list)
    approvals_total: int = 0
    extensions: list[DigestExtension] = field(default_factory=list)
    decisions: list[DigestDecision] = field(default_factory=list)  # 转办 proposals, 挂起 requests they decide
    notices: list[DigestNotice] = field(default_factory=list)  # issued to their unit and not yet answered
    overdue_total: int = 0  # supervisors: every red task they oversee
    led_overdue: list[DigestTask] = field(default_factory=list)  # leaders: red tasks they lead, most overdue first
    led_overdue_total: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.red_total
            or self.yellow_total
            or self.approvals_total
            or self.extensions
            or self.decisions
            or self.notices
            or self.led_overdue_total
        )


def parse_digest_at(raw: str | None) -> time:
    """DUBAN_DIGEST_AT, HH:MM in the configured zone; a bad value is refused with one line naming it."""
    if raw is None or not raw.strip():
        return DEFAULT_AT
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", raw)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return time(int(m.group(1)), int(m.group(2)))
    raise InvalidInput(
        what="DUBAN_DIGEST_AT",
        detail=Bilingual(
            zh=f"'{raw}' 不是时刻；请写作 时:分，如 08:00（默认 08:00，按 DUBAN_TZ 时区）",
            en=f"'{raw}' is not a time of day; write HH:MM, e.g. 08:00 (default 08:00, in DUBAN_TZ)",
        ),
    )


def _link(code: str, base_url: str, markdown: bool) -> str:
    if markdown and base_url:
        return f"[{code}]({base_url}/tasks/{code})"
    return code


def _task_line(t: DigestTask, lang: Lang, base_url: str, markdown: bool) -> str:
    code = _link(t.code, base_url, markdown)
    if lang == "zh":
        when = (
            f"逾期{t.days_overdue}个工作日"
            if t.days_overdue
            else f"剩{t.days_left}个工作日"
            if t.days_left is not None
            else "无时限"
        )
        due = f"，时限 {t.deadline.isoformat()}" if t.deadline else ""
        return f"- {code} {t.title}（{t.unit}，{t.state.zh}{due}，{when}）"
    when = (
        f"{t.days_overdue} working day(s) overdue"
        if t.days_overdue
        else f"{t.days_left} working day(s) left"
        if t.days_left is not None
        else "no deadline"
    )
    due = f", due {t.deadline.isoformat()}" if t.deadline else ""
    return f"- {code} {t.title} ({t.unit}, {t.state.en}{due}, {when})"


def _more(shown: int, total: int, lang: Lang) -> list[str]:
    if total <= shown:
        return []
    return [f"- ……另有 {total - shown} 项" if lang == "zh" else f"- … and {total - shown} more"]


def render_digest(facts: DigestFacts, lang: Lang, channel: str, base_url: str = "") -> tuple[str, str]:
    """(subject, body) of one digest for one channel: markdown for the robots, plain text elsewhere."""
    markdown = channel in MARKDOWN_CHANNELS
    base = base_url.rstrip("/")
    zh = lang == "zh"
    day = facts.day.isoformat()
    if zh:
        subject = (
            f"【每日督办摘要】{day} {facts.name}："
            # a leader's overdue tasks first: "红灯 0 项" alone would read as nothing late
            + (f"牵头逾期 {facts.led_overdue_total} 项，" if facts.led_overdue_total else "")
            + f"红灯 {facts.red_total} 项，黄灯 {facts.yellow_total} 项，"
            f"待审批 {facts.approvals_total + len(facts.extensions) + len(facts.decisions)} 项，"
            f"督办单 {len(facts.notices)} 份"
        )
    else:
        subject = (
            f"Daily digest {day} for {facts.name}: "
            + (f"{facts.led_overdue_total} overdue task(s) you lead, " if facts.led_overdue_total else "")
            + f"{facts.red_total} red, {facts.yellow_total} yellow, "
            f"{facts.approvals_total + len(facts.extensions) + len(facts.decisions)} awaiting your decision, "
            f"{len(facts.notices)} supervision notice(s)"
        )
    head = (lambda text: f"**{text}**") if markdown else (lambda text: text)
    lines: list[str] = []

    def section(title: Bilingual, tasks: list[DigestTask], total: int) -> None:
        if not total:
            return
        lines.append(head(f"{title.pick(lang)}（{total}）" if zh else f"{title.en} ({total})"))
        lines.extend(_task_line(t, lang, base, markdown) for t in tasks[:SHOWN])
        lines.extend(_more(min(len(tasks), SHOWN), total, lang))
        lines.append("")

    section(Bilingual("红灯任务（已逾期）", "Red tasks (overdue)"), facts.red, facts.red_total)
    section(Bilingual("黄灯任务（临近时限）", "Yellow tasks (deadline near)"), facts.yellow, facts.yellow_total)
    section(Bilingual("待您审核验收", "Awaiting your review"), facts.approvals, facts.approvals_total)
    section(Bilingual("您牵头的逾期任务", "Overdue tasks you lead"), facts.led_overdue, facts.led_overdue_total)
    if facts.extensions:
        lines.append(head(f"待您审批的延期申请（{len(facts.extensions)}）" if zh else "Extension requests to decide"))
        for e in facts.extensions[:SHOWN]:
            code = _link(e.code, base, markdown)
            to = e.requested_deadline.isoformat() if e.requested_deadline else "?"
            lines.append(
                f"- {code} {e.title}（{e.requested_by} 申请延至 {to}）"
                if zh
                else f"- {code} {e.title} ({e.requested_by} asks for {to})"
            )
        lines.extend(_more(min(len(facts.extensions), SHOWN), len(facts.extensions), lang))
        lines.append("")
    if facts.decisions:
        lines.append(
            head(f"待您决定的转办与挂起（{len(facts.decisions)}）" if zh else "Transfers and suspensions to decide")
        )
        for d in facts.decisions[:SHOWN]:
            code = _link(d.code, base, markdown)
            if d.to_unit is not None:
                lines.append(
                    f"- {code} {d.title}（提请转办至 {d.to_unit}）"
                    if zh
                    else f"- {code} {d.title} (transfer to {d.to_unit})"
                )
            else:
                lines.append(
                    f"- {code} {d.title}（单位申请挂起）" if zh else f"- {code} {d.title} (the unit asks to suspend)"
                )
        lines.extend(_more(min(len(facts.decisions), SHOWN), len(facts.decisions), lang))
        lines.append("")
    if facts.notices:
        lines.append(head(f"本单位待反馈的督办单（{len(facts.notices)}）" if zh else "Supervision notices to answer"))
        for n in facts.notices[:SHOWN]:
            code = _link(n.task, base, markdown)
            lines.append(
                f"- {n.number}【{n.color.zh}】{code} {n.title}（{n.reply_by.isoformat()} 前反馈）"
                if zh
                else f"- {n.number} [{n.color.en}] {code} {n.title} (answer by {n.reply_by.isoformat()})"
            )
        lines.extend(_more(min(len(facts.notices), SHOWN), len(facts.notices), lang))
        lines.append("")
    if facts.overdue_total:
        lines.append(
            f"全部逾期任务 {facts.overdue_total} 项（督查室视图）"
            if zh
            else f"{facts.overdue_total} overdue task(s) in all (supervision view)"
        )
        lines.append("")
    if facts.empty:
        lines.append("今日没有红黄灯任务、待审批事项或督办单。" if zh else "Nothing red, yellow or awaiting you today.")
        lines.append("")
    if base:
        inbox = f"{base}/"  # the web workspace opens on the person's inbox (我的待办)
        label = "打开我的待办" if zh else "Open your inbox"
        lines.append(f"[{label}]({inbox})" if markdown else f"{label}: {inbox}")
    else:
        lines.append("详情：duban list --mine" if zh else "Details: duban list --mine")
    return subject, "\n".join(lines).rstrip() + "\n"
