"""分解/多级交办: split a task into sub-tasks for lower units, and close a sub-task out.

A split is one unit of work: the parent's internal ``split`` step (its permission rule comes from the YAML;
its event names the sub-task and its unit) and the sub-task itself, a full task of the same workflow with its
own code (the parent's code and a number: ZG-2026-0001-1), state, deadline, sign-for limit and notices. The
sub-task's first event names its parent. The checks here are the ones the machine cannot make alone: the unit
exists and is below the responsible unit (unless the workflow's ``split.any_unit`` roles split), the deadline
is no later than the parent's, the levels stop at ``split.max_depth``, no task becomes its own ancestor.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ..app import App
from ..domain.audit import GENESIS, EventFacts, RowFacts, event_hash
from ..domain.errors import InvalidInput, UnknownTask
from ..domain.planning import DeadlineClock
from ..domain.splitting import (
    CLOSE_OUT_TRIGGER,
    SPLIT_TRIGGER,
    WHAT,
    check_depth,
    check_not_ancestor,
    check_sub_deadline,
    check_target_unit,
    sub_task_code,
)
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..domain.watch import next_attention, sign_for_by
from ..persistence.repository import NewTaskRow
from ..persistence.uow import UnitOfWork
from .identity import acting
from .notify import cached_org
from .org import resolve_person, resolve_unit
from .refusals import refusals_recorded
from .tasks import FireResult, fire_within, notify_event, open_sub_tasks, resolve_deadline, task_for_firing


@dataclass
class NewSubTask:
    parent: str  # the code of the task split
    unit: str  # the lower unit it goes to
    title: str | None = None  # default: the parent's title
    deadline: date | str | None = None  # default: the parent's deadline; never later than it
    person: str | None = None  # 责任人 in the lower unit
    measures: list[str] = field(default_factory=list)
    comment: str | None = None


def _text(value: str | None, what: str, max_len: int) -> str | None:
    return (check_text(value, what, max_len=max_len, multiline=True) or None) if value else None


def split(app: App, actor_id: str | None, sub: NewSubTask) -> str:
    """Split ``sub.parent`` into a new sub-task for ``sub.unit``; returns the sub-task's code."""
    with refusals_recorded(app, actor_id, SPLIT_TRIGGER, sub.parent[:64]):
        parent_code = check_text(sub.parent, "task code", max_len=32)
        sub = replace(
            sub,
            unit=check_text(sub.unit, "unit", max_len=200),
            title=(check_text(sub.title, "title", max_len=500) or None) if sub.title else None,
            person=(check_text(sub.person, "person", max_len=200) or None) if sub.person else None,
            measures=[m for m in (check_text(x, "measure", max_len=2000, multiline=True) for x in sub.measures) if m],
            comment=_text(sub.comment, "comment", 4000),
        )
        with app.uow(write=True) as uow:
            code = _split(app, uow, actor_id, parent_code, sub)
            uow.commit()
    return code


def _split(app: App, uow: UnitOfWork, actor_id: str | None, parent_code: str, sub: NewSubTask) -> str:
    who, parent, actor = task_for_firing(app, uow, actor_id, parent_code)
    spec = app.registry.spec(parent.workflow)
    org = cached_org(app, uow)
    units = org.directory.units
    target = resolve_unit(org, sub.unit)
    unit_name = units[parent.facts.unit_id].name if parent.facts.unit_id in units else str(parent.facts.unit_id)
    if target == parent.facts.unit_id:
        raise InvalidInput(
            what="--unit",
            detail=Bilingual(
                f"任务 {parent_code} 已由 {unit_name} 承办；子任务须交给下级单位",
                f"{parent_code} is already {unit_name}'s; a sub-task goes to a lower unit",
            ),
        )
    # The machine decides whether the actor may split at all (and from which state); the unit's scope is here.
    if spec.transition(SPLIT_TRIGGER, parent.facts.state) is not None:
        parents = {u.id: u.parent_id for u in units.values()}
        check_target_unit(spec.split, actor.roles, parents, parent.facts.unit_id, target, units[target].name, unit_name)
    above = uow.sub_tasks.ancestors(parent.id)
    check_not_ancestor(above, parent_code)
    check_depth(spec.split, len(above) + 1, parent_code)
    columns, _co = uow.tasks.content_row(parent.id)
    now = app.clock.now()
    deadline = resolve_deadline(app, spec, sub.deadline, columns["campaign"], now) if sub.deadline else None
    due = deadline.due if deadline else parent.clock.deadline
    check_sub_deadline(parent_code, parent.clock.deadline, due)
    person_id = resolve_person(org, sub.person) if sub.person else None
    code = sub_task_code(parent_code, uow.sub_tasks.count_children(parent.id) + 1)
    if len(code) > 32:
        raise InvalidInput(
            what=WHAT,
            detail=Bilingual(f"子任务编号 {code} 超过 32 个字符", f"the sub-task code {code} is over 32 characters"),
        )
    target_name = units[target].name
    fire_within(
        app,
        uow,
        actor_id,
        parent_code,
        SPLIT_TRIGGER,
        comment=sub.comment,
        split=code,
        data={
            "sub_task": code,
            "unit_id": target,
            "unit": target_name,
            "deadline": due.isoformat() if due else None,
        },
    )
    _write_sub_task(
        app, uow, who, actor.id, spec, parent, columns, code, target, target_name, due, deadline, person_id, sub
    )
    return code


