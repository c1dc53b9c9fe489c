"""Accountability records (问责): open one for a task at the red level, close it, list them.

Each change is a record on the chain (kind ``accountability``) holding the
record's whole state, written in the same transaction as nothing else: the
records are the store, so an edit breaks a hash and a deletion a link. Who may
open and close is the policy's (``DUBAN_ACCOUNTABILITY``, else the built-in
``workflows/policies/accountability.yaml``); a refusal is recorded like any other.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from duban.workflows import BUILTIN_DIR

from ..app import App
from ..domain.accountability import (
    KIND,
    AccountabilityClosed,
    AccountabilityPolicy,
    AccountabilityRecord,
    NotRedLevel,
    UnknownAccountability,
    load_accountability_policy,
    record_number,
    red_level,
)
from ..domain.audit import RecordFacts
from ..domain.errors import InvalidInput, NotPermitted, UnknownPerson
from ..domain.report import AccountabilityLine
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..domain.watch import clock_runs
from ..persistence.uow import UnitOfWork
from .identity import acting
from .refusals import refusals_recorded
from .report import end_of_day
from .tasks import task_for_firing

SETTING = "DUBAN_ACCOUNTABILITY"
BUILTIN = BUILTIN_DIR / "policies" / "accountability.yaml"
_ROLE_NAMES = {
    "supervisor": "督查室",
    "leader": "领导",
    "admin": "管理员",
    "unit_head": "单位负责人",
    "unit_member": "单位人员",
}


def accountability_policy(app: App) -> AccountabilityPolicy:
    configured = app.settings.extra.get(SETTING)
    return load_accountability_policy(Path(configured).expanduser() if configured else BUILTIN)


def _rule(roles: frozenset[str]) -> Bilingual:
    ordered = sorted(roles)
    return Bilingual("或".join(_ROLE_NAMES.get(r, r) for r in ordered), " or ".join(ordered))


def open_record(
    app: App,
    actor_id: str | None,
    code: str,
    *,
    kind: str,
    persons: list[str],
    decision: str,
    decided_on: date | None = None,
) -> AccountabilityRecord:
    with refusals_recorded(app, actor_id, "accountability_open", code[:64]):
        return _open(app, actor_id, code, kind, persons, decision, decided_on)


def _open(
    app: App,
    actor_id: str | None,
    code: str,
    kind: str,
    persons: list[str],
    decision: str,
    decided_on: date | None,
) -> AccountabilityRecord:
    policy = accountability_policy(app)
    if kind not in policy.kinds:
        raise InvalidInput(
            what="--kind",
            detail=Bilingual(
                f"'{kind}' 不是可用的问责方式（可用：{'、'.join(policy.kinds)}）",
                f"'{kind}' is not one of {', '.join(policy.kinds)}",
            ),
        )
    names = [check_text(p, "--person", max_len=100) for p in persons]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise InvalidInput(
            what="--person",
            detail=Bilingual(
                "须至少写明一名相关人员（--person 姓名，可重复）",
                "name at least one person concerned (--person NAME, repeatable)",
            ),
        )
    decision = check_text(decision or "", "--decision", max_len=2000, multiline=True)
    if not decision:
        raise InvalidInput(
            what="--decision",
            detail=Bilingual(
                '须写明处理决定，如 --decision "对责任科室负责人进行约谈"',
                'say what was decided, e.g. --decision "对责任科室负责人进行约谈"',
            ),
        )
    now = app.clock.now()
    today = now.astimezone(app.tz).date()
    on = decided_on or today
    if on > today:
        raise InvalidInput(
            what="--on",
            detail=Bilingual(
                f"{on} 晚于今天（{today}）；请在作出决定后再登记",
                f"{on} is after today ({today}); record a decision once it is taken",
            ),
        )
    with app.uow(write=True) as uow:
        who, task, actor = task_for_firing(app, uow, actor_id, code)
        if not actor.roles & policy.may_open:
            raise NotPermitted(
                actor=f"{actor.name}({actor.id})",
                action=Bilingual("启动问责", "open an accountability record on"),
                code=code,
                rule=_rule(policy.may_open),
            )
        spec = app.registry.spec(task.workflow)
        red = red_level(spec.deadlines)
        deadline = task.clock.deadline
        days = app.calendar.working_days_between(deadline, today) if deadline is not None else 0
        level = spec.deadlines.level_reached(days)
        if not red or not clock_runs(spec, task.facts.state) or level < red:
            if not clock_runs(spec, task.facts.state):
                why = Bilingual(
                    f"当前状态为 {task.facts.state}，时限不在计算",
                    f"it is {task.facts.state}, where its clock does not run",
                )
            elif deadline is None:
                why = Bilingual("没有整改时限", "it has no deadline")
            else:
                why = Bilingual(
                    f"时限 {deadline}，逾期 {days} 个工作日，处于第 {level} 级",
                    f"due {deadline}, {days} working days overdue: level {level}",
                )
            raise NotRedLevel(code=code, why=why, red=red or "—")
        units = {uid: name for name, uid in uow.org.unit_ids().items()}
        uow.records.lock_head()  # the number is taken from the records: hold the chain until commit
        existing = uow.records.bodies(KIND)
        prefix = f"WZ-{today.year}-"
        taken = [int(n[len(prefix) :]) for n in existing if n.startswith(prefix) and n[len(prefix) :].isdigit()]
        record = AccountabilityRecord(
            number=record_number(today.year, max(taken, default=0) + 1),
            task=code,
            unit=units.get(task.facts.unit_id, str(task.facts.unit_id)),
            kind=kind,
            persons=tuple(names),
            decision=decision,
            decided_on=on,
            status="open",
            opened_by=who.actor_id,
            campaign=uow.tasks.campaign_of(task.id),
        )
        uow.records.append(RecordFacts(KIND, record.number, record.body(), now, who.account, who.operator_id, who.via))
        uow.commit()
    return record


def close_record(app: App, actor_id: str | None, number: str, note: str | None = None) -> AccountabilityRecord:
    with refusals_recorded(app, actor_id, "accountability_close", number[:64]):
        return _close(app, actor_id, number, note)


def _close(app: App, actor_id: str | None, number: str, note: str | None) -> AccountabilityRecord:
    policy = accountability_policy(app)
    note = check_text(note, "--note", max_len=2000, multiline=True) or None if note else None
    now = app.clock.now()
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        actor = uow.tasks.actor(who.actor_id)
        if actor is None:
            raise UnknownPerson(person=who.actor_id, near="")
        uow.records.lock_head()
        found = uow.records.bodies(KIND).get(number)
        if found is None:
            raise UnknownAccountability(number=number)
        record = AccountabilityRecord.from_body(number, found[0])
        if not actor.roles & policy.may_close:
            raise NotPermitted(
                actor=f"{actor.name}({actor.id})",
                action=Bilingual("办结问责", "close the accountability record of"),
                code=f"{record.task} ({number})",
                rule=_rule(policy.may_close),
            )
        if record.status == "closed":
            raise AccountabilityClosed(number=number, on=record.closed_on)
        body = record.body() | {
            "status": "closed",
            "closed_by": who.actor_id,
            "closed_on": now.astimezone(app.tz).date().isoformat(),
            "closing_note": note,
        }
        uow.records.append(RecordFacts(KIND, number, body, now, who.account, who.operator_id, who.via))
        uow.commit()
    return AccountabilityRecord.from_body(number, body)


def circular_lines(
    app: App, uow: UnitOfWork, start: date, end: date, unit: str | None, campaign: str | None = None
) -> list[AccountabilityLine]:
    """The records a circular for [start, end] names: decided by its end and not closed before its start,
    each as it stood at the end (the chain replayed to that instant)."""
    out = []
    for number, (body, _at) in uow.records.bodies(KIND, end_of_day(end, app.tz)).items():
        r = AccountabilityRecord.from_body(number, body)
        if r.decided_on > end or (r.closed_on is not None and r.closed_on < start) or (unit and r.unit != unit):
            continue
        if campaign and r.campaign != campaign:
            continue
        out.append(AccountabilityLine(r.number, r.task, r.unit, r.kind, r.persons, r.decision, r.decided_on, r.status))
    return sorted(out, key=lambda a: (a.decided_on, a.number))


def list_records(
    app: App,
    *,
    unit: str | None = None,
    person: str | None = None,
    task: str | None = None,
    status: str | None = None,
) -> list[AccountabilityRecord]:
    """The records as they stand, newest number last; filtered by unit, person concerned, task or status."""
    with app.uow(write=False) as uow:
        bodies = uow.records.bodies(KIND)
    out = []
    for number, (body, _at) in bodies.items():
        r = AccountabilityRecord.from_body(number, body)
        if unit and r.unit != unit:
            continue
        if person and person not in r.persons:
            continue
        if task and r.task != task:
            continue
        if status and r.status != status:
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.decided_on, r.number))
