"""The read side: task lists and task details, as plain views for any front end."""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ..app import App
from ..domain.co_units import SIGNED, Part
from ..domain.errors import InvalidInput, UnknownPerson, UnknownTask, unknown_state
from ..domain.machine import TaskFacts, relations_of
from ..domain.planning import Standing
from ..domain.text import Bilingual
from ..domain.watch import task_standing, watched_sign_by
from ..domain.workflow import WorkflowSpec
from ..persistence.read.summary_row import SummaryRow
from .report_duties import DutyView, duty_views, ongoing_only, reporting_workflows
from .split_view import RollUp, SubTaskView, sub_task_views

if TYPE_CHECKING:  # the list's query module loads SQLAlchemy: ``show`` does not need it
    from ..persistence.read.task_list import TaskListQuery
    from ..persistence.uow import UnitOfWork


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
    co_units: tuple[str, ...] = ()  # 配合单位 (filled by list_page; other readers leave it empty)
    parent: str | None = None  # 分解: the code of the task it was split from (None: a top task)


class ListedSummary(NamedTuple):
    """``TaskSummary``'s fields as a tuple, in the order ``list --json`` gives them: what ``list --all`` builds
    for each of a million rows (a tuple costs a fraction of a frozen dataclass). Read it by the same names."""

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
    light: str | None
    days_overdue: int | None
    days_left: int | None
    closed_days_late: int | None
    escalation_level: int
    sign_by: date | None
    signed_at: datetime | None
    sign_late: bool
    source: str | None
    source_ref: str | None
    source_date: date | None
    instruction: str | None
    co_units: tuple[str, ...]
    parent: str | None


# Where each of ``TaskSummary``'s fields sits in ``ListedSummary`` (the two orders differ by one swap).
_AS_SUMMARY = tuple(ListedSummary._fields.index(f.name) for f in fields(TaskSummary))


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
    operator: str | None = None  # the person at the keyboard, when someone else than the actor
    operator_name: str | None = None
    substitution: str | None = None  # 代理: the operator stood in for the actor under this substitution


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
    co_parts: list[Part] = field(default_factory=list)  # 牵头/配合: each co-unit's part, by co-unit name
    co_days_late: dict[str, int] = field(default_factory=dict)  # working days a co-unit's report is (was) late
    sub_tasks: list[SubTaskView] = field(default_factory=list)  # 分解: its sub-tasks, in the order split
    roll_up: RollUp | None = None  # n of m sub-tasks closed, the latest notes; None: no sub-tasks
    unit_id: int | None = None  # the responsible unit's id (a proposal names the unit it moves the task from)


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
    top_only: bool = False  # 分解: only top tasks, not sub-tasks (duban list --top)


def _state_label(app: App, workflow: str, state: str | None) -> Bilingual:
    spec = app.registry.find(workflow)
    if spec is not None:
        return spec.state_label(state)
    return Bilingual(state or "—", state or "—")


class _StateFacts(NamedTuple):
    spec: WorkflowSpec | None
    label: Bilingual
    final: bool
    closes: bool  # a final state that counts as closed (销号): how late it closed is shown


