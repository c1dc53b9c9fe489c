"""Who is told, by which channel, with which words: turning a rule into outbox rows.

The organisation is read once per unit of work (a sweep may write thousands of
rows) and recipients are resolved by role words from the policy: unit_head,
responsible_person, unit, lead_leader, parent_unit_head, supervisors, leaders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..app import App
from ..domain.notices import NoticeFacts, render
from ..domain.planning import standing
from ..domain.watch import clock_runs
from ..persistence.outbox import About, OutboxRepository, OutgoingNotice
from ..persistence.repository import OrgRepository
from ..persistence.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    name: str
    unit_id: int | None
    roles: tuple[str, ...]
    email: str | None
    phone: str | None
    wecom: str | None
    dingtalk: str | None
    channels: tuple[str, ...] | None
    digest: str | None = None  # daily, none, or None (as the unit says)
    notify: str | None = None  # digest, each, or None (digest)


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: int
    name: str
    parent_id: int | None
    head_id: str | None
    channels: tuple[str, ...] | None
    digest: str | None = None


class Directory:
    def __init__(self, people: dict[str, Contact], units: dict[int, UnitInfo]) -> None:
        self.people = people
        self.units = units
        # Who is in a unit and who holds a role, indexed once: a recipient look-up does not walk everyone.
        self.members: dict[int | None, list[str]] = {}
        self.holders: dict[str, list[str]] = {}
        for p in people.values():
            self.members.setdefault(p.unit_id, []).append(p.id)
            for role in p.roles:
                self.holders.setdefault(role, []).append(p.id)

    @classmethod
    def of(cls, org: OrgRepository) -> Directory:
        people_rows, unit_rows = org.contacts()
        people = {
            p.id: Contact(
                p.id,
                p.name,
                p.unit_id,
                tuple(p.roles or ()),
                p.email,
                p.phone,
                p.wecom,
                p.dingtalk,
                tuple(p.channels) if p.channels else None,
                p.digest,
                p.notify,
            )
            for p in people_rows
        }
        units = {
            u.id: UnitInfo(u.id, u.name, u.parent_id, u.head_id, tuple(u.channels) if u.channels else None, u.digest)
            for u in unit_rows
        }
        return cls(people, units)

    # The shapes ``resolve_person`` and ``resolve_unit`` ask for, answered from memory.
    def people_index(self) -> dict[str, tuple[str, int | None, list[str]]]:
        return {p.id: (p.name, p.unit_id, list(p.roles)) for p in self.people.values()}

    def unit_index(self) -> dict[str, int]:
        return {u.name: u.id for u in self.units.values()}

    def recipients(
        self, words: tuple[str, ...], task: About, co_units: tuple[int, ...] = (), co_unit: int | None = None
    ) -> list[Contact]:
        """``co_units``: the task's co-units (配合单位), for the word co_units; ``co_unit``: the one a step is about."""
        ids: list[str | None] = []
        unit = self.units.get(task.unit_id)
        for word in words:
            if word == "unit_head":
                ids.append(unit.head_id if unit else None)
            elif word == "responsible_person":
                ids.append(task.responsible_person_id)
            elif word == "lead_leader":
                ids.append(task.lead_leader_id)
            elif word == "unit":
                ids += self.members.get(task.unit_id, [])
            elif word == "parent_unit_head":
                parent = self.units.get(unit.parent_id) if unit and unit.parent_id else None
                ids.append(parent.head_id if parent else None)
            elif word == "supervisors":
                ids += self.holders.get("supervisor", [])
            elif word == "leaders":
                ids += self.holders.get("leader", [])
            elif word in ("co_units", "co_unit_head"):
                for uid in co_units if word == "co_units" else ((co_unit,) if co_unit is not None else ()):
                    info = self.units.get(uid)
                    ids.append(info.head_id if info else None)
            elif word == "co_unit" and co_unit is not None:
                ids += self.members.get(co_unit, [])
        seen: dict[str, Contact] = {}
        for pid in ids:
            if pid and pid in self.people and pid not in seen:
                seen[pid] = self.people[pid]
        return list(seen.values())

    def channels_of(self, person: Contact, default: tuple[str, ...]) -> tuple[str, ...]:
        unit = self.units.get(person.unit_id) if person.unit_id is not None else None
        return person.channels or (unit.channels if unit else None) or default

    def wants_digest(self, person: Contact) -> bool:
        """A daily digest: their own entry says daily (or notify: digest), or it is silent and their unit says daily."""
        if person.digest is not None:
            return person.digest == "daily"
        if person.notify == "digest":
            return True
        unit = self.units.get(person.unit_id) if person.unit_id is not None else None
        return unit is not None and unit.digest == "daily"

    def folds(self, person: Contact) -> bool:
        """Their per-task messages wait for the digest (all but the urgent ones: see ``URGENT``)."""
        return person.notify != "each" and self.wants_digest(person)

    def digest_readers(self) -> list[Contact]:
        return sorted((p for p in self.people.values() if self.wants_digest(p)), key=lambda p: p.id)

    @staticmethod
    def address(person: Contact, channel: str) -> str | None:
        return {
            "email": person.email,
            "wecom": person.wecom or person.phone,
            "dingtalk": person.dingtalk or person.phone,
        }.get(channel, person.id)


