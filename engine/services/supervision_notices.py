"""Issuing supervision notices (督办单) from the sweep, listing them, rendering them, recording the reply.

The sweep calls ``issue_for_escalation`` inside its batch transaction, so a
notice commits with the escalation that caused it, or not at all. Its number
is taken with the chain's head held (SQLite: the write lock; PostgreSQL: the
head row), and its key (task, level, deadline version) is looked up under the
same hold: two sweeps at once store one notice, numbered once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..app import App
from ..delivery.channels import ATTACHING_CHANNELS, Attachment
from ..domain.audit import RecordFacts
from ..domain.errors import InvalidInput, NotPermitted, UnknownPerson
from ..domain.supervision_notices import (
    COLOR_NAMES,
    KIND,
    REPLY,
    NoticeAnswered,
    NoticeReply,
    SupervisionNotice,
    UnknownNotice,
    demand_text,
    notice_key,
    notice_number,
    parse_number,
)
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..persistence.outbox import About, OutgoingNotice
from ..persistence.uow import UnitOfWork
from .identity import accounts, acting
from .notify import Directory
from .refusals import refusals_recorded

ISSUER_SETTING = "DUBAN_NOTICE_ISSUER"
DEFAULT_ISSUER = "督查室"


@dataclass
class NoticeBook:
    """The notices on the chain as one transaction sees them, read once under the head's hold."""

    keys: dict[str, str] = field(default_factory=dict)  # key -> number
    by_task: dict[str, list[str]] = field(default_factory=dict)
    last_seq: dict[int, int] = field(default_factory=dict)  # year -> highest number

    @classmethod
    def open(cls, uow: UnitOfWork) -> NoticeBook:
        uow.records.lock_head()
        book = cls()
        for key, (body, _at) in uow.records.bodies(KIND).items():
            book.keys[key] = str(body["number"])
            book.by_task.setdefault(str(body["task"]), []).append(str(body["number"]))
            year, seq = int(body["year"]), int(body["seq"])
            book.last_seq[year] = max(book.last_seq.get(year, 0), seq)
        return book


def issue_for_escalation(
    app: App,
    uow: UnitOfWork,
    book: NoticeBook,
    about: About,
    level: int,
    deadline_version: int,
    unit_name: str,
    leader_name: str | None,
    now: datetime,
    directory: Directory | None = None,
    sink: list[OutgoingNotice] | None = None,
) -> SupervisionNotice | None:
    """The notice a level issues, if its policy says so and it was not issued before; None otherwise."""
    spec = app.registry.find(about.workflow)
    step = spec.deadlines.escalation_level(level) if spec else None
    if spec is None or step is None or step.notice is None:
        return None
    key = notice_key(about.code, level, deadline_version)
    if key in book.keys:
        return None
    today = now.astimezone(app.tz).date()
    seq = book.last_seq.get(today.year, 0) + 1
    reply_by = _add_working_days(app, today, spec.deadlines.notice_reply_working_days)
    days = app.calendar.working_days_between(about.deadline, today) if about.deadline else 0
    notice = SupervisionNotice(
        key=key,
        number=notice_number(today.year, seq),
        year=today.year,
        seq=seq,
        task=about.code,
        title=about.title,
        unit=unit_name,
        leader=leader_name,
        color=step.notice,
        level=level,
        deadline=about.deadline,
        deadline_version=deadline_version,
        days_overdue=days,
        issued_on=today,
        reply_by=reply_by,
        issuer=app.settings.extra.get(ISSUER_SETTING) or DEFAULT_ISSUER,
        earlier=tuple(book.by_task.get(about.code, ())),
        demand=demand_text(step.notice, reply_by),
    )
    uow.records.append(RecordFacts(KIND, key, notice.body(), now, str(accounts(app, uow)[0]), None))
    if sink is not None and directory is not None:
        sink.extend(_announcements(app, directory, about, notice))
    book.keys[key] = notice.number
    book.by_task.setdefault(about.code, []).append(notice.number)
    book.last_seq[today.year] = seq
    return notice


NOTICE_TO = ("unit_head", "responsible_person")  # who receives a supervision notice: the unit that must reply


def _announcements(app: App, directory: Directory, about: About, n: SupervisionNotice) -> list[OutgoingNotice]:
    """The notice through the channels, one message per receiver and channel, in the sweep's own outbox write."""
    subject = f"【{COLOR_NAMES.get(n.color, (n.color, n.color))[0]}】{n.number}：{n.title}（{n.task}）"
    body = (
        f"{n.unit}：整改任务“{n.title}”（{n.task}）已逾期{n.days_overdue}个工作日，已升至第{n.level}级督办。"
        f"{n.demand}\n全文：duban notices show {n.year}-{n.seq} -o 督办单.docx（或 .pdf）；反馈：duban notices reply {n.year}-{n.seq} -m …"
    )
    out = []
    for person in directory.recipients(NOTICE_TO, about):
        for channel in directory.channels_of(person, app.settings.channels):
            out.append(
                OutgoingNotice(
                    attachment=f"{ATTACHMENT}{n.key}" if channel in ATTACHING_CHANNELS else None,
                    dedup_key=f"notice:{n.key}:{person.id}:{channel}",
                    task_id=about.id,
                    rule="notice",
                    level=n.level,
                    recipient_id=person.id,
                    channel=channel,
                    address=directory.address(person, channel),
                    subject=subject,
                    body=body,
                )
            )
    return out


