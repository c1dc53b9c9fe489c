"""The inbox's queries: one urgent page of the tasks a person may act on, and its counts per light.

Why here and not a loop over every open task: a unit of a county holds thousands of open tasks, and
asking the workflow machine about each of them on every page view cost 181 ms at 100,000 tasks. The
machine's rules become a WHERE clause (``acting_clause``: per workflow and state, the relations the
person must hold), the light becomes a rank computed from deadline bands, and the database returns
the counts by one aggregate and the most urgent ``limit`` rows by a keyset on (rank, deadline, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import ColumnElement, Connection, and_, case, false, func, literal, or_, select, true, tuple_

from ...domain.machine import TaskFacts
from ...domain.visibility import Viewer
from ..models import Task, TaskCoUnit, Unit
from ..web_store import visible_clause
from .ledger_page import LightBand, bands_clause

FAR = date(9999, 12, 31)  # tasks without a deadline sort after every dated one
RANKS = {"red": 0, "yellow": 1, "green": 2, "none": 3}


@dataclass(frozen=True, slots=True)
class Grounds:
    """Where a person may act: (workflow, state, relations the person must hold on the task)."""

    pairs: tuple[tuple[str, str, frozenset[str]], ...]
    units: frozenset[int] = frozenset()  # where the person holds ``responsible_unit`` (see ``units_of``)


@dataclass(frozen=True, slots=True)
class Lights:
    """Each light as deadline bands per workflow (see ``ledger_view.light_bands``)."""

    red: tuple[LightBand, ...]
    yellow: tuple[LightBand, ...]
    green: tuple[LightBand, ...]


@dataclass(frozen=True, slots=True)
class UrgentRow:
    id: int
    code: str
    workflow: str
    version: int
    rank: int
    deadline: date | None
    facts: TaskFacts


def _relation(rel: str, viewer: Viewer, units: frozenset[int]) -> ColumnElement[bool]:
    """The SQL form of one relation of ``machine.relations_of``."""
    if rel == "lead_leader":
        return Task.lead_leader_id == viewer.person_id
    if rel == "responsible_person":
        return Task.responsible_person_id == viewer.person_id
    if rel == "responsible_unit":  # their own unit, and any unit they head, as a list: the index takes it
        return Task.unit_id.in_(sorted(units))
    if rel == "co_unit":  # 牵头/配合: a co-unit whose part still waits for it (signing for or reporting)
        return Task.id.in_(
            select(TaskCoUnit.task_id).where(
                TaskCoUnit.unit_id.in_(sorted(units)), TaskCoUnit.state.in_(("assigned", "signed"))
            )
        )
    return false()  # a relation this query does not know grants nothing


def units_of(conn: Connection, viewer: Viewer) -> frozenset[int]:
    """The units for which ``viewer`` holds the ``responsible_unit`` relation: their own, and those they head."""
    headed = conn.execute(select(Unit.id).where(Unit.head_id == viewer.person_id)).scalars()
    return frozenset({*headed, *([viewer.unit_id] if viewer.unit_id is not None else [])})


@lru_cache(maxsize=256)
def acting_clause(viewer: Viewer, grounds: Grounds) -> ColumnElement[bool]:
    """One arm per set of relations (the states where it applies, per workflow): few arms, each on an index.

    Kept per (viewer, grounds), like ``rank_of`` per day's lights: building a clause of some hundred
    SQLAlchemy elements cost more than running the query on a unit's tasks, and a clause is immutable."""
    by_rels: dict[frozenset[str], dict[str, list[str]]] = {}
    for wf, state, rels in grounds.pairs:
        by_rels.setdefault(rels, {}).setdefault(wf, []).append(state)
    parts = []
    for rels, states in by_rels.items():
        where = or_(*(and_(Task.workflow == wf, Task.state.in_(sorted(ss))) for wf, ss in sorted(states.items())))
        parts.append(and_(where, *(_relation(r, viewer, grounds.units) for r in sorted(rels))))
    return or_(*parts) if parts else false()


