"""The task page's queries (``duban show``, the web's task page) on the driver connection: no SQLAlchemy.

The rows are named tuples, not dataclasses: defining a class costs an eighth of a frozen dataclass's at import.

``show`` is a command people run all day; its whole process should cost a few interpreter start-ups, and
importing SQLAlchemy and mapping the ORM models alone cost several. The rows come back in the shapes the
services read (attribute names as the ORM models have them), decoded by the same storage rules (``codec``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any, NamedTuple

from ...domain.cadence import Step
from ...domain.co_units import Part
from ...domain.substitution import Substitution
from ..codec import decode_date, decode_instant, decode_json, encode_instant
from ..outbox import SUBSTITUTIONS_SELECT, substitutions_where
from ..repository import PARTS_SELECT, part_from_row
from ..sql import DriverStatements


class TaskRecord(NamedTuple):
    """A task row as the page shows it."""

    id: int
    code: str
    workflow: str
    title: str
    problem: str | None
    measures: list[str]
    category: str | None
    campaign: str | None
    unit_id: int
    responsible_person_id: str | None
    lead_leader_id: str | None
    deadline: date | None
    original_deadline: date | None
    deadline_expr: str | None
    ongoing: bool
    escalation_level: int
    priority: str | None
    fields: dict[str, Any]
    state: str
    version: int
    created_at: datetime
    updated_at: datetime
    target: str | None
    ledger_columns: list[Any] | None
    assigned_on: date | None
    closed_on: date | None
    sign_by: date | None
    signed_at: datetime | None
    source: str | None
    source_ref: str | None
    source_date: date | None
    instruction: str | None


_TASK_COLUMNS = (
    "t.id, t.code, t.workflow, t.title, t.problem, t.measures, t.category, t.campaign, t.unit_id, "
    "t.responsible_person_id, t.lead_leader_id, t.deadline, t.original_deadline, t.deadline_expr, t.ongoing, "
    "t.escalation_level, t.priority, t.fields, t.state, t.version, t.created_at, t.updated_at, t.target, "
    "t.ledger_columns, t.assigned_on, t.closed_on, t.sign_by, t.signed_at, t.source, t.source_ref, "
    "t.source_date, t.instruction"
)


def _instant(value: Any) -> datetime | None:
    return None if value is None else decode_instant(value)


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return decode_date(value)


def _task(r: Sequence[Any]) -> TaskRecord:
    return TaskRecord(
        id=r[0],
        code=r[1],
        workflow=r[2],
        title=r[3],
        problem=r[4],
        measures=decode_json(r[5]) or [],
        category=r[6],
        campaign=r[7],
        unit_id=r[8],
        responsible_person_id=r[9],
        lead_leader_id=r[10],
        deadline=_day(r[11]),
        original_deadline=_day(r[12]),
        deadline_expr=r[13],
        ongoing=bool(r[14]),
        escalation_level=r[15],
        priority=r[16],
        fields=decode_json(r[17]) or {},
        state=r[18],
        version=r[19],
        created_at=decode_instant(r[20]),
        updated_at=decode_instant(r[21]),
        target=r[22],
        ledger_columns=decode_json(r[23]),
        assigned_on=_day(r[24]),
        closed_on=_day(r[25]),
        sign_by=_day(r[26]),
        signed_at=_instant(r[27]),
        source=r[28],
        source_ref=r[29],
        source_date=_day(r[30]),
        instruction=r[31],
    )


class EventRecord(NamedTuple):
    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: str
    operator_id: str | None
    at: datetime
    comment: str | None
    data: Any


class ReportRecord(NamedTuple):
    id: int
    percent: int
    note: str
    actor_id: str
    at: datetime


class FileRecord(NamedTuple):
    report_id: int
    original_name: str
    sha256: str
    size: int


class SubTaskRecord(NamedTuple):
    """A sub-task as its parent's roll-up shows it, with its latest progress note."""

    code: str
    title: str
    workflow: str
    state: str
    unit: str
    deadline: date | None
    note: str | None
    percent: int | None
    noted_at: datetime | None


class TaskPage(NamedTuple):
    """One task as its page shows it: the task, its co-units, events, progress and evidence by report id."""

    task: TaskRecord
    unit_name: str
    leader_name: str | None
    names: dict[str, str]  # every person's name by id, for the actors shown
    co_units: list[str]
    events: list[EventRecord]
    reports: list[ReportRecord]
    files: dict[int, list[FileRecord]]
    parent: str | None = None  # 分解: the code of the task it was split from


class DutyRow(NamedTuple):
    """A task's periodic-report facts (as ``read.report_duties.DutySource``): its steps up to an instant."""

    task_id: int
    code: str
    workflow: str
    campaign: str | None
    ongoing: bool
    unit_id: int
    steps: tuple[Step, ...]


