"""Who is told, by which channel, with which words: turning a rule into outbox rows.

The organisation is read once per unit of work (a sweep may write thousands of
rows) and recipients are resolved by role words from the policy: unit_head,
responsible_person, unit, lead_leader, parent_unit_head, supervisors, leaders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from ..app import App
from ..domain.notices import NoticeFacts, render
from ..domain.planning import standing
from ..persistence.models import Person, Unit
from ..persistence.outbox import About, OutboxRepository, OutgoingNotice
from .watch import clock_runs


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


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: int
    name: str
    parent_id: int | None
    head_id: str | None
    channels: tuple[str, ...] | None


class Directory:
    def __init__(self, people: dict[str, Contact], units: dict[int, UnitInfo]) -> None:
        self.people = people
        self.units = units

    @classmethod
    def load(cls, conn: Connection) -> Directory:
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
            )
            for p in conn.execute(
                select(
                    Person.id,
                    Person.name,
                    Person.unit_id,
                    Person.roles,
                    Person.email,
                    Person.phone,
                    Person.wecom,
                    Person.dingtalk,
                    Person.channels,
                )
            )
        }
        units = {
            u.id: UnitInfo(u.id, u.name, u.parent_id, u.head_id, tuple(u.channels) if u.channels else None)
            for u in conn.execute(select(Unit.id, Unit.name, Unit.parent_id, Unit.head_id, Unit.channels))
        }
        return cls(people, units)

    def recipients(self, words: tuple[str, ...], task: About) -> list[Contact]:
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
                ids += [p.id for p in self.people.values() if p.unit_id == task.unit_id]
            elif word == "parent_unit_head":
                parent = self.units.get(unit.parent_id) if unit and unit.parent_id else None
                ids.append(parent.head_id if parent else None)
            elif word == "supervisors":
                ids += [p.id for p in self.people.values() if "supervisor" in p.roles]
            elif word == "leaders":
                ids += [p.id for p in self.people.values() if "leader" in p.roles]
        seen: dict[str, Contact] = {}
        for pid in ids:
            if pid and pid in self.people and pid not in seen:
                seen[pid] = self.people[pid]
        return list(seen.values())

    def channels_of(self, person: Contact, default: tuple[str, ...]) -> tuple[str, ...]:
        unit = self.units.get(person.unit_id) if person.unit_id is not None else None
        return person.channels or (unit.channels if unit else None) or default

    @staticmethod
    def address(person: Contact, channel: str) -> str | None:
        return {
            "email": person.email,
            "wecom": person.wecom or person.phone,
            "dingtalk": person.dingtalk or person.phone,
        }.get(channel, person.id)


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
    for person in directory.recipients(words, task):
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
                body=body,
            )
            if sink is not None:
                sink.append(notice)
                written += 1
            else:
                written += outbox.add(notice, now)
    return written
