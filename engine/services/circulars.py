"""Issued circulars: computed once, stored with their figures and files, announced through the outbox.

Issuing is idempotent (one circular per schedule, period and campaign, by a
unique key), so the beat, `duban sweep` and a restarted worker may all try:
exactly one stores it, and its notices commit in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from ..app import App
from ..domain.circulars import CircularSchedule, load_schedules
from ..domain.errors import InvalidInput, UnknownCircular
from ..domain.report import Report, from_dict, headline, to_dict
from ..domain.text import Bilingual, Lang
from ..persistence.circulars import StoredCircular
from ..persistence.outbox import OutgoingNotice
from .audit import KEY_SETTING, take_anchor
from .notify import Contact, Directory, cached_org
from .report import ReportRequest, build_report
from .report_files import Letterhead, RenderedFile, render_files

MANUAL = "manual"


@dataclass(frozen=True)
class CircularView:
    id: int
    schedule: str
    period_kind: str
    period_from: date
    period_to: date
    campaign: str | None
    lang: str
    created_at: datetime
    files: list[tuple[str, str, int]]  # name, media type, size
    figures: dict[str, Any]

    @property
    def report(self) -> Report:
        return from_dict(self.figures)


def schedules(app: App) -> list[CircularSchedule]:
    return load_schedules(app.settings.circulars) if app.settings.circulars else []


def issue_due(app: App, configured: list[CircularSchedule] | None = None) -> list[int]:
    """Issue every scheduled circular whose time has come and that is not stored yet; returns new ids."""
    issued: list[int] = []
    now = app.clock.now()
    for schedule in schedules(app) if configured is None else configured:
        with app.uow(write=False) as uow:
            last = uow.circulars.last_period_end(schedule.name)
        last_issue_day = last + timedelta(days=1) if isinstance(last, date) else None
        for as_of in schedule.due(now, app.tz, last_issue_day):
            new_id = issue(
                app,
                ReportRequest(period=schedule.every, as_of=as_of, campaign=schedule.campaign),
                schedule=schedule,
            )
            if new_id is not None:
                issued.append(new_id)
    return issued


def issue(app: App, req: ReportRequest, *, schedule: CircularSchedule | None = None) -> int | None:
    """Compute, render and store one circular and its notices; None if it was already issued."""
    report = build_report(app, req)
    name = schedule.name if schedule else MANUAL
    lang: Lang = "en" if schedule and schedule.lang == "en" else "zh"
    if app.settings.extra.get(KEY_SETTING):  # the circular carries the audit anchor: printed, it cannot be rewritten
        anchor = take_anchor(app)
        line = Bilingual(
            f"审计锚点：审计链第 {anchor.chain_seq} 条，哈希 {anchor.chain_hash}，签名 {anchor.mac[:32]}…",
            f"Audit anchor: chain entry {anchor.chain_seq}, hash {anchor.chain_hash}, signature {anchor.mac[:32]}…",
        )
        report = replace(report, notes=[*report.notes, line.pick(lang)])
    key = f"{name}:{report.period.kind}:{report.period.start}:{report.period.end}:{report.campaign or ''}"
    with app.uow(write=False) as uow:
        if uow.circulars.issued(key):
            return None
        # 第N期: numbered per schedule. A racing issuer computes the same number for the same circular,
        # and the unique key keeps one of them; manual circulars are unnumbered.
        issue_no = uow.circulars.last_issue_no(name) + 1 if schedule is not None else None
    letterhead = Letterhead(
        issuer=schedule.issuer if schedule else None,
        issue_no=issue_no,
        signature=schedule.signature if schedule else None,
        cc=schedule.cc if schedule else (),
    )
    files = render_files(
        report,
        lang,
        formats=schedule.formats if schedule else ("docx", "xlsx"),
        chart=schedule.chart if schedule else True,
        issuer=letterhead.issuer,
        letterhead=letterhead,
    )
    now = app.clock.now()
    with app.uow(write=True) as uow:
        circular_id = uow.circulars.add(
            issue_key=key,
            schedule=name,
            period_kind=report.period.kind,
            period_from=report.period.start,
            period_to=report.period.end,
            campaign=report.campaign,
            lang=lang,
            figures=to_dict(report, lang),
            at=now,
            issue_no=issue_no,
        )
        if circular_id is None:  # another process issued it between our look and our insert; nothing is kept
            return None
        for f in files:
            uow.circulars.add_file(circular_id, f.name, f.media_type, f.content)
        if schedule is not None:
            directory = cached_org(app, uow).directory
            for person in _recipients(directory, schedule.recipients):
                for channel in directory.channels_of(person, app.settings.channels):
                    uow.outbox.add(_notice(app, circular_id, report, lang, person, channel, directory), now)
        uow.commit()
    return circular_id


def _recipients(directory: Directory, words: tuple[str, ...]) -> list[Contact]:
    out: dict[str, Contact] = {}
    for word in words:
        if word == "supervisors":
            found = [p for p in directory.people.values() if "supervisor" in p.roles]
        elif word == "leaders":
            found = [p for p in directory.people.values() if "leader" in p.roles]
        elif word == "unit_heads":
            heads = {u.head_id for u in directory.units.values() if u.head_id}
            found = [p for p in directory.people.values() if p.id in heads]
        else:
            found = [directory.people[word]] if word in directory.people else []
        for person in found:
            out.setdefault(person.id, person)
    return list(out.values())


def _notice(
    app: App, circular_id: int, report: Report, lang: Lang, person: Contact, channel: str, directory: Directory
) -> OutgoingNotice:
    period = report.period.label(lang)
    subject = Bilingual(f"【定期通报】整改任务进展情况（{period}）", f"[Circular] Rectification progress ({period})")
    lagging = [u.unit for u in report.units if u.lagging]
    tail = Bilingual(
        f"进展滞后单位：{'、'.join(lagging) if lagging else '无'}。全文：duban circulars show {circular_id} -o 通报.docx",
        f"Lagging units: {', '.join(lagging) if lagging else 'none'}. "
        f"Full text: duban circulars show {circular_id} -o circular.docx",
    )
    return OutgoingNotice(
        dedup_key=f"circular:{circular_id}:{person.id}:{channel}",
        task_id=None,
        rule="circular",
        level=0,
        recipient_id=person.id,
        channel=channel,
        address=directory.address(person, channel),
        subject=subject.pick(lang),
        body=headline(report, lang) + "\n" + tail.pick(lang),
    )


def list_circulars(app: App, schedule: str | None = None) -> list[CircularView]:
    with app.uow(write=False) as uow:
        rows = uow.circulars.listing(schedule)
        files = uow.circulars.file_index([c.id for c in rows])
    return [_view(c, files.get(c.id, [])) for c in rows]


def get_circular(app: App, circular_id: int) -> CircularView:
    with app.uow(write=False) as uow:
        c = uow.circulars.get(circular_id)
        if c is None:
            raise UnknownCircular(id=circular_id)
        return _view(c, uow.circulars.file_index([circular_id]).get(circular_id, []))


def circular_file(app: App, circular_id: int, suffix: str) -> RenderedFile | None:
    """The file stored when the circular was issued, byte for byte, if one of this kind was."""
    with app.uow(write=False) as uow:
        for name, media_type, content in uow.circulars.files(circular_id):
            if name.lower().endswith(suffix.lower()):
                return RenderedFile(name, media_type, content)
    return None


def _view(c: StoredCircular, files: list[tuple[str, str, int]]) -> CircularView:
    return CircularView(
        id=c.id,
        schedule=c.schedule,
        period_kind=c.period_kind,
        period_from=c.period_from,
        period_to=c.period_to,
        campaign=c.campaign,
        lang=c.lang,
        created_at=c.created_at,
        files=files,
        figures=c.figures,
    )


def check_id(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            what=Bilingual("通报编号", "circular id"),
            detail=Bilingual(f"'{raw}' 不是数字", f"'{raw}' is not a number"),
        ) from None
    if not 1 <= value <= 2**31 - 1:
        raise InvalidInput(
            what=Bilingual("通报编号", "circular id"),
            detail=Bilingual(f"{value} 超出范围；请用 'duban circulars list' 查看编号", f"{value} is out of range"),
        )
    return value
