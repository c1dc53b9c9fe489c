"""The aggregate queries behind a circular: the database counts, Python only folds the few result rows.

Two sources give each task's state, deadline and last-event instant: the
tasks table (the ledger now) or the event history (the ledger at the end of a
past day, see asof.py). The same GROUP BY runs over either, so a report for
today and a report replayed for today agree by construction, and a test
checks that they do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from .asof import ledger_at
from .models import Event, Person, Task, Unit

_Select = TypeVar("_Select", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class StateRules:
    """Per workflow, which states fall into which circular column, and where the deadline clock runs."""

    buckets: dict[tuple[str, str], str]  # (workflow, state) -> bucket
    clock_runs: set[tuple[str, str]]


@dataclass(frozen=True)
class Scope:
    campaign: str | None = None
    unit_id: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class Source:
    """Where a task's state comes from: the tasks table now, or the events at a past instant."""

    state: Any
    deadline: Any
    last_at: Any
    joined: Any  # a FROM clause that includes ``Task`` and ``Unit``


def current_source() -> Source:
    return Source(Task.state, Task.deadline, Task.updated_at, Task.__table__.join(Unit, Unit.id == Task.unit_id))


def as_of_source(at: datetime) -> Source:
    a = ledger_at(at)
    joined = a.join(Task, Task.id == a.c.task_id).join(Unit, Unit.id == Task.unit_id)
    return Source(a.c.state, a.c.deadline, a.c.at, joined)


def _by_state(rules: StateRules, pairs: Iterable[tuple[str, str]], src: Source) -> ColumnElement[bool]:
    by_workflow: dict[str, list[str]] = {}
    for workflow, state in sorted(pairs):
        by_workflow.setdefault(workflow, []).append(state)
    if not by_workflow:
        return false()
    return or_(*(and_(Task.workflow == w, src.state.in_(states)) for w, states in by_workflow.items()))


def _bucket(rules: StateRules, src: Source) -> ColumnElement[str]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for pair, bucket in rules.buckets.items():
        groups.setdefault(bucket, []).append(pair)
    whens = [(_by_state(rules, pairs, src), literal(bucket)) for bucket, pairs in sorted(groups.items())]
    return case(*whens, else_=literal("excluded"))


def _closed_by(deadline: Any, last_at: Any, dialect: str, tz: ZoneInfo, as_of: date) -> ColumnElement[bool]:
    """Closed by the end of the original deadline's day in the configured zone."""
    if dialect == "postgresql":
        cutoff = func.timezone(tz.key, cast(cast(deadline + 1, Date), DateTime()))
        return last_at < cutoff
    # SQLite stores UTC text; the zone's offset is taken at the as-of date (exact for zones without DST).
    offset = datetime.combine(as_of, datetime.min.time(), tz).utcoffset() or timedelta(0)
    shift = f"{-int(offset.total_seconds())} seconds"
    return func.datetime(deadline, "+1 day", shift) > last_at


def _scoped(query: _Select, scope: Scope) -> _Select:
    if scope.campaign is not None:
        query = query.where(Task.campaign == scope.campaign)
    if scope.unit_id is not None:
        query = query.where(Task.unit_id == scope.unit_id)
    if scope.category is not None:
        query = query.where(Task.category == scope.category)
    return query


def tally(
    conn: Connection, rules: StateRules, src: Source, scope: Scope, as_of: date, tz: ZoneInfo
) -> list[tuple[str, str | None, str | None, str, int, int, int, int]]:
    """(unit, category, campaign, bucket, tasks, overdue, closed with a deadline, closed on time) rows."""
    dialect = conn.dialect.name
    bucket = _bucket(rules, src).label("bucket")
    runs = _by_state(rules, rules.clock_runs, src)
    overdue = and_(runs, src.deadline.is_not(None), src.deadline < as_of)
    has_deadline = Task.original_deadline.is_not(None)
    on_time = and_(has_deadline, _closed_by(Task.original_deadline, src.last_at, dialect, tz, as_of))
    query = (
        select(
            Unit.name,
            Task.category,
            Task.campaign,
            bucket,
            func.count(),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((has_deadline, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
        )
        .select_from(src.joined)
        .group_by(Unit.name, Task.category, Task.campaign, bucket)
    )
    rows = conn.execute(_scoped(query, scope)).all()
    return [(r[0], r[1], r[2], r[3], int(r[4]), int(r[5] or 0), int(r[6] or 0), int(r[7] or 0)) for r in rows]


_Leader = aliased(Person)


def overdue_tasks(
    conn: Connection, rules: StateRules, src: Source, scope: Scope, as_of: date, limit: int | None
) -> list[tuple[str, str, str, str | None, date, str]]:
    """The most overdue first: (code, title, unit, lead leader's name, deadline, workflow)."""
    runs = _by_state(rules, rules.clock_runs, src)
    deadline = src.deadline.label("deadline")
    query = (
        select(Task.code, Task.title, Unit.name, _Leader.name, deadline, Task.workflow)
        .select_from(src.joined.outerjoin(_Leader, _Leader.id == Task.lead_leader_id))
        .where(runs, src.deadline.is_not(None), src.deadline < as_of)
        .order_by(src.deadline, Task.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(r[0], r[1], r[2], r[3], _as_date(r[4]), r[5]) for r in conn.execute(_scoped(query, scope))]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _events_between(
    start: datetime, end: datetime, scope: Scope, *where: ColumnElement[bool]
) -> Select[*tuple[Any, ...]]:
    query = (
        select(Task.code, Task.title, Unit.name, Event.at, Event.data, Event.deadline)
        .select_from(Event.__table__.join(Task, Task.id == Event.task_id).join(Unit, Unit.id == Task.unit_id))
        .where(Event.at >= start, Event.at < end, *where)
        .order_by(Event.at, Event.id)
    )
    return _scoped(query, scope)


def period_events(
    conn: Connection,
    kind: str,
    rules: StateRules,
    start: datetime,
    end: datetime,
    scope: Scope,
    limit: int | None,
    extension_trigger: str = "grant_extension",
) -> tuple[list[tuple[str, str, str, datetime, Any, Any]], int]:
    """Tasks new, closed or given more time within [start, end): up to ``limit`` rows, and how many in all."""
    if kind == "new":
        cond: ColumnElement[bool] = Event.seq == 1
    elif kind == "closed":
        closing = [pair for pair, bucket in rules.buckets.items() if bucket == "closed"]
        src = Source(Event.to_state, None, None, None)
        cond = and_(_by_state(rules, closing, src), or_(Event.from_state.is_(None), Event.from_state != Event.to_state))
    elif kind == "extended":
        cond = Event.trigger == extension_trigger
    else:  # pragma: no cover - a programming error
        raise ValueError(kind)
    query = _events_between(start, end, scope, cond)
    count_query = select(func.count()).select_from(query.order_by(None).subquery())
    total = int(conn.execute(count_query).scalar_one())
    if limit is not None:
        query = query.limit(limit)
    rows = [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in conn.execute(query)]
    return rows, total


def state_rules(specs: Sequence[Any]) -> StateRules:
    """From the workflow definitions: each state's circular column and its deadline clock."""
    buckets: dict[tuple[str, str], str] = {}
    runs: set[tuple[str, str]] = set()
    for spec in specs:
        for key, state in spec.states.items():
            buckets[(spec.name, key)] = state.report
            if state.clock and not state.final:
                runs.add((spec.name, key))
    return StateRules(buckets, runs)


__all__ = [
    "Scope",
    "Source",
    "StateRules",
    "as_of_source",
    "current_source",
    "overdue_tasks",
    "period_events",
    "state_rules",
    "tally",
]