class _Summaries:
    """Turns a listing's rows into summaries. Today, each state's facts and each deadline's light are worked
    out once per listing, not per row: a million tasks share a handful of states and a few hundred deadlines."""

    _CACHE = 100_000  # entries per cache before it starts afresh (a bound, not a working size)

    def __init__(self, app: App) -> None:
        self._app = app
        self.today = app.clock.now().astimezone(app.tz).date()
        self._states: dict[tuple[str, str], _StateFacts] = {}
        self._stands: dict[tuple[str, str, date | None], Standing | None] = {}
        self._late: dict[tuple[date, date], int] = {}

    def state(self, workflow: str, state: str) -> _StateFacts:
        found = self._states.get((workflow, state))
        if found is None:
            spec = self._app.registry.find(workflow)
            facts = spec.states.get(state) if spec else None
            final = bool(facts and facts.final)
            found = _StateFacts(
                spec,
                _state_label(self._app, workflow, state),
                final,
                bool(facts and final and facts.report == "closed"),
            )
            self._states[(workflow, state)] = found
        return found

    def standing(self, workflow: str, state: str, deadline: date | None) -> Standing | None:
        key = (workflow, state, deadline)
        if key in self._stands:
            return self._stands[key]
        spec = self.state(workflow, state).spec
        found = task_standing(spec, state, deadline, self.today, self._app.calendar) if spec else None
        if len(self._stands) >= self._CACHE:
            self._stands.clear()
        self._stands[key] = found
        return found

    def _closed_late(self, deadline: date, closed: date) -> int:
        late = self._late.get((deadline, closed))
        if late is None:
            late = self._app.calendar.working_days_between(deadline, closed)
            if len(self._late) >= self._CACHE:
                self._late.clear()
            self._late[(deadline, closed)] = late
        return late

    def of(self, row: SummaryRow, co_units: tuple[str, ...] = ()) -> TaskSummary:
        listed = self.listed(row, co_units)
        values: list[Any] = [listed[i] for i in _AS_SUMMARY]
        return TaskSummary(*values)  # by position: a dict per row cost more

    def listed(self, row: SummaryRow, co_units: tuple[str, ...] = ()) -> ListedSummary:
        (
            _id,
            code,
            title,
            workflow,
            state,
            leader,
            deadline,
            category,
            campaign,
            priority,
            version,
            updated_at,
            original_deadline,
            deadline_expr,
            escalation_level,
            closed_on,
            sign_by,
            signed_at,
            source,
            source_ref,
            source_date,
            instruction,
            _ongoing,
            unit_name,
            leader_name,
            parent,
        ) = row  # by position: a driver row's attributes cost more than the rest of the row's work
        facts = self.state(workflow, state)
        stand = self.standing(workflow, state, deadline)
        closed_late = None
        if facts.closes and deadline is not None:
            closed_late = self._closed_late(deadline, closed_on or updated_at.astimezone(self._app.tz).date())
        sign_late = bool(
            facts.spec is not None
            and sign_by is not None
            and self.today > sign_by
            and watched_sign_by(facts.spec, state, sign_by, signed_at) is not None
        )
        return ListedSummary(
            code,
            title,
            workflow,
            state,
            facts.label,
            unit_name,
            leader,
            leader_name,
            deadline,
            category,
            campaign,
            priority,
            version,
            updated_at,
            original_deadline,
            deadline_expr,
            stand.light if stand else None,
            None if facts.final else stand.days_overdue if stand else 0,
            None if facts.final else stand.days_left if stand else None,
            closed_late,
            escalation_level,
            sign_by,
            signed_at,
            sign_late,
            source,
            source_ref,
            source_date,
            instruction,
            co_units,
            parent,
        )

    def shown(self, row: SummaryRow, lights: tuple[str, ...]) -> bool:
        """The row passes the light filter (``--light``), decided before anything else is built for it."""
        if not lights:
            return True
        stand = self.standing(row[3], row[4], row[6])  # workflow, state, deadline
        return stand is not None and stand.light in lights


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


def summaries_of(app: App, rows: Iterable[SummaryRow]) -> list[TaskSummary]:
    """Rows a page read itself (the inbox's, on the driver) as the list's summaries, with lights and days left."""
    make = _Summaries(app)
    return [make.of(r) for r in rows]


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
    more = False
    stream = iter_tasks(app, flt, after=after, limit=limit + 1)
    try:
        for row in stream:
            if len(rows) == limit:
                more = True
                break
            rows.append(row)
    finally:
        stream.close()
    return ListPage(with_co_units(app, rows), more=more)


def with_co_units(app: App, rows: list[TaskSummary]) -> list[TaskSummary]:
    """The page's tasks with their co-units (配合单位), read in one query for the page."""
    if not rows:
        return rows
    with app.uow(write=False) as uow:
        ids = uow.co_units.ids_by_code(r.code for r in rows)
        parts = uow.co_units.parts_of(ids.values(), app.tz)
    return [replace(r, co_units=tuple(p.unit for p in parts.get(ids.get(r.code, -1), []))) for r in rows]


