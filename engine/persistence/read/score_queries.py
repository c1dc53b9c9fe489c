"""The facts a score is computed from, per task, as they stood at the end of a day.

The task's state and deadline come from the same sources as the circular
(the task rows now, or the history replayed for a past instant: asof.py); the
returns at review and the gaps between progress reports are counted by the
database from the events up to that instant, one row per task, so scoring a
million tasks streams a million short rows and never their events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, String, and_, case, func, literal, or_, select, type_coerce

from ..asof import LedgerColumns
from ..models import Event, Unit
from .report_queries import Scope, Source, scoped_filter


@dataclass(frozen=True, slots=True)
class TaskRow:
    code: str
    unit: str
    priority: str | None
    workflow: str
    state: str
    deadline: date | None
    original_deadline: date | None
    at: Any  # the instant of the event that gave the state
    from_import: bool  # the state still comes from an imported ledger (closed at closed_on, or at no known date)
    closed_on: date | None
    sent_back: int
    late_between: int  # progress reports that came more than the allowed days after the one before
    last_report_at: Any  # the latest progress report (or the task's first event) up to the instant


def _gap_exceeds(later: Any, earlier: Any, days: int, dialect: str) -> Any:
    if dialect == "postgresql":
        return later - earlier > func.make_interval(0, 0, 0, days)
    return func.julianday(later) - func.julianday(earlier) > days


def score_rows(
    conn: Connection,
    src: Source,
    scope: Scope,
    at: datetime,
    *,
    sent_back_triggers: tuple[str, ...],
    progress_triggers: tuple[str, ...],
    after_days: int,
) -> Iterator[TaskRow]:
    """One row per task in scope, streamed: its state then, and its returns and late reports up to ``at``."""
    dialect = conn.dialect.name
    ledger = src(lambda cols: scoped_filter(scope, cols))
    c = ledger.c
    cols = LedgerColumns(*(c[name] for name in LedgerColumns.__dataclass_fields__))
    returned = Event.trigger.in_(sent_back_triggers) if sent_back_triggers else literal(False)
    reporting = or_(Event.trigger.in_(progress_triggers), Event.seq == 1) if progress_triggers else Event.seq == 1
    kind = case((returned, 1), else_=0)
    steps = (
        select(
            Event.task_id.label("task_id"),
            kind.label("returned"),
            Event.at.label("at"),
            Event.seq.label("seq"),
            func.lag(Event.at).over(partition_by=(Event.task_id, kind), order_by=Event.seq).label("before"),
        )
        .where(Event.at <= at, or_(returned, reporting))
        .subquery("steps")
    )
    s = steps.c
    per_task = (
        select(
            s.task_id,
            func.sum(s.returned).label("sent_back"),
            func.sum(
                case(
                    (
                        and_(s.returned == 0, s.before.is_not(None), _gap_exceeds(s.at, s.before, after_days, dialect)),
                        1,
                    ),
                    else_=0,
                )
            ).label("late"),
            func.max(case((s.returned == 0, s.at))).label("last_report"),
        )
        .group_by(s.task_id)
        .cte("per_task")
        .prefix_with("MATERIALIZED")  # once: SQLite would otherwise compute it again in each branch of the ledger
    )
    p = per_task.c
    # Instants are read as the driver gives them (text on SQLite) and decoded only for the rows that need them.
    query = (
        select(
            cols.code,
            cols.unit_id,
            c.priority,
            cols.workflow,
            cols.state,
            cols.deadline,
            cols.original_deadline,
            type_coerce(cols.at, String()),
            and_(cols.source_key.is_not(None), cols.at == cols.created_at).label("from_import"),
            cols.closed_on,
            func.coalesce(p.sent_back, 0),
            func.coalesce(p.late, 0),
            type_coerce(p.last_report, String()),
        )
        .select_from(ledger)
        .outerjoin(per_task, p.task_id == cols.task_id)
    )
    names = {uid: name for uid, name in conn.execute(select(Unit.id, Unit.name))}
    for r in conn.execution_options(yield_per=5000).execute(query):
        yield TaskRow(
            r[0],
            names.get(r[1], str(r[1])),
            r[2],
            r[3],
            r[4],
            _day(r[5]),
            _day(r[6]),
            r[7],
            bool(r[8]),
            _day(r[9]),
            int(r[10]),
            int(r[11]),
            r[12],
        )


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return _text_day(str(value))


@lru_cache(maxsize=4096)
def _text_day(text: str) -> date:
    """SQLite's dates are text; a ledger has a few hundred distinct ones, so each is parsed once."""
    return date.fromisoformat(text[:10])


class ScoreReads:
    """A score's queries on one unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def rows(
        self,
        src: Source,
        scope: Scope,
        at: datetime,
        *,
        sent_back_triggers: tuple[str, ...],
        progress_triggers: tuple[str, ...],
        after_days: int,
    ) -> Iterator[TaskRow]:
        return score_rows(
            self._conn,
            src,
            scope,
            at,
            sent_back_triggers=sent_back_triggers,
            progress_triggers=progress_triggers,
            after_days=after_days,
        )
