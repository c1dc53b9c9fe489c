"""The text of a notification: what it is about, where the task stands, and what to do.

Written when the notification is created (and stored with it), in Chinese by
default: the record shows exactly what each person was told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .text import Lang


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    code: str
    title: str
    unit: str
    lead_leader: str
    deadline: date | None
    days_left: int | None
    days_overdue: int
    state_label: str


def render(rule: str, level: int, facts: NoticeFacts, lang: Lang = "zh", note: str | None = None) -> tuple[str, str]:  # noqa: C901 - one branch per rule, as the catalogue reads
    """(subject, body) for a reminder, an escalation, a stale-progress chase, a manual reminder or a step."""
    deadline = facts.deadline.isoformat() if facts.deadline else ("长期坚持" if lang == "zh" else "ongoing")
    if lang == "zh":
        head = f"【{facts.code}】{facts.title}"
        where = f"责任单位：{facts.unit}；责任领导：{facts.lead_leader}；整改时限：{deadline}；当前状态：{facts.state_label}。"
        if rule == "remind":
            left = "今天到期" if level == 0 else f"距整改时限还有 {level} 个工作日"
            return (
                f"催办提醒：{head}",
                f"{head}{left}。{where}请抓紧推进，并及时报送整改进展（duban progress {facts.code}）。",
            )
        if rule == "escalate":
            return (
                f"{level}级督办：{head}已逾期 {facts.days_overdue} 个工作日",
                f"{head}已超过整改时限 {facts.days_overdue} 个工作日，现予{level}级督办。{where}"
                f"请责任单位立即整改并报送进展；确需延期的，请提出延期申请（duban extend {facts.code}）。",
            )
        if rule == "sign_remind":
            left = "今天" if level == 0 else f"{level} 个工作日内"
            return (
                f"签收提醒：{head}",
                f"{head}已交办，请于{left}签收（duban start {facts.code}）；如非本单位职责，请说明理由退办。{where}",
            )
        if rule == "sign_escalate":
            return (
                f"{level}级督办（超时未签收）：{head}",
                f"{head}已超过签收时限仍未签收，现予{level}级督办。{where}请责任单位立即签收（duban start {facts.code}）。",
            )
        if rule == "stale":
            return (
                f"进展报送提醒：{head}",
                f"{head}已较长时间未报送整改进展。{where}请及时报送（duban progress {facts.code}）。",
            )
        if rule == "report_remind":  # 定期填报: ``note`` is the due day
            left = "今天" if level == 0 else f"{level} 个工作日后（{note}）"
            return (
                f"定期填报提醒：{head}",
                f"{head}的定期进展报送{left}到期。{where}请按时报送（duban progress {facts.code}）。",
            )
        if rule == "report_escalate":
            return (
                f"{level}级督办（漏报进展）：{head}",
                f"{head}应于 {note} 报送的定期进展至今未报，现予{level}级督办。{where}"
                f"请立即报送（duban progress {facts.code}）。",
            )
        if rule == "manual":
            return f"催办：{head}", f"督查室催办：{head}。{where}{('说明：' + note) if note else ''}"
        return f"{head}：{note or ''}", f"{head}：{note or ''}。{where}"
    head = f"[{facts.code}] {facts.title}"
    where = f"Unit: {facts.unit}; lead leader: {facts.lead_leader}; deadline: {deadline}; state: {facts.state_label}."
    if rule == "remind":
        left = "due today" if level == 0 else f"due in {level} working day(s)"
        return f"Reminder: {head}", f"{head} is {left}. {where} Please report progress (duban progress {facts.code})."
    if rule == "escalate":
        return (
            f"Escalation level {level}: {head} is {facts.days_overdue} working day(s) overdue",
            f"{head} is {facts.days_overdue} working day(s) past its deadline; escalated to level {level}. {where} "
            f"Act now and report progress, or ask for an extension (duban extend {facts.code}).",
        )
    if rule == "sign_remind":
        left = "today" if level == 0 else f"within {level} working day(s)"
        return (
            f"Sign for: {head}",
            f"{head} was assigned to your unit; please sign for it {left} (duban start {facts.code}), "
            f"or return it with a reason if it is not your unit's duty. {where}",
        )
    if rule == "sign_escalate":
        return (
            f"Escalation level {level}: {head} is not signed for",
            f"{head} is past its sign-for time limit and still not signed for; escalated to level {level}. {where} "
            f"Sign for it now (duban start {facts.code}).",
        )
    if rule == "stale":
        return f"Progress report due: {head}", f"No progress report on {head} for a while. {where}"
    if rule == "report_remind":
        left = "today" if level == 0 else f"in {level} working day(s), on {note}"
        return (
            f"Periodic report due: {head}",
            f"The periodic progress report on {head} is due {left}. {where} "
            f"Please report on time (duban progress {facts.code}).",
        )
    if rule == "report_escalate":
        return (
            f"Escalation level {level}: periodic report missed on {head}",
            f"The periodic progress report on {head} due on {note} has not come; escalated to level {level}. "
            f"{where} Report now (duban progress {facts.code}).",
        )
    if rule == "manual":
        return f"Reminder from the supervision office: {head}", f"{head}. {where} {note or ''}".strip()
    return f"{head}: {note or ''}", f"{head}: {note or ''}. {where}"
