"""Commands on tasks: assign, fire a trigger, report progress.

Each is one unit of work: check, change the state, append the event, commit;
a refusal raises before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..app import App
from ..domain.audit import GENESIS, EventFacts, RowFacts, event_hash
from ..domain.co_units import PART_TRIGGERS, Part, part_data, part_days, pick_part
from ..domain.deadlines import Deadline, campaign_year, parse_deadline
from ..domain.errors import (
    BadFile,
    InvalidInput,
    NoActor,
    NotPermitted,
    StaleTask,
    UnknownPerson,
    UnknownTask,
)
from ..domain.machine import Actor, Outcome, Request, describe_rules
from ..domain.planning import DeadlineClock
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..domain.watch import after_transition, moved_deadline, next_attention, reassigned, sign_for_by
from ..domain.workflow import FieldSpec, WorkflowSpec
from ..persistence.binding import content_of
from ..persistence.repository import NewTaskRow, TaskRow
from ..persistence.uow import UnitOfWork
from .identity import Acting, acting
from .instructions import find_instruction
from .notify import cached_org, write_notices
from .org import resolve_person, resolve_unit
from .refusals import refusals_recorded

if TYPE_CHECKING:
    from ..persistence.instructions import InstructionRow


@dataclass
class NewTask:
    title: str
    unit: str
    leader: str
    workflow: str = "rectification"
    deadline: date | str | None = None  # a date, or an expression such as 2026年6月底前 or 立行立改
    category: str | None = None
    campaign: str | None = None
    measures: list[str] = field(default_factory=list)
    problem: str | None = None
    co_units: list[str] = field(default_factory=list)
    responsible_person: str | None = None
    priority: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    source: str | None = None  # 问题来源, one of the workflow's sources
    source_ref: str | None = None  # its document number: 县委巡察反馈意见 第3条
    source_date: date | None = None  # the source document's date
    instruction: str | None = None  # the 领导批示 (PS-2026-0001) the task is turned from


@dataclass(frozen=True)
class FireResult:
    code: str
    workflow: str
    outcome: Outcome
    version: int


@dataclass(frozen=True)
class ProgressInput:
    percent: int
    note: str
    attachments: tuple[Path, ...] = ()


def _actor(uow: UnitOfWork, actor_id: str | None) -> Actor:
    if not actor_id:
        raise NoActor()
    actor = uow.tasks.actor(actor_id)
    if actor is None:
        raise UnknownPerson(person=actor_id, near="")
    return actor


def assign(app: App, actor_id: str | None, new: NewTask) -> str:
    with refusals_recorded(app, actor_id, "assign"):
        return _assign(app, actor_id, new)


def _assign(app: App, actor_id: str | None, new: NewTask) -> str:
    machine = app.registry.machine(new.workflow)
    spec = machine.spec
    title = check_text(new.title, "title", max_len=500)
    if not title:
        raise InvalidInput(
            what=Bilingual("标题", "title"),
            detail=Bilingual("任务须有标题（--title）", "a task needs a title (--title)"),
        )
    new = _checked(new)
    fields = _validate_fields(spec, new.fields)
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        actor = _actor(uow, who.actor_id)
        if not machine.may_create(actor):
            raise NotPermitted(
                actor=f"{actor.name}({actor.id})",
                action=spec.create.label,
                code=spec.label,
                rule=describe_rules(spec.create.who),
            )
        org = cached_org(app, uow)
        unit_id = resolve_unit(org, new.unit)
        leader_id = resolve_person(org, new.leader)
        if "leader" not in org.people()[leader_id][2]:
            raise InvalidInput(
                what=Bilingual("责任领导", "lead leader"),
                detail=Bilingual(
                    f"'{new.leader}' 不是领导（没有“领导”角色）", f"'{new.leader}' does not have the leader role"
                ),
            )
        person_id = resolve_person(org, new.responsible_person) if new.responsible_person else None
        co_unit_ids = [resolve_unit(org, u) for u in dict.fromkeys(new.co_units) if u != new.unit]
        now = app.clock.now()
        source = task_source(spec, new, find_instruction(uow, new.instruction) if new.instruction else None, now, app)
        deadline = resolve_deadline(app, spec, new.deadline, new.campaign, now)
        year = now.astimezone(app.tz).year
        code = f"{spec.code_prefix}-{year}-{uow.tasks.next_code_number(spec.code_prefix, year):04d}"
        sign_by = sign_for_by(spec, now, calendar=app.calendar, tz=app.tz)
        parts = new_parts(app, spec, org.directory, co_unit_ids, now, deadline.due if deadline else None)
        clock = DeadlineClock.started(deadline=deadline.due if deadline else None, at=now, sign_by=sign_by)
        next_at = next_attention(spec, spec.initial, clock, calendar=app.calendar, tz=app.tz)
        row = NewTaskRow(
            code=code,
            workflow=spec.name,
            workflow_version=spec.version,
            title=title,
            problem=(new.problem or "").strip() or None,
            measures=[m.strip() for m in new.measures if m.strip()],
            category=new.category or None,
            campaign=new.campaign or None,
            unit_id=unit_id,
            responsible_person_id=person_id,
            lead_leader_id=leader_id,
            deadline=deadline.due if deadline else None,
            deadline_expr=deadline.expression if deadline else None,
            ongoing=bool(deadline and deadline.ongoing),
            priority=new.priority or None,
            fields=fields,
            state=spec.initial,
            at=now,
            next_action_at=next_at,
            assigned_on=now.astimezone(app.tz).date(),
            sign_by=sign_by,
            source=source.name,
            source_ref=source.ref,
            source_date=source.on,
            instruction=source.instruction,
        )
        content_hash = row.content(co_unit_ids).digest()
        event = EventFacts(
            task=code,
            seq=1,
            trigger=spec.create.trigger,
            from_state=None,
            to_state=spec.initial,
            actor_id=actor.id,
            operator_id=who.operator_id,
            comment=None,
            at=now,
            data={
                "title": title,
                "unit": new.unit,
                "leader": leader_id,
                "deadline": deadline.due.isoformat() if deadline and deadline.due else None,
                "deadline_expr": deadline.expression if deadline else None,
                **({"source": source.name} if source.name else {}),
                **({"instruction": source.instruction} if source.instruction else {}),
                **({"co_units": [part_data(p) for p in parts]} if parts else {}),
            },
            deadline=deadline.due if deadline else None,
            account=who.account,
            row=RowFacts(content_hash, unit_id, leader_id, row.deadline, 1, sign_by=sign_by).to_json(),
            via=who.via,
        )
        first_hash = event_hash(event, GENESIS)
        task_id = uow.tasks.insert(replace(row, head_hash=first_hash, content_hash=content_hash))
        uow.tasks.add_co_units(task_id, co_unit_ids)
        for p in parts:
            if p.sign_by is not None or p.report_by is not None:
                uow.co_units.set_days(task_id, p.unit_id, p.sign_by, p.report_by)
        uow.tasks.append_event(task_id, event, first_hash)
        if spec.create.notify:
            notify_event(
                app,
                uow,
                task_id,
                spec.create.notify,
                f"{task_id}:event:1",
                now,
                spec.create.label.pick(app.settings.notify_lang),
                co_units=tuple(co_unit_ids),
            )
        uow.commit()
    return code


def new_parts(
    app: App, spec: WorkflowSpec, directory: Any, co_unit_ids: list[int], now: datetime, deadline: date | None
) -> list[Part]:
    """牵头/配合: each co-unit's part with its sign-for and report-by days under the workflow's policy."""
    today = now.astimezone(app.tz).date()
    sign_by, report_by = part_days(spec.deadlines.co_units, today, deadline, app.calendar)
    return [
        Part(uid, directory.units[uid].name if uid in directory.units else str(uid), "assigned", sign_by, report_by)
        for uid in co_unit_ids
    ]


@dataclass(frozen=True)
class Fired:
    """A firing written but not yet committed: its caller may add to the same transaction."""

    task: TaskRow
    outcome: Outcome
    seq: int
    at: datetime


def fire_within(
    app: App,
    uow: UnitOfWork,
    actor_id: str | None,
    code: str,
    trigger: str,
    *,
    comment: str | None = None,
    if_version: int | None = None,
    progress: ProgressInput | None = None,
    extension: Any = None,
    new_deadline: date | None = None,
    data: dict[str, Any] | None = None,
    unit_id: int | None = None,
    verification: Any = None,
    co_unit: int | None = None,
    split: Any = None,
    sub_task: Any = None,
) -> Fired:
    """Check, move, record and notify inside ``uow``; nothing is committed here.

    ``unit_id``: the unit a reassignment or transfer hands the task to (an internal step only carries it).
    ``co_unit``: the co-unit whose part a co_sign, co_report or co_waive is about (signing for and reporting
    default to the actor's own unit).
    """
    who, task, actor = task_for_firing(app, uow, actor_id, code)
    if if_version is not None and if_version != task.version:
        raise StaleTask(code=code, expected=if_version, actual=task.version)
    machine = app.registry.machine(task.workflow)
    facts = task.facts
    parts = uow.tasks.parts(task.id, app.tz) if machine.looks_at_parts(trigger) else []
    if parts:
        facts = replace(facts, co_unit_ids=frozenset(p.unit_id for p in parts))
    if co_unit is None and trigger in PART_TRIGGERS and trigger != "co_waive":
        co_unit = actor.unit_id
    request = Request(
        comment=comment,
        progress=progress,
        extension=extension,
        has_progress_report=lambda: uow.tasks.has_progress_report(task.id),
        unit_id=unit_id,
        verification=verification,
        co_unit=co_unit,
        pending_co_units=lambda: [p.unit for p in parts if not p.settled],
        split=split,
        sub_task=sub_task,
        open_sub_tasks=lambda: open_sub_tasks(app, uow, task.id),
    )
    outcome = machine.fire(facts, trigger, actor, request)
    spec_t = machine.step(trigger, outcome.source)
    part: Part | None = None
    if trigger in PART_TRIGGERS and co_unit is not None:
        label = spec_t.label if spec_t is not None else machine.spec.trigger_label(trigger)
        part, data = _co_unit_part(app, uow, parts, co_unit, task.facts.unit_id, trigger, code, label, data)
    moves = unit_id is not None and spec_t is not None and spec_t.dest is not None
    # Evidence is copied only once the firing is allowed; a failed commit leaves at worst an unreferenced blob.
    stored = [app.evidence.put(p) for p in progress.attachments] if progress is not None else []
    now = app.clock.now()
    calendar, tz = app.calendar, app.tz
    clock = after_transition(
        machine.spec,
        outcome.source,
        outcome.dest,
        task.clock,
        now,
        progress=progress is not None,
        calendar=calendar,
        tz=tz,
    )
    if new_deadline is not None:
        clock = moved_deadline(machine.spec, outcome.dest, clock, new_deadline, now, calendar=calendar, tz=tz)
    source_state = machine.spec.states.get(outcome.source)
    if (
        data is None
        and source_state is not None
        and source_state.report == "suspended"
        and outcome.dest != outcome.source
    ):
        data = resumed_data(app, task.clock, clock, now)  # 恢复: how far the deadline moved, on the record
    row = task.row_json(clock)
    if moves:
        assert unit_id is not None
        clock = reassigned(
            machine.spec,
            outcome.dest,
            clock,
            now,
            assigned_on=task.assigned_on,
            original_deadline=task.original_deadline,
            calendar=calendar,
            tz=tz,
        )
        uow.tasks.move_to_unit(task.id, unit_id)
        columns, co_units = uow.tasks.content_row(task.id)
        content = content_of(columns, co_units).digest()
        uow.tasks.set_content_hash(task.id, content)
        row = replace(task.row_facts(clock), unit_id=unit_id, content=content).to_json()
    seq = task.version + 1
    if progress is not None:
        data = {
            "percent": progress.percent,
            "note": progress.note,
            "evidence": [s.sha256 for s in stored],
            "files": [{"sha256": s.sha256, "size": s.size, "name": s.original_name} for s in stored],
        }
    event = EventFacts(
        task=task.code,
        seq=seq,
        trigger=trigger,
        from_state=outcome.source,
        to_state=outcome.dest,
        actor_id=actor.id,
        operator_id=who.operator_id,
        comment=comment,
        at=now,
        data=data,
        deadline=clock.deadline,
        account=who.account,
        row=row,
        via=who.via,
    )
    new_hash = event_hash(event, task.head_hash)
    if not uow.tasks.advance(
        task.id, task.version, outcome.dest, now, clock, new_hash, before=task.clock, from_state=task.facts.state
    ):
        raise StaleTask(code=code, expected=task.version, actual=uow.tasks.current_version(task.id))
    uow.tasks.append_event(task.id, event, new_hash)
    if part is not None:
        uow.co_units.move(task.id, part.unit_id, PART_TRIGGERS[trigger], now)
    if progress is not None:
        report_id = uow.tasks.add_progress(task.id, seq, progress.percent, progress.note.strip(), actor.id, now)
        for s in stored:
            uow.tasks.add_evidence(report_id, s.sha256, s.size, s.original_name)
    dest_state = machine.spec.states.get(outcome.dest)
    if dest_state is not None and dest_state.final and outcome.source != outcome.dest:
        uow.tasks.withdraw_extension_requests(task.id, now)
    if spec_t is not None and spec_t.notify:
        note = spec_t.label.pick(app.settings.notify_lang) + (f"（{comment}）" if comment else "")
        notify_event(
            app,
            uow,
            task.id,
            spec_t.notify,
            f"{task.id}:event:{seq}",
            now,
            note,
            co_units=_co_unit_ids(uow, task.id, app, parts) if "co_units" in spec_t.notify else (),
            co_unit=part.unit_id if part is not None else None,
        )
    return Fired(task, outcome, seq, now)


def _co_unit_ids(uow: UnitOfWork, task_id: int, app: App, parts: list[Part]) -> tuple[int, ...]:
    return tuple(p.unit_id for p in (parts or uow.tasks.parts(task_id, app.tz)))


def open_sub_tasks(app: App, uow: UnitOfWork, task_id: int) -> list[str]:
    """分解: the codes of a task's sub-tasks not yet in a final state (closed, closed out or cancelled)."""
    out = []
    for code, workflow, state in uow.sub_tasks.children_states(task_id):
        spec = app.registry.find(workflow)
        st = spec.states.get(state) if spec else None
        if st is None or not st.final:
            out.append(code)
    return out


def task_for_firing(app: App, uow: UnitOfWork, actor_id: str | None, code: str) -> tuple[Acting, TaskRow, Actor]:
    """Who acts, the task and the actor's roles, read in one round trip; an unknown task or person is refused."""
    who = acting(app, uow, actor_id)
    found = uow.tasks.for_firing(code, who.actor_id)
    if found is None:
        raise UnknownTask(code=code)
    task, actor = found
    if actor is None:
        raise UnknownPerson(person=who.actor_id, near="")
    return who, task, actor


def _co_unit_part(
    app: App,
    uow: UnitOfWork,
    parts: list[Part],
    co_unit: int,
    lead_unit_id: int,
    trigger: str,
    code: str,
    label: Bilingual,
    data: dict[str, Any] | None,
) -> tuple[Part, dict[str, Any]]:
    """牵头/配合: the co-unit's part a step is about, and the event data naming both units."""
    directory = cached_org(app, uow).directory
    name = directory.units[co_unit].name if co_unit in directory.units else str(co_unit)
    part = pick_part(parts, co_unit, name, trigger, code, label)
    lead = directory.units.get(lead_unit_id)
    return part, {**(data or {}), "unit": lead.name if lead else None, "co_unit": part.unit, "co_unit_id": part.unit_id}


def resumed_data(app: App, before: DeadlineClock, after: DeadlineClock, now: datetime) -> dict[str, Any]:
    """The working days a suspension lasted and the deadline it moved: the event says so for good."""
    stopped = before.clock_stopped_at or now
    days = app.calendar.working_days_between(stopped.astimezone(app.tz).date(), now.astimezone(app.tz).date())
    return {
        "suspended_since": stopped.astimezone(app.tz).date().isoformat(),
        "suspended_working_days": days,
        "deadline_from": before.deadline.isoformat() if before.deadline else None,
        "deadline_to": after.deadline.isoformat() if after.deadline else None,
    }


def fire(
    app: App,
    actor_id: str | None,
    code: str,
    trigger: str,
    *,
    comment: str | None = None,
    if_version: int | None = None,
    progress: ProgressInput | None = None,
) -> FireResult:
    with refusals_recorded(app, actor_id, trigger, code[:64]):
        if progress is not None:
            progress = _check_progress(progress)
        comment = check_text(comment, "comment", max_len=4000, multiline=True) if comment is not None else None
        code = check_text(code, "task code", max_len=32)
        with app.uow(write=True) as uow:
            fired = fire_within(
                app, uow, actor_id, code, trigger, comment=comment, if_version=if_version, progress=progress
            )
            uow.commit()
    return FireResult(code=code, workflow=fired.task.workflow, outcome=fired.outcome, version=fired.seq)


def notify_event(
    app: App,
    uow: UnitOfWork,
    task_id: int,
    words: tuple[str, ...],
    key_base: str,
    now: datetime,
    note: str,
    *,
    co_units: tuple[int, ...] = (),
    co_unit: int | None = None,
) -> int:
    """Tell people of a step, in the step's own transaction (``co_units``/``co_unit``: see Directory.recipients)."""
    directory = cached_org(app, uow).directory
    about = uow.outbox.about(task_id)
    return write_notices(
        app, uow.outbox, directory, about, "event", 0, words, key_base, now, note, co_units=co_units, co_unit=co_unit
    )


PROGRESS_TRIGGER = "progress"


def report_progress(app: App, actor_id: str | None, code: str, progress: ProgressInput) -> FireResult:
    return fire(app, actor_id, code, PROGRESS_TRIGGER, comment=progress.note, progress=progress)


PRIORITIES = {"高": "高", "中": "中", "低": "低", "high": "高", "medium": "中", "low": "低"}


def _checked(new: NewTask) -> NewTask:
    """Free text from the user: no control characters, sizes every database accepts, one priority vocabulary."""
    priority = None
    if new.priority:
        priority = PRIORITIES.get(new.priority.strip().lower())
        if priority is None:
            raise InvalidInput(what="priority", detail=f"'{new.priority}' is not 高, 中 or 低 (high, medium, low)")
    return replace(
        new,
        unit=check_text(new.unit, "unit", max_len=200),
        leader=check_text(new.leader, "leader", max_len=200),
        category=check_text(new.category, "category", max_len=100) if new.category else None,
        campaign=check_text(new.campaign, "campaign", max_len=200) if new.campaign else None,
        problem=check_text(new.problem, "problem", max_len=4000, multiline=True) if new.problem else None,
        measures=[check_text(m, "measure", max_len=2000, multiline=True) for m in new.measures],
        co_units=[check_text(u, "co-unit", max_len=200) for u in new.co_units],
        responsible_person=check_text(new.responsible_person, "person", max_len=200)
        if new.responsible_person
        else None,
        priority=priority,
        fields={k: check_text(v, f"field {k}", max_len=500) for k, v in new.fields.items()},
        source=(check_text(new.source, "source", max_len=50) or None) if new.source else None,
        source_ref=(check_text(new.source_ref, "source ref", max_len=200) or None) if new.source_ref else None,
        instruction=(check_text(new.instruction, "instruction", max_len=32) or None) if new.instruction else None,
    )


@dataclass(frozen=True)
class TaskSource:
    """Where a new task comes from (立项), checked against the workflow's list and the instruction it cites."""

    name: str | None = None
    ref: str | None = None
    on: date | None = None
    instruction: str | None = None


def task_source(
    spec: WorkflowSpec, new: NewTask, instruction: InstructionRow | None, now: datetime, app: App
) -> TaskSource:
    today = now.astimezone(app.tz).date()
    name, ref, on = new.source, new.source_ref, new.source_date
    if instruction is not None:
        given = spec.instruction_source
        if given is None:
            raise InvalidInput(
                what="--instruction",
                detail=Bilingual(
                    f"流程 {spec.name} 的 sources 中没有标为 instruction: true 的来源，不能由领导批示立项",
                    f"workflow {spec.name} has no source marked 'instruction: true' in its sources",
                ),
            )
        if name and name != given.name:
            raise InvalidInput(
                what="--source",
                detail=Bilingual(
                    f"由领导批示 {instruction.code} 立项的任务来源是“{given.name}”，不是“{name}”",
                    f"a task turned from the instruction {instruction.code} comes from '{given.name}', not '{name}'",
                ),
            )
        name = given.name
        ref = ref or instruction.ref or instruction.code
        on = on or instruction.issued_on
    if name is None:
        if ref or on:
            raise InvalidInput(
                what="--source-ref / --source-date",
                detail=Bilingual("请同时用 --source 写明问题来源", "give the source itself with --source"),
            )
        return TaskSource()
    if spec.sources and name not in spec.sources:
        raise InvalidInput(
            what="--source",
            detail=Bilingual(
                f"“{name}”不是流程 {spec.name} 的问题来源（可选：{'、'.join(spec.sources)}）",
                f"'{name}' is not a source of workflow {spec.name} (sources: {', '.join(spec.sources)})",
            ),
        )
    if on is not None and on > today:
        raise InvalidInput(
            what="--source-date",
            detail=Bilingual(f"{on} 晚于今天（{today}）", f"{on} is after today ({today})"),
        )
    return TaskSource(name, ref, on, instruction.code if instruction else None)


def resolve_deadline(
    app: App, spec: WorkflowSpec, value: date | str | None, campaign: str | None, now: datetime
) -> Deadline | None:
    """A date, or an expression read against today, the campaign's year and the working-day calendar."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        return Deadline(value, value.isoformat())
    return parse_deadline(
        value,
        today=now.astimezone(app.tz).date(),
        calendar=app.calendar,
        at_once_working_days=spec.deadlines.at_once_working_days,
        year=campaign_year(campaign),
    )


def _check_progress(progress: ProgressInput) -> ProgressInput:
    if not 0 <= progress.percent <= 100:
        raise InvalidInput(
            what=Bilingual("进度", "percent"),
            detail=Bilingual(f"{progress.percent} 不在 0 到 100 之间", f"{progress.percent} is not between 0 and 100"),
        )
    note = check_text(progress.note, "note", max_len=4000, multiline=True)
    if not note:
        raise InvalidInput(
            what=Bilingual("进展说明", "note"),
            detail=Bilingual("报送进展须有说明（--note）", "a progress report needs a note (--note)"),
        )
    for path in progress.attachments:
        if not path.is_file():
            raise BadFile(path, Bilingual("要附上的文件不存在", "no such file to attach"))
    return ProgressInput(progress.percent, note, progress.attachments)


def _validate_fields(spec: WorkflowSpec, raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        fspec = spec.fields.get(key)
        if fspec is None:
            known = ", ".join(spec.fields) or "none"
            raise InvalidInput(
                what=Bilingual("字段", "field"),
                detail=Bilingual(
                    f"流程 {spec.name} 没有字段 '{key}'（现有：{known}）",
                    f"workflow {spec.name} has no field '{key}' (fields: {known})",
                ),
            )
        out[key] = _field_value(fspec, value)
    for key, fspec in spec.fields.items():
        if fspec.required and key not in out:
            raise InvalidInput(
                what=Bilingual("字段", "field"),
                detail=Bilingual(
                    f"流程 {spec.name} 须填 --field {key}=…（{fspec.label.zh}）",
                    f"workflow {spec.name} needs --field {key}=… ({fspec.label.en})",
                ),
            )
    return out


def _field_value(spec: FieldSpec, value: str) -> Any:
    value = value.strip()
    if spec.type == "int":
        try:
            number = int(value)
        except ValueError:
            raise InvalidInput(
                what=Bilingual(f"字段 {spec.key}", f"field {spec.key}"),
                detail=Bilingual(f"'{value}' 不是整数", f"'{value}' is not a whole number"),
            ) from None
        if spec.min is not None and number < spec.min or spec.max is not None and number > spec.max:
            raise InvalidInput(
                what=Bilingual(f"字段 {spec.key}", f"field {spec.key}"),
                detail=Bilingual(
                    f"{number} 超出范围 {spec.min}..{spec.max}", f"{number} is outside {spec.min}..{spec.max}"
                ),
            )
        return number
    if spec.type == "choices":
        picked = [v.strip() for v in value.replace("、", ",").replace("，", ",").split(",") if v.strip()]
        for v in picked:
            if v not in spec.choices:
                raise InvalidInput(
                    what=Bilingual(f"字段 {spec.key}", f"field {spec.key}"),
                    detail=Bilingual(
                        f"'{v}' 不在可选值 {'、'.join(spec.choices)} 之中",
                        f"'{v}' is not one of {'、'.join(spec.choices)}",
                    ),
                )
        return picked
    if not value:
        raise InvalidInput(
            what=Bilingual(f"字段 {spec.key}", f"field {spec.key}"), detail=Bilingual("不能为空", "is empty")
        )
    return value