def _write_sub_task(
    app: App,
    uow: UnitOfWork,
    who: Any,
    actor_id: str,
    spec: Any,
    parent: Any,
    columns: dict[str, Any],
    code: str,
    unit_id: int,
    unit_name: str,
    due: date | None,
    deadline: Any,
    person_id: str | None,
    sub: NewSubTask,
) -> None:
    """The sub-task: a full task of the parent's workflow, its first event naming the parent."""
    now = app.clock.now()
    sign_by = sign_for_by(spec, now, calendar=app.calendar, tz=app.tz)
    clock = DeadlineClock.started(deadline=due, at=now, sign_by=sign_by)
    title = sub.title or columns["title"]
    row = NewTaskRow(
        code=code,
        workflow=spec.name,
        workflow_version=spec.version,
        title=title,
        problem=columns["problem"],
        measures=sub.measures,
        category=columns["category"],
        campaign=columns["campaign"],
        unit_id=unit_id,
        responsible_person_id=person_id,
        lead_leader_id=parent.facts.lead_leader_id,
        deadline=due,
        deadline_expr=deadline.expression if deadline else (due.isoformat() if due else None),
        ongoing=bool(deadline.ongoing) if deadline else bool(columns["ongoing"] and due is None),
        priority=columns["priority"],
        fields=dict(columns["fields"] or {}),
        state=spec.initial,
        at=now,
        next_action_at=next_attention(spec, spec.initial, clock, calendar=app.calendar, tz=app.tz),
        assigned_on=now.astimezone(app.tz).date(),
        sign_by=sign_by,
        source=columns.get("source"),
        source_ref=columns.get("source_ref"),
        source_date=columns.get("source_date"),
        instruction=columns.get("instruction"),
    )
    content_hash = replace(row.content(()), parent_id=parent.id).digest()  # the parent is bound to the chain
    event = EventFacts(
        task=code,
        seq=1,
        trigger=spec.create.trigger,
        from_state=None,
        to_state=spec.initial,
        actor_id=actor_id,
        operator_id=who.operator_id,
        comment=sub.comment,
        at=now,
        data={
            "title": title,
            "unit": unit_name,
            "leader": parent.facts.lead_leader_id,
            "deadline": due.isoformat() if due else None,
            "deadline_expr": row.deadline_expr,
            "parent": parent.code,
        },
        deadline=due,
        account=who.account,
        row=RowFacts(content_hash, unit_id, parent.facts.lead_leader_id, due, 1, sign_by=sign_by).to_json(),
        via=who.via,
    )
    first_hash = event_hash(event, GENESIS)
    task_id = uow.tasks.insert(replace(row, head_hash=first_hash, content_hash=content_hash))
    uow.sub_tasks.set_parent(task_id, parent.id)
    uow.tasks.append_event(task_id, event, first_hash)
    if spec.create.notify:
        label = Bilingual("分解交办", "split").pick(app.settings.notify_lang)
        notify_event(app, uow, task_id, spec.create.notify, f"{task_id}:event:1", now, f"{label}（{parent.code}）")


def close_out(app: App, actor_id: str | None, code: str, reason: str | None) -> FireResult:
    """核销: a leader closes an open sub-task out, with a reason, so its parent may be submitted."""
    with refusals_recorded(app, actor_id, CLOSE_OUT_TRIGGER, code[:64]):
        code = check_text(code, "task code", max_len=32)
        reason = _text(reason, "comment", 4000)
        with app.uow(write=True) as uow:
            found = uow.tasks.for_firing(code, acting(app, uow, actor_id).actor_id)
            if found is None:
                raise UnknownTask(code=code)
            parent = uow.sub_tasks.parent_of(found[0].id)
            if parent is None:
                raise InvalidInput(
                    what=Bilingual("核销", "close-out"),
                    detail=Bilingual(
                        f"任务 {code} 不是子任务；只有分解出的子任务可以核销（顶层任务用 duban close 销号）",
                        f"{code} is not a sub-task; only a sub-task is closed out (a top task is closed with duban close)",
                    ),
                )
            fired = fire_within(
                app,
                uow,
                actor_id,
                code,
                CLOSE_OUT_TRIGGER,
                comment=reason,
                sub_task=parent.code,
                data={"parent": parent.code},
            )
            uow.commit()
    return FireResult(code=code, workflow=fired.task.workflow, outcome=fired.outcome, version=fired.seq)


def check_sub_extension(uow: UnitOfWork, code: str, wanted: date) -> None:
    """A sub-task's deadline may not move past its parent's (the parent's may move past a sub-task's)."""
    parent = uow.sub_tasks.parent_of_code(code)
    if parent is not None:
        check_sub_deadline(parent.code, parent.deadline, wanted)


def open_sub_tasks_of(app: App, code: str) -> list[str]:
    """The codes of a task's sub-tasks still open (what its submission waits for)."""
    with app.uow(write=False) as uow:
        task_id = uow.sub_tasks.task_id(code)
        return [] if task_id is None else open_sub_tasks(app, uow, task_id)