ATTACHMENT = "notice:"  # notifications.attachment: the notice with this key, as its Word and PDF documents
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


def notice_attachments(app: App, ref: str) -> tuple[Attachment, ...]:
    """The Word and PDF documents a notice's message carries (file and email channels), rendered from its chained record.

    The notice as issued: the documents a unit receives are the ones ``duban notices show -o`` gives for it
    before any reply, both drawn from the same paragraphs. Empty when ``ref`` names no notice.
    """
    if not ref.startswith(ATTACHMENT):
        return ()
    key = ref[len(ATTACHMENT) :]
    with app.uow(write=False) as uow:
        body = uow.records.last_bodies(KIND, [key]).get(key)
    if body is None:
        return ()
    from ..reporting.notice_docx import notice_docx
    from ..reporting.notice_pdf import notice_pdf
    from ..reporting.notice_text import notice_filename

    n = SupervisionNotice.from_body(key, body)
    return (
        Attachment(notice_filename(n, "docx"), DOCX_TYPE, notice_docx(n)),
        Attachment(notice_filename(n, "pdf"), PDF_TYPE, notice_pdf(n)),
    )


def _add_working_days(app: App, day: date, n: int) -> date:
    out, left = day, n
    while left > 0:
        out += timedelta(days=1)
        if app.calendar.is_working_day(out):
            left -= 1
    return out


@dataclass(frozen=True)
class NoticeView:
    notice: SupervisionNotice
    reply: NoticeReply | None


def list_notices(
    app: App, *, task: str | None = None, unit: str | None = None, year: int | None = None
) -> list[NoticeView]:
    with app.uow(write=False) as uow:
        notices = uow.records.bodies(KIND)
        replies = uow.records.bodies(REPLY)
    out = []
    for key, (body, _at) in notices.items():
        n = SupervisionNotice.from_body(key, body)
        if (task and n.task != task) or (unit and n.unit != unit) or (year and n.year != year):
            continue
        out.append(NoticeView(n, _reply(n.number, replies)))
    return sorted(out, key=lambda v: (v.notice.year, v.notice.seq))


def _reply(number: str, replies: dict[str, tuple[dict[str, object], datetime]]) -> NoticeReply | None:
    found = replies.get(number)
    if found is None:
        return None
    b = found[0]
    return NoticeReply(number, str(b["by"]), date.fromisoformat(str(b["on"])), str(b["note"]), bool(b["late"]))


def get_notice(app: App, number: str) -> NoticeView:
    year, seq = parse_number(number)
    for view in list_notices(app, year=year):
        if view.notice.seq == seq:
            return view
    raise UnknownNotice(number=number)


def reply_to_notice(app: App, actor_id: str | None, number: str, note: str) -> NoticeReply:
    """The unit's reply (反馈): by someone of the task's unit; late when after the notice's reply-by day."""
    with refusals_recorded(app, actor_id, "notice_reply", number[:64]):
        return _reply_to(app, actor_id, number, note)


def _reply_to(app: App, actor_id: str | None, number: str, note: str) -> NoticeReply:
    note = check_text(note or "", "--note", max_len=4000, multiline=True)
    if not note:
        raise InvalidInput(
            what="--note",
            detail=Bilingual(
                "须写明反馈内容：已做了什么、下一步怎么做", "say what was done and what comes next (反馈内容)"
            ),
        )
    view = get_notice(app, number)
    notice = view.notice
    now = app.clock.now()
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        found = uow.tasks.for_firing(notice.task, who.actor_id)
        actor = found[1] if found else uow.tasks.actor(who.actor_id)
        if actor is None:
            raise UnknownPerson(person=who.actor_id, near="")
        unit_id = found[0].facts.unit_id if found else None
        if actor.unit_id != unit_id or not {"unit_head", "unit_member"} & actor.roles:
            raise NotPermitted(
                actor=f"{actor.name}({actor.id})",
                action=Bilingual("反馈督办单", "reply to the supervision notice on"),
                code=f"{notice.task} ({notice.number})",
                rule=Bilingual(f"{notice.unit}的人员", f"someone of {notice.unit}"),
            )
        uow.records.lock_head()
        replies = uow.records.bodies(REPLY)
        earlier = _reply(notice.number, replies)
        if earlier is not None:
            raise NoticeAnswered(number=notice.number, on=earlier.on)
        today = now.astimezone(app.tz).date()
        reply = NoticeReply(notice.number, who.actor_id, today, note, late=today > notice.reply_by)
        uow.records.append(RecordFacts(REPLY, notice.number, reply.body(), now, who.account, who.operator_id, who.via))
        uow.commit()
    return reply


def color_label(color: str, lang: str) -> str:
    zh, en = COLOR_NAMES.get(color, (color, color))
    return zh if lang == "zh" else en
