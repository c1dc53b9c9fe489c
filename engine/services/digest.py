"""Daily digests: each working morning, one outbox row per reader and channel, exactly once.

Who reads one is the organisation file's word (``digest: daily`` on a person or a unit; ``notify: digest``).
From DUBAN_DIGEST_AT (08:00 in the configured zone) on a working day of the calendar, every beat tick and
every ``duban sweep`` calls ``write_due_digests``. Each row's dedup key is ``digest:DAY:PERSON:CHANNEL``, so a
second tick, two sweepers at once, or a tick repeated after a crash insert nothing twice; delivery is the
outbox's own (claim under a lease, the attempt number as the owner's token), so a killed worker's digest is
handed out again under the same key and never recorded as sent twice. A day the beat did not run at all is
not caught up the next morning: yesterday's digest would be stale, and today's says what is true now.

The contents are the inbox's (engine/services/inbox.py) as of the writing instant: red and yellow tasks the
reader may act on, submitted tasks they review, extension requests and 转办/挂起 they decide, for a leader the
overdue tasks they lead, and the supervision notices (督办单) issued to their unit and not yet answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from ..app import App
from ..domain.clock import FixedClock
from ..domain.digest import (
    DigestDecision,
    DigestExtension,
    DigestFacts,
    DigestNotice,
    DigestTask,
    parse_digest_at,
    render_digest,
)
from ..domain.errors import DubanError, UnknownPerson
from ..domain.supervision_notices import COLOR_NAMES
from ..domain.text import Bilingual
from ..persistence.outbox import OutgoingNotice
from .inbox import inbox
from .notify import Contact, Directory, cached_org
from .org import resolve_person
from .queries import TaskSummary
from .supervision_notices import list_notices

log = logging.getLogger("duban.digest")

SETTING = "DUBAN_DIGEST_AT"
RULE = "digest"
BATCH = 100  # readers per transaction


def digest_at(app: App) -> time:
    return parse_digest_at(app.settings.extra.get(SETTING))


def digest_key(day: date, person_id: str, channel: str) -> str:
    return f"{RULE}:{day.isoformat()}:{person_id}:{channel}"


def _task(s: TaskSummary) -> DigestTask:
    return DigestTask(s.code, s.title, s.unit, s.deadline, s.days_overdue, s.days_left, s.state_label)


def compose(app: App, person_id: str, at: datetime) -> DigestFacts:
    """What a digest written at ``at`` says to ``person_id``: the inbox, as that instant's clock sees it."""
    as_of = replace(app, clock=FixedClock(at))
    box = inbox(as_of, person_id, exact_overdue=True)
    facts = DigestFacts(person_id, box.name, at.astimezone(app.tz).date())
    facts.red = [_task(i.task) for i in box.todo if i.task.light == "red"]
    facts.yellow = [_task(i.task) for i in box.todo if i.task.light == "yellow"]
    facts.red_total = box.counts.get("red", 0)
    facts.yellow_total = box.counts.get("yellow", 0)
    facts.approvals = [_task(t) for t in box.approvals]
    facts.approvals_total = box.approvals_total
    facts.extensions = [DigestExtension(e.code, e.title, e.requested_by, e.requested_deadline) for e in box.extensions]
    facts.decisions = [DigestDecision(d.code, d.title, d.to_unit) for d in box.decisions]
    if box.overdue_scope == "led":  # a leader: the overdue tasks they lead, named (suspending them is no to-do)
        facts.led_overdue = [_task(t) for t in box.overdue]
        facts.led_overdue_total = box.overdue_total
    else:
        facts.overdue_total = box.overdue_total
    with app.uow(write=False) as uow:
        directory = cached_org(app, uow).directory
    me = directory.people.get(person_id)
    unit = directory.units.get(me.unit_id) if me and me.unit_id is not None else None
    if unit is not None:
        for view in list_notices(app, unit=unit.name):
            n = view.notice
            if view.reply is None and n.issued_on <= facts.day:
                zh, en = COLOR_NAMES.get(n.color, (n.color, n.color))
                facts.notices.append(DigestNotice(n.number, n.task, n.title, Bilingual(zh, en), n.reply_by))
    return facts


