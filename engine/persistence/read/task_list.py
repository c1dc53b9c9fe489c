"""The task list's and the task page's queries: the rows ``services.queries`` turns into views.

A list over a million tasks reads only the columns it shows (``load_only``), in batches (``yield_per``),
and lets each task go once it is shown, so memory stays flat; the task page reads one task with its
events, progress reports and evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, Select, or_, select
from sqlalchemy.orm import Session, aliased, load_only

from ...domain.visibility import Viewer
from ..models import Event, EvidenceFile, ExtensionRequest, Person, ProgressReport, Task, TaskCoUnit, Unit
from ..web_store import visible_clause

_Leader = aliased(Person)
_Parent = aliased(Task)


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


@dataclass(frozen=True)
class TaskListQuery:
    """Which tasks a list holds, in code order; every name already checked by the service."""

    states: tuple[str, ...] = ()
    campaign: str | None = None
    workflow: str | None = None
    source: str | None = None
    without_source: bool = False  # tasks that cite no source (``source`` is then ignored)
    instruction: str | None = None
    codes: tuple[str, ...] = ()
    unit_id: int | None = None
    mine: tuple[int | None, str] | None = (
        None  # (unit id, person id): their unit's tasks, and those they lead or answer for
    )
    viewer: Viewer | None = None  # only what this person may see
    after: str | None = None  # codes after this one
    limit: int | None = None
    top_only: bool = False  # 分解: only top tasks, not sub-tasks


class SummaryRow(NamedTuple):
    task: Task  # only the columns of ``_SHOWN`` are loaded on a list
    unit_name: str
    leader_name: str | None
    parent: str | None = None  # 分解: the code of the task it was split from


@dataclass(frozen=True)
class TaskPageRows:
    """One task as its page shows it: the task, its co-units, events, progress and evidence by report id."""

    task: Task
    unit_name: str
    leader_name: str | None
    names: dict[str, str]  # every person's name by id, for the actors shown
    co_units: list[str]
    events: list[Event]
    reports: list[ProgressReport]
    files: dict[int, list[EvidenceFile]]
    parent: str | None = None  # 分解: the code of the task it was split from


def _summary_query(*, shown_only: bool = False) -> Select[Task, str, str, str]:
    query = (
        select(Task, Unit.name.label("unit_name"), _Leader.name.label("leader_name"), _Parent.code.label("parent"))
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(_Leader, _Leader.id == Task.lead_leader_id)
        .outerjoin(_Parent, _Parent.id == Task.parent_id)
    )
    return query.options(load_only(*_SHOWN, raiseload=True)) if shown_only else query


class TaskReads:
    """The list and task page queries on one unit of work's connection (the ORM session is the unit's own)."""

    def __init__(self, conn: Connection, session: Callable[[], Session]) -> None:
        self._conn = conn
        self._session = session

    def summaries(self, q: TaskListQuery, *, batch: int) -> Generator[SummaryRow, None, None]:
        """The matching tasks in code order, ``batch`` at a time; each is let go once the caller has it."""
        query = _summary_query(shown_only=True)
        if q.states:
            query = query.where(Task.state.in_(q.states))
        if q.campaign:
            query = query.where(Task.campaign == q.campaign)
        if q.workflow:
            query = query.where(Task.workflow == q.workflow)
        if q.without_source:
            query = query.where(Task.source.is_(None))
        elif q.source is not None:
            query = query.where(Task.source == q.source)
        if q.instruction is not None:
            query = query.where(Task.instruction == q.instruction)
        if q.top_only:
            query = query.where(Task.parent_id.is_(None))
        if q.after is not None:
            query = query.where(Task.code > q.after)
        if q.codes:
            query = query.where(Task.code.in_(q.codes))
        if q.unit_id is not None:
            query = query.where(Task.unit_id == q.unit_id)
        if q.mine is not None:
            unit_id, person_id = q.mine
            query = query.where(
                or_(Task.unit_id == unit_id, Task.lead_leader_id == person_id, Task.responsible_person_id == person_id)
            )
        if q.viewer is not None:
            query = query.where(visible_clause(q.viewer))
        query = query.order_by(Task.code)
        if q.limit is not None:
            query = query.limit(q.limit)
        session = self._session()
        for r in session.execute(query.execution_options(yield_per=batch)):
            yield SummaryRow(r[0], r.unit_name, r.leader_name, r.parent)
            session.expunge(r[0])

    def page(self, code: str) -> TaskPageRows | None:
        session = self._session()
        row = session.execute(_summary_query().where(Task.code == code)).first()
        if row is None:
            return None
        task: Task = row[0]
        names: dict[str, str] = {pid: name for pid, name in self._conn.execute(select(Person.id, Person.name))}
        co_units = list(
            self._conn.execute(
                select(Unit.name).join(TaskCoUnit, TaskCoUnit.unit_id == Unit.id).where(TaskCoUnit.task_id == task.id)
            ).scalars()
        )
        events = list(session.execute(select(Event).where(Event.task_id == task.id).order_by(Event.seq)).scalars())
        reports = list(
            session.execute(
                select(ProgressReport).where(ProgressReport.task_id == task.id).order_by(ProgressReport.id)
            ).scalars()
        )
        files: dict[int, list[EvidenceFile]] = {}
        if reports:
            for f in session.execute(
                select(EvidenceFile)
                .where(EvidenceFile.report_id.in_([r.id for r in reports]))
                .order_by(EvidenceFile.id)
            ).scalars():
                files.setdefault(f.report_id, []).append(f)
        return TaskPageRows(task, row.unit_name, row.leader_name, names, co_units, events, reports, files, row.parent)

    def unit_head(self, unit_id: int) -> str | None:
        head = self._conn.execute(select(Unit.head_id).where(Unit.id == unit_id)).scalar()
        return None if head is None else str(head)

    def extension_pending(self, task_id: int) -> bool:
        found = self._conn.execute(
            select(ExtensionRequest.id).where(ExtensionRequest.task_id == task_id, ExtensionRequest.status == "pending")
        ).first()
        return found is not None