@lru_cache(maxsize=16)
def rank_of(lights: Lights) -> ColumnElement[int]:
    return case(
        (bands_clause(lights.red), 0),
        (bands_clause(lights.yellow), 1),
        (bands_clause(lights.green), 2),
        else_=3,
    )


def _where(viewer: Viewer, grounds: Grounds, extra: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    return [visible_clause(viewer), acting_clause(viewer, grounds), extra if extra is not None else true()]


def counts_by_light(
    conn: Connection, viewer: Viewer, grounds: Grounds, lights: Lights, extra: ColumnElement[bool] | None = None
) -> dict[str, int]:
    """How many tasks the person may act on, per light, in one aggregate query."""
    rank = rank_of(lights).label("rank")
    inner = select(rank).where(*_where(viewer, grounds, extra)).subquery()
    names = {v: k for k, v in RANKS.items()}
    rows = conn.execute(select(inner.c.rank, func.count()).group_by(inner.c.rank))
    return {names[int(r)]: int(n) for r, n in rows}


def count_red(conn: Connection, viewer: Viewer, grounds: Grounds, lights: Lights) -> int:
    """How many tasks of ``grounds`` are red: the supervisors' overdue count, without ranking every open task."""
    inner = select(Task.id).where(*_where(viewer, grounds, bands_clause(lights.red))).subquery()
    return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())


def urgent_page(
    conn: Connection,
    viewer: Viewer,
    grounds: Grounds,
    lights: Lights,
    *,
    limit: int,
    after: tuple[int, date, int] | None = None,
    red_only: bool = False,
) -> list[UrgentRow]:
    """Up to ``limit + 1`` tasks the person may act on, red first, then by deadline: the caller shows ``limit``."""
    rank = rank_of(lights) if not red_only else literal(0)  # red only: every row's rank is 0
    due = func.coalesce(Task.deadline, FAR)
    query = (
        select(
            Task.id,
            Task.code,
            Task.workflow,
            Task.version,
            Task.state,
            Task.unit_id,
            Unit.head_id,
            Task.lead_leader_id,
            Task.responsible_person_id,
            Task.deadline,
            rank.label("rank"),
        )
        .join(Unit, Unit.id == Task.unit_id)
        .where(*_where(viewer, grounds, bands_clause(lights.red) if red_only else None))
    )
    if after is not None:
        query = query.where(tuple_(rank, due, Task.id) > tuple_(after[0], after[1], after[2]))
    query = query.order_by(rank, due, Task.id).limit(limit + 1)
    return [
        UrgentRow(
            r.id,
            r.code,
            r.workflow,
            r.version,
            int(r.rank),
            r.deadline,
            TaskFacts(r.code, r.state, r.unit_id, r.head_id, r.lead_leader_id, r.responsible_person_id),
        )
        for r in conn.execute(query)
    ]


def red_clause(lights: Lights) -> ColumnElement[bool]:
    return bands_clause(lights.red)


class InboxReads:
    """The inbox's queries on one unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def units_of(self, viewer: Viewer) -> frozenset[int]:
        return units_of(self._conn, viewer)

    def counts_by_light(
        self, viewer: Viewer, grounds: Grounds, lights: Lights, extra: ColumnElement[bool] | None = None
    ) -> dict[str, int]:
        return counts_by_light(self._conn, viewer, grounds, lights, extra)

    def count_red(self, viewer: Viewer, grounds: Grounds, lights: Lights) -> int:
        return count_red(self._conn, viewer, grounds, lights)

    def urgent_page(
        self,
        viewer: Viewer,
        grounds: Grounds,
        lights: Lights,
        *,
        limit: int,
        after: tuple[int, date, int] | None = None,
        red_only: bool = False,
    ) -> list[UrgentRow]:
        return urgent_page(self._conn, viewer, grounds, lights, limit=limit, after=after, red_only=red_only)