@dataclass(frozen=True)
class DigestMessage:
    channel: str
    address: str | None
    subject: str
    body: str


def messages(app: App, directory: Directory, person: Contact, facts: DigestFacts) -> list[DigestMessage]:
    """One rendering per channel the person is reached by, in DUBAN_NOTIFY_LANG."""
    base = app.settings.extra.get("DUBAN_BASE_URL", "")
    out = []
    for channel in directory.channels_of(person, app.settings.channels):
        subject, body = render_digest(facts, app.settings.notify_lang, channel, base)
        out.append(DigestMessage(channel, directory.address(person, channel), subject, body))
    return out


@dataclass(frozen=True)
class Preview:
    person_id: str
    name: str
    day: date
    subscribed: bool  # the organisation file gives them a daily digest
    folded: bool  # their per-task messages (other than escalations) wait for it
    working_day: bool
    send_at: datetime  # when that day's digest is written (the instant, in UTC)
    messages: list[DigestMessage]


def digest_instant(app: App, day: date) -> datetime:
    """When ``day``'s digest is due: DUBAN_DIGEST_AT on that day, in the configured zone."""
    return datetime.combine(day, digest_at(app), app.tz)


def preview(app: App, person: str, at: datetime | None = None) -> Preview:
    """``duban digest preview``: the digest ``person`` (an id, or a unique name) would receive at ``at``
    (default now); writes nothing."""
    at = at or app.clock.now()
    with app.uow(write=False) as uow:
        org = cached_org(app, uow)
    person_id = resolve_person(org, person)
    directory = org.directory
    reader = directory.people.get(person_id)
    if reader is None:
        raise UnknownPerson(person=person_id, near="")
    facts = compose(app, person_id, at)
    day = at.astimezone(app.tz).date()
    return Preview(
        person_id,
        reader.name,
        day,
        directory.wants_digest(reader),
        directory.folds(reader),
        app.calendar.is_working_day(day),
        digest_instant(app, day),
        messages(app, directory, reader, facts),
    )


def write_due_digests(app: App, now: datetime | None = None) -> int:
    """Today's digests, if today is a working day and DUBAN_DIGEST_AT has passed; rows written (0 when done)."""
    now = now or app.clock.now()
    local = now.astimezone(app.tz)
    day = local.date()
    if not app.calendar.is_working_day(day) or local.time() < digest_at(app):
        return 0
    with app.uow(write=False) as uow:
        directory = cached_org(app, uow).directory
        readers = directory.digest_readers()
        if not readers:
            return 0
        wanted = {
            p.id: [digest_key(day, p.id, c) for c in directory.channels_of(p, app.settings.channels)] for p in readers
        }
        done = uow.outbox.existing_keys([k for keys in wanted.values() for k in keys])
    todo = [p for p in readers if not set(wanted[p.id]) <= done]
    written = 0
    for i in range(0, len(todo), BATCH):
        rows: list[OutgoingNotice] = []
        for person in todo[i : i + BATCH]:
            try:
                facts = compose(app, person.id, now)
            except DubanError as exc:  # e.g. a person without a unit the inbox can place: logged, others go on
                log.warning("no digest for %s: %s", person.id, exc.render("en"))
                continue
            for m in messages(app, directory, person, facts):
                rows.append(
                    OutgoingNotice(
                        dedup_key=digest_key(day, person.id, m.channel),
                        task_id=None,
                        rule=RULE,
                        level=0,
                        recipient_id=person.id,
                        channel=m.channel,
                        address=m.address,
                        subject=m.subject,
                        body=m.body,
                    )
                )
        with app.uow(write=True) as uow:
            written += uow.outbox.add_many(rows, now)
            uow.commit()
    return written