def _list_query(app: App, uow: UnitOfWork, flt: TaskFilter, *, after: str | None, limit: int | None) -> TaskListQuery:
    """The filter checked (an unknown state, light, workflow, unit or person is an error, not an empty list)
    and turned into the query."""
    if flt.states:
        known = {s for spec in app.registry.specs for s in spec.states}
        for s in flt.states:
            if s not in known:
                raise InvalidInput(what=Bilingual("状态", "state"), detail=unknown_state(s, known))
    for light in flt.lights:
        if light not in ("green", "yellow", "red"):
            raise InvalidInput(what="light", detail=f"'{light}' is not red, yellow or green")
    if flt.workflow:
        app.registry.machine(flt.workflow)
    from .org import resolve_unit  # here: the organisation's services are a list's, not a task page's

    unit_id = resolve_unit(uow.org, flt.unit) if flt.unit else None
    mine: tuple[int | None, str] | None = None
    if flt.mine_for:
        me = uow.tasks.actor(flt.mine_for)
        if me is None:
            raise UnknownPerson(person=flt.mine_for, near="")
        mine = (me.unit_id, me.id)
    viewer = None
    if flt.visible_to:
        viewer = uow.web.viewer(flt.visible_to)
        if viewer is None:
            raise UnknownPerson(person=flt.visible_to, near="")
    from ..persistence.read.task_list import TaskListQuery

    return TaskListQuery(
        states=flt.states,
        campaign=flt.campaign or None,
        workflow=flt.workflow or None,
        source=flt.source,
        without_source=flt.source == NO_SOURCE,
        instruction=flt.instruction,
        codes=flt.codes,
        unit_id=unit_id,
        mine=mine,
        viewer=viewer,
        after=after,
        limit=limit if limit is not None and not flt.lights else None,
        top_only=flt.top_only,
    )


def iter_tasks(
    app: App, flt: TaskFilter, *, after: str | None = None, limit: int | None = None, scan: bool = False
) -> Generator[TaskSummary, None, None]:
    """The matching tasks one by one, in code order, read in batches: memory stays flat at any size.

    ``limit``: the caller stops after so many; the query reads no further (unless a light filters, which is
    decided here, row by row). ``scan``: a pass over the whole ledger (``list --all``), read unmapped so the
    process's memory does not grow with the file."""
    with app.uow(write=False) as uow, uow.task_reads.unmapped() if scan else nullcontext():
        q = _list_query(app, uow, flt, after=after, limit=limit)
        make = _Summaries(app)
        batch = 1000 if limit is None else max(1, min(limit, 1000))
        for r in uow.task_reads.summaries(q, batch=batch):
            if make.shown(r, flt.lights):
                yield make.of(r)


def iter_listed(
    app: App, flt: TaskFilter, *, after: str | None = None, batch: int = 1000
) -> Generator[tuple[ListedSummary, DutyView | None], None, None]:
    """Every matching task with its co-units (配合单位) and its periodic reports (定期填报), in code order: what
    ``list --all --json`` streams, at flat memory over any ledger.

    One read transaction. Each batch of rows costs one query for its co-units and, only for tasks that may owe
    periodic reports (a reporting workflow's, and its 长期坚持 tasks where it asks only those), one for the duties."""
    reporting = {s.name for s in reporting_workflows(app)}
    ongoing = ongoing_only(app)
    with app.uow(write=False) as uow, uow.task_reads.unmapped():
        q = _list_query(app, uow, flt, after=after, limit=None)
        make = _Summaries(app)
        rows = uow.task_reads.summaries(q, batch=batch)
        while read := list(itertools.islice(rows, batch)):
            chunk = [r for r in read if make.shown(r, flt.lights)] if flt.lights else read
            co = uow.task_reads.co_unit_names([r[0] for r in chunk]) if chunk else {}
            # (code, workflow, ongoing): SummaryRow's 1, 3 and 22
            owing = [r[1] for r in chunk if r[3] in reporting and (r[22] or r[3] not in ongoing)]
            duties = duty_views(app, uow, owing) if owing else {}
            for r in chunk:
                summary = make.listed(r, tuple(co.get(r[0], ())))
                yield summary, duties.get(summary.code)