# Rules still sent at once to someone whose messages are folded into a digest: the task is already overdue and
# a level up the hierarchy has been told (督办), or a unit has not signed for a task past its day. Reminders
# before the deadline, no-progress reminders and step notices (assigned, returned, submitted…) wait for the
# morning's digest, which lists the task anyway. Supervision notices (督办单) are not folded either.
URGENT = frozenset({"escalate", "sign_escalate", "notice"})


class CachedOrg:
    """The organisation as this process last read it, for as long as its version has not moved.

    Every notified step and every assignment needs people and units; reading all of them each time made
    a step's cost grow with the organisation (13× slower at 2,000 people). The version check is two
    index probes; any change through duban adds a record and so moves it.
    """

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._people = directory.people_index()
        self._units = directory.unit_index()

    def people(self) -> dict[str, tuple[str, int | None, list[str]]]:
        return self._people

    def unit_ids(self) -> dict[str, int]:
        return self._units


def cached_org(app: App, uow: UnitOfWork) -> CachedOrg:
    version = uow.org.version()
    held = app.org_cache
    if held is not None and held[0] == version and isinstance(held[1], CachedOrg):
        return held[1]
    org = CachedOrg(Directory.of(uow.org))
    app.org_cache = (version, org)
    return org


def redirect(
    app: App, outbox: OutboxRepository, directory: Directory, people: list[Contact], now: datetime
) -> list[tuple[Contact, str | None]]:
    from .substitutes import redirect as to_substitutes  # imported here: substitutes builds on this module

    return to_substitutes(app, outbox, directory, people, now)


def write_notices(
    app: App,
    outbox: OutboxRepository,
    directory: Directory,
    task: About,
    rule: str,
    level: int,
    words: tuple[str, ...],
    key_base: str,
    now: datetime,
    note: str | None = None,
    sink: list[OutgoingNotice] | None = None,
    co_units: tuple[int, ...] = (),
    co_unit: int | None = None,
) -> int:
    """One row per recipient and channel, keyed ``key_base:recipient:channel``; returns rows written.

    With ``sink`` the rows are collected for the caller to write in one statement (the sweep's batches).
    """
    spec = app.registry.spec(task.workflow)
    today = now.astimezone(app.tz).date()
    stand = standing(task.deadline, clock_runs(spec, task.state), today, spec.deadlines, app.calendar)
    unit = directory.units.get(task.unit_id)
    leader = directory.people.get(task.lead_leader_id or "")
    lang = app.settings.notify_lang
    facts = NoticeFacts(
        code=task.code,
        title=task.title,
        unit=unit.name if unit else "",
        lead_leader=leader.name if leader else "",
        deadline=task.deadline,
        days_left=stand.days_left,
        days_overdue=stand.days_overdue,
        state_label=spec.state_label(task.state).pick(lang),
    )
    subject, body = render(rule, level, facts, lang, note)
    base = app.settings.extra.get("DUBAN_BASE_URL", "").rstrip("/")
    if base:  # the web workspace's task page, so a message leads straight to the step it asks for
        body += f"\n{'查看任务' if lang == 'zh' else 'Open the task'}: {base}/tasks/{task.code}"
    written = 0
    for person, absent in redirect(app, outbox, directory, directory.recipients(words, task, co_units, co_unit), now):
        folded = rule not in URGENT and directory.folds(person)
        said = body
        if absent is not None:  # 代理: the substitute hears what was meant for the absent person
            said += f"\n{'（代理' + absent + '接收）' if lang == 'zh' else f'(received as substitute for {absent})'}"
        for channel in directory.channels_of(person, app.settings.channels):
            notice = OutgoingNotice(
                dedup_key=f"{key_base}:{person.id}:{channel}",
                task_id=task.id,
                rule=rule,
                level=level,
                recipient_id=person.id,
                channel=channel,
                address=directory.address(person, channel),
                subject=subject,
                body=said,
                folded=folded,
            )
            if sink is not None:
                sink.append(notice)
                written += 1
            else:
                written += outbox.add(notice, now)
    return written