class TaskPageReads(DriverStatements):
    """The task page's queries on the unit of work's driver connection (``uow.task_page``)."""

    def _all(self, statement: str, params: dict[str, Any]) -> list[Any]:
        cur = self._run(statement, params)
        rows = cur.fetchall()
        cur.close()
        return rows

    def page(self, code: str) -> TaskPage | None:
        found = self._all(
            f"SELECT {_TASK_COLUMNS}, u.name, l.name, p.code FROM tasks t JOIN units u ON u.id = t.unit_id "
            "LEFT OUTER JOIN people l ON l.id = t.lead_leader_id LEFT OUTER JOIN tasks p ON p.id = t.parent_id "
            "WHERE t.code = :code",
            {"code": code},
        )
        if not found:
            return None
        row = found[0]
        task = _task(row)
        names = {pid: name for pid, name in self._all("SELECT id, name FROM people", {})}
        co_units = [
            r[0]
            for r in self._all(
                "SELECT u.name FROM units u JOIN task_co_units c ON c.unit_id = u.id WHERE c.task_id = :t",
                {"t": task.id},
            )
        ]
        events = [
            EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], decode_instant(r[6]), r[7], decode_json(r[8]))
            for r in self._all(
                "SELECT seq, trigger, from_state, to_state, actor_id, operator_id, at, comment, data FROM events "
                "WHERE task_id = :t ORDER BY seq",
                {"t": task.id},
            )
        ]
        reports = [
            ReportRecord(r[0], r[1], r[2], r[3], decode_instant(r[4]))
            for r in self._all(
                "SELECT id, percent, note, actor_id, at FROM progress_reports WHERE task_id = :t ORDER BY id",
                {"t": task.id},
            )
        ]
        files: dict[int, list[FileRecord]] = {}
        if reports:
            for r in self._all(
                "SELECT f.report_id, f.original_name, f.sha256, f.size FROM evidence_files f "
                "JOIN progress_reports r ON r.id = f.report_id WHERE r.task_id = :t ORDER BY f.id",
                {"t": task.id},
            ):
                files.setdefault(r[0], []).append(FileRecord(r[0], r[1], r[2], r[3]))
        return TaskPage(task, row[32], row[33], names, co_units, events, reports, files, row[34])

    def unit_head(self, unit_id: int) -> str | None:
        found = self._all("SELECT head_id FROM units WHERE id = :u", {"u": unit_id})
        return None if not found or found[0][0] is None else str(found[0][0])

    def extension_pending(self, task_id: int) -> bool:
        return bool(
            self._all(
                "SELECT id FROM extension_requests WHERE task_id = :t AND status = 'pending' LIMIT 1", {"t": task_id}
            )
        )

    def parts(self, task_id: int, tz: tzinfo) -> list[Part]:
        """牵头/配合: the task's co-units' parts, by co-unit name (the firing path's ``TaskRepository.parts``)."""
        return [part_from_row(r, tz) for r in self._all(PARTS_SELECT, {"t": task_id})]

    def children(self, task_id: int) -> list[SubTaskRecord]:
        """分解: every sub-task with its unit, state, deadline and latest progress note."""
        rows = self._all(
            "SELECT t.code, t.title, t.workflow, t.state, u.name, t.deadline, r.note, r.percent, r.at "
            "FROM tasks t JOIN units u ON u.id = t.unit_id "
            "LEFT OUTER JOIN (SELECT p.task_id AS task_id, MAX(p.id) AS id FROM progress_reports p "
            "JOIN tasks c ON c.id = p.task_id WHERE c.parent_id = :t GROUP BY p.task_id) latest "
            "ON latest.task_id = t.id LEFT OUTER JOIN progress_reports r ON r.id = latest.id "
            "WHERE t.parent_id = :t ORDER BY t.id",
            {"t": task_id},
        )
        return [SubTaskRecord(r[0], r[1], r[2], r[3], r[4], _day(r[5]), r[6], r[7], _instant(r[8])) for r in rows]

    def on_behalf(self, tz: tzinfo, events: list[tuple[str, str | None, datetime]]) -> list[str | None]:
        """For each event's (actor, operator, at): the substitution's code when the operator stood in for the
        actor then, as the range and its approval and cancellation instants say."""
        by_absent: dict[str, list[Substitution]] = {}
        out: list[str | None] = []
        for actor, operator, at in events:
            code = None
            if operator is not None and operator != actor:
                if actor not in by_absent:
                    by_absent[actor] = substitutions_where(
                        self, SUBSTITUTIONS_SELECT + "WHERE absent_id = :a", {"a": actor}
                    )
                day = at.astimezone(tz).date()
                code = next(
                    (s.code for s in by_absent[actor] if s.substitute_id == operator and s.in_force(at, day)), None
                )
            out.append(code)
        return out

    def duty_source(
        self, code: str, *, workflows: Sequence[str], until: datetime, ongoing_only: frozenset[str]
    ) -> DutyRow | None:
        """One task's periodic-report facts up to ``until`` (as ``read.report_duties.duty_sources`` for one code)."""
        if not workflows:
            return None
        names = {f"w{i}": w for i, w in enumerate(workflows)}
        rows = self._all(
            "SELECT t.id, t.code, t.workflow, t.campaign, t.ongoing, t.unit_id, e.at, e.trigger, e.to_state, "
            "e.unit_id FROM tasks t JOIN events e ON e.task_id = t.id "
            f"WHERE t.code = :code AND t.workflow IN ({', '.join(':' + n for n in names)}) AND e.at <= :until "
            "ORDER BY e.seq",
            {"code": code, "until": encode_instant(until, self.dialect), **names},
        )
        if not rows or (rows[0][2] in ongoing_only and not rows[0][4]):
            return None
        first = rows[0]
        steps: list[Step] = []
        unit = first[5]
        for r in rows:
            unit = r[9] if r[9] is not None else unit if steps else first[5]
            steps.append(Step(decode_instant(r[6]), r[7], r[8], unit))
        return DutyRow(first[0], first[1], first[2], first[3], bool(first[4]), first[5], tuple(steps))