def show_task(app: App, code: str, viewer: str | None = None) -> TaskDetail:
    with app.uow(write=False) as uow:
        found = uow.task_page.page(code)
        if found is None:
            raise UnknownTask(code=code)
        task, names = found.task, found.names
        spec = app.registry.find(task.workflow)
        stood_in = uow.task_page.on_behalf(app.tz, [(e.actor_id, e.operator_id, e.at) for e in found.events])
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
                e.operator_id if e.operator_id != e.actor_id else None,
                names.get(e.operator_id, e.operator_id) if e.operator_id and e.operator_id != e.actor_id else None,
                substitution,
            )
            for e, substitution in zip(found.events, stood_in, strict=True)
        ]
        progress = [
            ProgressView(
                r.percent,
                r.note,
                r.actor_id,
                names.get(r.actor_id, r.actor_id),
                r.at,
                [EvidenceView(f.original_name, f.sha256, f.size) for f in found.files.get(r.id, [])],
            )
            for r in found.reports
        ]
        parts = uow.task_page.parts(task.id, app.tz)
        allowed: list[str] = []
        if viewer:
            actor = uow.tasks.actor(viewer)
            if actor is None:
                raise UnknownPerson(person=viewer, near="")
            if spec is not None:
                head = uow.task_page.unit_head(task.unit_id)
                facts = TaskFacts(
                    task.code,
                    task.state,
                    task.unit_id,
                    head,
                    task.lead_leader_id,
                    task.responsible_person_id,
                    frozenset(p.unit_id for p in parts),
                )
                allowed = app.registry.machine(task.workflow).allowed_for(facts, actor)
                # a request is asked for when none is pending, and decided only when one is
                hidden = (
                    {"grant_extension", "deny_extension"}
                    if not uow.task_page.extension_pending(task.id)
                    else {"extend"}
                )
                # a transfer is consented to or declined only while one is proposed
                moves = uow.tasks.steps_of(task.id, ("propose_transfer", "transfer", "decline_transfer"))
                if not moves or moves[-1][0] != "propose_transfer":
                    hidden |= {"transfer", "decline_transfer"}
                else:
                    hidden |= {"propose_transfer"}  # one proposal at a time
                # a unit returns a task once: after the lead leader insists, it does the work
                if "return" in allowed and any(
                    (d or {}).get("unit_id") == task.unit_id for _t, d in uow.tasks.steps_of(task.id, ("return",))
                ):
                    hidden.add("return")
                # 复核 is someone else's than the unit's whose work it checks
                if "responsible_unit" in relations_of(actor, facts):
                    hidden |= {t.trigger for t in spec.transitions if "independent" in t.requires}
                # a part is signed for once and reported or waived once
                mine = next((p for p in parts if p.unit_id == actor.unit_id), None)
                if mine is None or mine.settled:
                    hidden |= {"co_sign", "co_report"}
                elif mine.state == SIGNED:
                    hidden.add("co_sign")
                if all(p.settled for p in parts):
                    hidden.add("co_waive")
                if found.parent is None:
                    hidden |= {"close_out"}  # 核销 is for sub-tasks only
                allowed = [t for t in allowed if t not in hidden]
        sub_tasks, roll_up = sub_task_views(app, uow, task.id)
    return TaskDetail(
        summary=_Summaries(app).of(SummaryRow.of_task(task, found.unit_name, found.leader_name, found.parent)),
        problem=task.problem,
        measures=list(task.measures),
        co_units=found.co_units,
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
        co_parts=parts,
        co_days_late={p.unit: p.days_late(app.clock.now().astimezone(app.tz).date(), app.calendar) for p in parts},
        sub_tasks=sub_tasks,
        roll_up=roll_up,
        unit_id=task.unit_id,
    )
