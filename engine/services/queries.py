"""The read side: task lists and task details, as plain views for any front end."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased, load_only

from ..app import App
from ..domain.errors import InvalidInput, UnknownPerson, UnknownTask, unknown_state
from ..domain.machine import TaskFacts
from ..domain.text import Bilingual
from ..domain.watch import task_standing, watched_sign_by
from ..persistence.models import Event, EvidenceFile, ExtensionRequest, Person, ProgressReport, Task, TaskCoUnit, Unit
from ..persistence.web_store import WebStore, visible_clause
from .org import resolve_unit


@dataclass(frozen=True)
class TaskSummary:
    code: str
    title: str
    workflow: str
    state: str
    state_label: Bilingual
    unit: str
    leader: str | None
    leader_name: str | None
    deadline: date | None
    category: str | None
    campaign: str | None
    priority: str | None
    version: int
    updated_at: datetime
    original_deadline: date | None
    deadline_expr: str | None
    light: str | None  # green, yellow, red; None where the clock does not run
    days_overdue: int | None  # None once the task is in a final state: it is no longer overdue
    days_left: int | None
    escalation_level: int
    # Working days past the deadline in force on the day a closed task was closed (0: on time); None for
    # tasks not closed, cancelled ones, and tasks without a deadline.
    closed_days_late: int | None = None
    sign_by: date | None = None  # 签收时限
    signed_at: datetime | None = None  # 签收时间
    sign_late: bool = False  # still not signed for after its sign-for day (超时未签收)
    source: str | None = None  # 问题来源 (立项)
    source_ref: str | None = None
    source_date: date | None = None
    instruction: str | None = None  # the 领导批示 it was turned from


@dataclass(frozen=True)
class EventView:
    seq: int
    trigger: str
    trigger_label: Bilingual
    source: str | None
    dest: str
    source_label: Bilingual
    dest_label: Bilingual
    actor: str
    actor_name: str
    at: datetime
    comment: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class EvidenceView:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ProgressView:
    percent: int
    note: str
    actor: str
    actor_name: str
    at: datetime
    evidence: list[EvidenceView]


@dataclass(frozen=True)
class TaskDetail:
    summary: TaskSummary
    problem: str | None
    measures: list[str]
    co_units: list[str]
    responsible_person: str | None
    responsible_person_name: str | None
    fields: dict[str, Any]
    created_at: datetime
    events: list[EventView]
    progress: list[ProgressView]
    workflow_label: Bilingual
    field_labels: dict[str, Bilingual]
    allowed: list[str] = field(default_factory=list)
    target: str | None = None  # 整改目标 / 销号标准
    assigned_on: date | None = None  # 交办日期
    closed_on: date | None = None  # 销号日期 as an imported ledger gave it
    ledger_columns: list[Any] = field(default_factory=list)  # an imported ledger's other columns: [header, value]


@dataclass(frozen=True)
class TaskFilter:
    states: tuple[str, ...] = ()
    unit: str | None = None
    campaign: str | None = None
    workflow: str | None = None
    mine_for: str | None = None  # a person id: their unit's tasks and those they lead or answer for
    lights: tuple[str, ...] = ()  # green, yellow, red
    visible_to: str | None = None  # a person id: only what they may see (engine.domain.visibility)
    codes: tuple[str, ...] = ()  # only these tasks (a page's worth: the inbox's summaries)
    source: str | None = None  # 问题来源; NO_SOURCE: tasks that cite none
    instruction: str | None = None  # tasks turned from this leader's instruction


_Leader = aliased(Person)


# The task columns a list shows: a list over a million tasks reads these, not measures, problems or fields.
_SHOWN = (
    Task.id,
    Task.code,
    Task.title,
    Task.workflow,
    Task.state,
    Task.lead_leader_id,
    Task.deadline,
    Task.category,
    Task.campaign,
    Task.priority,
    Task.version,
    Task.updated_at,
    Task.original_deadline,
    Task.deadline_expr,
    Task.escalation_level,
    Task.closed_on,
    Task.sign_by,
    Task.signed_at,
    Task.source,
    Task.source_ref,
    Task.source_date,
    Task.instruction,
)


def _summary_query(*, shown_only: bool = False) -> Select[Task, str, str]:
    query = (
        select(Task, Unit.name.label("unit_name"), _Leader.name.label("leader_name"))
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(_Leader, _Leader.id == Task.lead_leader_id)
    )
    return query.options(load_only(*_SHOWN, raiseload=True)) if shown_only else query


def _state_label(app: App, workflow: str, state: str | None) -> Bilingual:
    spec = app.registry.find(workflow)
    if spec is not None:
        return spec.state_label(state)
    return Bilingual(state or "—", state or "—")


def _summary(app: App, task: Task, unit_name: str, leader_name: str | None) -> TaskSummary:
    spec = app.registry.find(task.workflow)
    today = app.clock.now().astimezone(app.tz).date()
    stand = task_standing(spec, task.state, task.deadline, today, app.calendar) if spec else None
    state = spec.states.get(task.state) if spec else None
    final = bool(state and state.final)
    closed_late = None
    if state is not None and final and state.report == "closed" and task.deadline is not None:
        closed = task.closed_on or task.updated_at.astimezone(app.tz).date()
        closed_late = app.calendar.working_days_between(task.deadline, closed)
    return TaskSummary(
        code=task.code,
        title=task.title,
        workflow=task.workflow,
        state=task.state,
        state_label=_state_label(app, task.workflow, task.state),
        unit=unit_name,
        leader=task.lead_leader_id,
        leader_name=leader_name,
        deadline=task.deadline,
        category=task.category,
        campaign=task.campaign,
        priority=task.priority,
        version=task.version,
        updated_at=task.updated_at,
        original_deadline=task.original_deadline,
        deadline_expr=task.deadline_expr,
        light=stand.light if stand else None,
        days_overdue=None if final else stand.days_overdue if stand else 0,
        days_left=None if final else stand.days_left if stand else None,
        escalation_level=task.escalation_level,
        closed_days_late=closed_late,
        sign_by=task.sign_by,
        signed_at=task.signed_at,
        sign_late=bool(
            spec is not None
            and watched_sign_by(spec, task.state, task.sign_by, task.signed_at) is not None
            and task.sign_by is not None
            and today > task.sign_by
        ),
        source=task.source,
        source_ref=task.source_ref,
        source_date=task.source_date,
        instruction=task.instruction,
    )


NO_SOURCE = "-"  # `--source -`: tasks that cite no source
LIST_PAGE = 50  # `duban list` shows this many unless told otherwise


@dataclass(frozen=True)
class ListPage:
    """One page of a list, in code order, and whether more follow (``after`` the last code shown)."""

    rows: list[TaskSummary]
    more: bool

    @property
    def next_after(self) -> str | None:
        return self.rows[-1].code if self.more and self.rows else None


def list_tasks(app: App, flt: TaskFilter) -> list[TaskSummary]:
    """Every matching task: for callers that need them all at once (small organisations' pages, tests)."""
    return list(iter_tasks(app, flt))


def list_page(app: App, flt: TaskFilter, *, limit: int = LIST_PAGE, after: str | None = None) -> ListPage:
    """A bounded page: the first ``limit`` matches after the code ``after``; at any ledger size it reads only
    as far as it shows (keyset on the unique code, never OFFSET)."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput(
            what="--limit", detail=Bilingual(f"{limit} 不在 1 到 10000 之间", f"{limit} is not between 1 and 10000")
        )
    rows: list[TaskSummary] = []
    stream = iter_tasks(app, flt, after=after, limit=limit + 1)
    try:
        for row in stream:
            if len(rows) == limit:
                return ListPage(rows, more=True)
            rows.append(row)
    finally:
        stream.close()
    return ListPage(rows, more=False)


def iter_tasks(  # noqa: C901 - to cut once its SQL has moved to persistence
    app: App, flt: TaskFilter, *, after: str | None = None, limit: int | None = None
) -> Generator[TaskSummary, None, None]:
    """The matching tasks one by one, in code order, read in batches: memory stays flat at any size.

    ``limit``: the caller stops after so many; the query reads no further (unless a light filters, which is
    decided here, row by row)."""
    query = _summary_query(shown_only=True)
    if flt.states:
        known = {s for spec in app.registry.specs for s in spec.states}
        for s in flt.states:
            if s not in known:
                raise InvalidInput(what=Bilingual("状态", "state"), detail=unknown_state(s, known))
        query = query.where(Task.state.in_(flt.states))
    for light in flt.lights:
        if light not in ("green", "yellow", "red"):
            raise InvalidInput(what="light", detail=f"'{light}' is not red, yellow or green")
    if flt.campaign:
        query = query.where(Task.campaign == flt.campaign)
    if flt.workflow:
        app.registry.machine(flt.workflow)  # an unknown name is an error, not an empty list
        query = query.where(Task.workflow == flt.workflow)
    if flt.source is not None:
        query = query.where(Task.source.is_(None) if flt.source == NO_SOURCE else Task.source == flt.source)
    if flt.instruction is not None:
        query = query.where(Task.instruction == flt.instruction)
    if after is not None:
        query = query.where(Task.code > after)
    if flt.codes:
        query = query.where(Task.code.in_(flt.codes))
    with app.uow(write=False) as uow:
        if flt.unit:
            query = query.where(Task.unit_id == resolve_unit(uow.org, flt.unit))
        if flt.mine_for:
            me = uow.tasks.actor(flt.mine_for)
            if me is None:
                raise UnknownPerson(person=flt.mine_for, near="")
            query = query.where(
                or_(Task.unit_id == me.unit_id, Task.lead_leader_id == me.id, Task.responsible_person_id == me.id)
            )
        if flt.visible_to:
            viewer = WebStore(uow.conn).viewer(flt.visible_to)
            if viewer is None:
                raise UnknownPerson(person=flt.visible_to, near="")
            query = query.where(visible_clause(viewer))
        query = query.order_by(Task.code)
        if limit is not None and not flt.lights:
            query = query.limit(limit)
        batch = 1000 if limit is None else max(1, min(limit, 1000))
        result = uow.session.execute(query.execution_options(yield_per=batch))
        for r in result:
            summary = _summary(app, r[0], r.unit_name, r.leader_name)
            if not flt.lights or summary.light in flt.lights:
                yield summary
            uow.session.expunge(r[0])


def show_task(app: App, code: str, viewer: str | None = None) -> TaskDetail:
    with app.uow(write=False) as uow:
        row = uow.session.execute(_summary_query().where(Task.code == code)).first()
        if row is None:
            raise UnknownTask(code=code)
        task: Task = row[0]
        spec = app.registry.find(task.workflow)
        names: dict[str, str] = {pid: name for pid, name in uow.conn.execute(select(Person.id, Person.name))}
        co_units = list(
            uow.conn.execute(
                select(Unit.name).join(TaskCoUnit, TaskCoUnit.unit_id == Unit.id).where(TaskCoUnit.task_id == task.id)
            ).scalars()
        )
        events = [
            EventView(
                e.seq,
                e.trigger,
                spec.trigger_label(e.trigger) if spec else Bilingual(e.trigger, e.trigger),
                e.from_state,
                e.to_state,
                _state_label(app, task.workflow, e.from_state),
                _state_label(app, task.workflow, e.to_state),
                e.actor_id,
                names.get(e.actor_id, e.actor_id),
                e.at,
                e.comment,
                e.data,
            )
            for e in uow.session.execute(select(Event).where(Event.task_id == task.id).order_by(Event.seq)).scalars()
        ]
        reports = (
            uow.session.execute(
                select(ProgressReport).where(ProgressReport.task_id == task.id).order_by(ProgressReport.id)
            )
            .scalars()
            .all()
        )
        files: dict[int, list[EvidenceView]] = {}
        if reports:
            for f in uow.session.execute(
                select(EvidenceFile)
                .where(EvidenceFile.report_id.in_([r.id for r in reports]))
                .order_by(EvidenceFile.id)
            ).scalars():
                files.setdefault(f.report_id, []).append(EvidenceView(f.original_name, f.sha256, f.size))
        progress = [
            ProgressView(r.percent, r.note, r.actor_id, names.get(r.actor_id, r.actor_id), r.at, files.get(r.id, []))
            for r in reports
        ]
        allowed: list[str] = []
        if viewer:
            actor = uow.tasks.actor(viewer)
            if actor is None:
                raise UnknownPerson(person=viewer, near="")
            if spec is not None:
                head = uow.conn.execute(select(Unit.head_id).where(Unit.id == task.unit_id)).scalar()
                facts = TaskFacts(
                    task.code, task.state, task.unit_id, head, task.lead_leader_id, task.responsible_person_id
                )
                allowed = app.registry.machine(task.workflow).allowed_for(facts, actor)
                pending = uow.conn.execute(
                    select(ExtensionRequest.id).where(
                        ExtensionRequest.task_id == task.id, ExtensionRequest.status == "pending"
                    )
                ).first()
                # a request is asked for when none is pending, and decided only when one is
                hidden = {"grant_extension", "deny_extension"} if pending is None else {"extend"}
                # a transfer is consented to or declined only while one is proposed
                moves = uow.tasks.steps_of(task.id, ("propose_transfer", "transfer", "decline_transfer"))
                if not moves or moves[-1][0] != "propose_transfer":
                    hidden |= {"transfer", "decline_transfer"}
                allowed = [t for t in allowed if t not in hidden]
    return TaskDetail(
        summary=_summary(app, task, row.unit_name, row.leader_name),
        problem=task.problem,
        measures=list(task.measures),
        co_units=co_units,
        responsible_person=task.responsible_person_id,
        responsible_person_name=names.get(task.responsible_person_id) if task.responsible_person_id else None,
        fields=dict(task.fields),
        created_at=task.created_at,
        events=events,
        progress=progress,
        workflow_label=spec.label if spec else Bilingual(task.workflow, task.workflow),
        field_labels={k: f.label for k, f in spec.fields.items()} if spec else {},
        allowed=allowed,
        target=task.target,
        assigned_on=task.assigned_on,
        closed_on=task.closed_on,
        ledger_columns=list(task.ledger_columns or []),
    )
