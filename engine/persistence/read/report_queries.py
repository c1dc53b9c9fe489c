"""The aggregate queries behind a circular: the database counts, Python only folds the few result rows.

Two sources give each task's state, deadline and last-event instant: the
tasks table (the ledger now) or the event history (the ledger at the end of a
past day, see asof.py). The same GROUP BY runs over either, so a report for
today and a report replayed for today agree by construction, and a test
checks that they do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Date,
    DateTime,
    Select,
    String,
    Subquery,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from ..asof import (
    ImportedBefore,
    LedgerColumns,
    Where,
    imported_rows,
    ledger_at,
    ledger_from_events,
    ledger_now,
    ledger_pair,
    ledger_pair_from_events,
    moved_share,
)
from ..models import Event, Person, Task, TaskCoUnit, Unit


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
    workflows: tuple[str, ...] | None = None  # None: every workflow
    not_workflows: tuple[str, ...] = ()  # workflows reported in sections of their own (帮扶)
    source: str | None = None  # 问题来源; NO_SOURCE: tasks that cite none
    top_only: bool = False  # 分解: count top tasks only, not their sub-tasks (a circular's --level top)


# Where a task's state comes from: the tasks as they stand, or as they stood at an instant (see asof.py).
Source = Callable[[Where], Subquery]


def current_source() -> Source:
    return ledger_now


MOVED_SHARE_FOR_EVENTS = 0.25  # beyond this share of moved tasks, one pass over the events is cheaper


def as_of_source(conn: Connection, at: datetime, imported: ImportedBefore | None = None) -> Source:
    """Recent dates from the task rows plus the few moved tasks' events; dates far back from the events alone.

    With ``imported``, tasks imported after ``at`` stand as their ledger described them (see asof.py).
    """
    if moved_share(conn, at) > MOVED_SHARE_FOR_EVENTS:
        return lambda where: ledger_from_events(at, where, imported)
    return lambda where: ledger_at(at, where, imported)


def imported_before(rules: StateRules, day: date) -> ImportedBefore:
    """How a ledger imported later stands on ``day``: closed per the workflows' columns, reopened as 整改中."""
    closed = tuple(sorted(pair for pair, bucket in rules.buckets.items() if bucket == "closed"))
    open_state: dict[str, str] = {}
    for (workflow, state), bucket in rules.buckets.items():  # the workflow's first 整改中 state, in YAML order
        if bucket == "in_progress":
            open_state.setdefault(workflow, state)
    return ImportedBefore(day, closed, open_state)


def imported_since(conn: Connection, at: datetime) -> bool:
    """Whether any ledger was imported after ``at``: then the circular's instants before it need the ledger's dates."""
    found = conn.execute(select(Task.id).where(imported_rows(Task.source_key), Task.created_at > at).limit(1)).first()
    return found is not None


class ImportBatch(NamedTuple):
    """One import (all its tasks share the instant): how many stand on the day asked, how many have no 交办日期."""

    instant: datetime
    counted: int
    undated: int


def imports_after(conn: Connection, at: datetime, day: date, scope: Scope) -> list[ImportBatch]:
    """Ledgers imported after ``at``, by import instant: (instant, tasks counted as of ``day``, tasks without a 交办日期).

    The counted ones are the tasks ``imported_before`` stands on that day; the others cannot be placed in time.
    """
    counted = and_(Task.assigned_on.is_not(None), Task.assigned_on <= day)
    query = (
        select(
            Task.created_at,
            func.sum(case((counted, 1), else_=0)),
            func.sum(case((Task.assigned_on.is_(None), 1), else_=0)),
        )
        .where(imported_rows(Task.source_key), Task.created_at > at, *_scoped(scope, Task))
        .group_by(Task.created_at)
        .order_by(Task.created_at)
    )
    out = []
    for instant, n, undated in conn.execute(query):
        if isinstance(instant, str):
            instant = datetime.fromisoformat(instant)
        out.append(ImportBatch(instant, int(n or 0), int(undated or 0)))
    return out


def _in_states(pairs: Iterable[tuple[str, str]], workflow: Any, state: Any) -> ColumnElement[bool]:
    """The (workflow, state) pairs as one condition on the given columns."""
    by_workflow: dict[str, list[str]] = {}
    for w, st in sorted(pairs):
        by_workflow.setdefault(w, []).append(st)
    if not by_workflow:
        return false()
    return or_(*(and_(workflow == w, state.in_(states)) for w, states in by_workflow.items()))


def _scoped(scope: Scope, cols: Any) -> list[ColumnElement[bool]]:
    """The report's filters on whatever carries campaign, unit_id and category: ledger columns, or Task itself."""
    out: list[ColumnElement[bool]] = []
    if scope.campaign is not None:
        out.append(cols.campaign == scope.campaign)
    if scope.unit_id is not None:
        out.append(cols.unit_id == scope.unit_id)
    if scope.category is not None:
        out.append(cols.category == scope.category)
    if scope.workflows is not None:
        out.append(cols.workflow.in_(scope.workflows))
    if scope.not_workflows:
        out.append(cols.workflow.not_in(scope.not_workflows))
    if scope.source is not None:
        out.append(cols.source.is_(None) if scope.source == NO_SOURCE else cols.source == scope.source)
    if scope.top_only:
        out.append(cols.parent_id.is_(None))
    return out


NO_SOURCE = "-"  # a scope's source for the tasks that cite none


def scoped_filter(scope: Scope, cols: Any) -> list[ColumnElement[bool]]:
    """The report's filters, for other readers of the same ledger (scores)."""
    return _scoped(scope, cols)


def _closed_by(deadline: Any, last_at: Any, dialect: str, tz: ZoneInfo, as_of: date) -> ColumnElement[bool]:
    """Closed by the end of the original deadline's day in the configured zone."""
    if dialect == "postgresql":
        return last_at < func.timezone(tz.key, cast(cast(deadline + 1, Date), DateTime()))
    # SQLite holds UTC instants as text; the zone's offset is taken at the as-of date (exact for zones without DST).
    offset = int((datetime.combine(as_of, datetime.min.time(), tz).utcoffset() or timedelta(0)).total_seconds())
    cutoff = 86400 - offset  # seconds after the deadline's UTC midnight at which its local day ends
    if 0 < cutoff <= 86400:  # the same UTC date: compare text with text, no date function per row
        h, rest = divmod(cutoff, 3600)
        clock = f" {h:02d}:{rest // 60:02d}:{rest % 60:02d}"
        return last_at < type_coerce(deadline, String()) + literal(clock)
    return func.datetime(deadline, "+1 day", f"{-offset} seconds") > last_at


class TallyRow(NamedTuple):
    """One group of a circular's figures: tasks of a unit, category, campaign, workflow and column (bucket)."""

    unit: str
    category: str | None
    campaign: str | None
    workflow: str
    bucket: str
    tasks: int
    overdue: int
    with_deadline: int  # closed with a deadline (and a known closing date)
    on_time: int  # of those, closed by the deadline
    source: str | None


def tally(
    conn: Connection,
    rules: StateRules,
    src: Source,
    scope: Scope,
    as_of: date,
    tz: ZoneInfo,
    *,
    breakdowns: bool = True,
) -> list[TallyRow]:
    """(unit, category, campaign, workflow, bucket, tasks, overdue, closed with a deadline, closed on time, source)
    rows, as ``tally_pair`` gives them for one instant.

    Grouped by plain columns; units are named and states put in their columns afterwards, over the few
    result rows, so the database does one scan and one aggregation.
    """
    ledger = src(lambda cols: _scoped(scope, cols))
    c = ledger.c
    cols = LedgerColumns(*(c[name] for name in LedgerColumns.__dataclass_fields__))
    overdue = and_(_in_states(rules.clock_runs, cols.workflow, cols.state), c.deadline < as_of)
    # A task whose state still comes from its import closed when the ledger said (closed_on), or at a date
    # nobody knows: its punctuality is unknown, in neither the numerator nor the denominator of the rate.
    from_import = and_(c.source_key.is_not(None), c.at == c.created_at)
    known_close = or_(~from_import, c.closed_on.is_not(None))
    has_deadline = and_(c.original_deadline.is_not(None), known_close)
    on_time = and_(
        has_deadline,
        case(
            (from_import, c.closed_on <= c.original_deadline),
            else_=_closed_by(c.original_deadline, c.at, conn.dialect.name, tz, as_of),
        ),
    )
    category, campaign = (c.category, c.campaign) if breakdowns else (null(), null())  # the previous period: units only
    source = c.source if breakdowns else null()
    query = select(
        c.unit_id,
        category,
        campaign,
        source,
        c.workflow,
        c.state,
        func.count(),
        func.sum(case((overdue, 1), else_=0)),
        func.sum(case((has_deadline, 1), else_=0)),
        func.sum(case((on_time, 1), else_=0)),
    ).group_by(c.unit_id, *((c.category, c.campaign, c.source) if breakdowns else ()), c.workflow, c.state)
    names = dict(conn.execute(select(Unit.id, Unit.name)).all())
    return [
        TallyRow(
            names.get(r[0], str(r[0])),
            r[1],
            r[2],
            r[4],
            rules.buckets.get((r[4], r[5]), "excluded"),
            int(r[6]),
            int(r[7] or 0),
            int(r[8] or 0),
            int(r[9] or 0),
            r[3],
        )
        for r in conn.execute(query)
    ]


@dataclass(frozen=True)
class PairSource:
    """Both instants of a circular (its end, and the previous period's end) from one pass: see asof.ledger_pair.

    Called with the filter on the task's fixed columns and the unit asked for (held at either instant), if
    any. ``from_events``: the pass reads every event up to the end (a date far back), not the task rows and
    the few moved tasks' events: then it is worth keeping once for the named lists (see circular_pass_query).
    """

    at: datetime | None
    before: datetime
    from_events: bool

    def __call__(self, where: Where, unit_id: int | None) -> Subquery:
        way = ledger_pair_from_events if self.from_events else ledger_pair
        return way(self.at, self.before, where, unit_id)


def pair_source(conn: Connection, at: datetime | None, before: datetime) -> PairSource:
    """``at`` None: the end is now. The method is chosen by how many tasks moved since ``before``."""
    return PairSource(at, before, moved_share(conn, before) > MOVED_SHARE_FOR_EVENTS)


def tally_pair(
    conn: Connection,
    rules: StateRules,
    src: PairSource,
    scope: Scope,
    as_of: date,
    prev_as_of: date,
    tz: ZoneInfo,
) -> tuple[list[TallyRow], list[TallyRow]]:
    """The figures at both instants, every workflow, from one GROUP BY over one pass.

    Rows are (unit, category, campaign, workflow, bucket, tasks, overdue, closed with a deadline, closed on
    time, source): first at ``as_of``, then at ``prev_as_of``; each instant credits the unit that held the task then. The database groups by both states; Python sums the
    few result rows into each side. ``scope``'s workflow filters are left to the caller, which splits by
    workflow (the main table and each workflow's own section come from the same pass).
    """
    query = tally_pair_query(conn.dialect.name, rules, src, scope, as_of, prev_as_of, tz)
    names = dict(conn.execute(select(Unit.id, Unit.name)).all())
    return _fold_pair(rules, names, conn.execute(query), scope.unit_id)


def _fold_pair(
    rules: StateRules, names: dict[Any, str], rows: Iterable[Sequence[Any]], unit_id: int | None
) -> tuple[list[TallyRow], list[TallyRow]]:
    """``tally_pair``'s GROUP BY rows summed into each instant's groups (the unit then, the state's column).

    With ``unit_id`` an instant counts only where that unit held the task then (the pass kept the tasks it
    held at either instant)."""
    now: dict[tuple[Any, ...], list[int]] = {}
    prev: dict[tuple[Any, ...], list[int]] = {}
    for r in rows:
        for sums, held, state, figures in ((now, r[0], r[4], r[7:10]), (prev, r[13], r[5], r[10:13])):
            if state is None:  # the task did not exist yet at that instant
                continue
            if unit_id is not None and held != unit_id:
                continue
            unit = names.get(held, str(held))
            key = (unit, r[1], r[2], r[3], rules.buckets.get((r[3], state), "excluded"), r[14])
            acc = sums.setdefault(key, [0, 0, 0, 0])
            for i, v in enumerate((r[6], *figures)):
                acc[i] += int(v or 0)
    return (
        [_tally_row(k, v) for k, v in now.items()],
        [_tally_row(k, v) for k, v in prev.items()],
    )


def _tally_row(key: tuple[Any, ...], sums: list[int]) -> TallyRow:
    """``key``: (unit, category, campaign, workflow, bucket, source); ``sums``: tasks, overdue, with deadline, on time."""
    return TallyRow(key[0], key[1], key[2], key[3], key[4], sums[0], sums[1], sums[2], sums[3], key[5])


def _plain(scope: Scope) -> Scope:
    """The pair's filter on fixed columns: no workflow (one pass serves the main table and every workflow's
    section), no unit (the pair ledger takes it apart: a task may have changed unit between the instants)."""
    return Scope(
        campaign=scope.campaign,
        category=scope.category,
        source=scope.source,
        top_only=scope.top_only,
    )


def _pair_figures(
    c: Any, dialect: str, rules: StateRules, as_of: date, prev_as_of: date, tz: ZoneInfo
) -> tuple[list[Any], list[Any]]:
    """The columns of ``tally_pair``'s GROUP BY over a pair ledger's columns ``c``, and what it groups by."""

    def side(state: Any, deadline: Any, at: Any, day: date) -> list[Any]:
        overdue = and_(_in_states(rules.clock_runs, c.workflow, state), deadline < day)
        from_import = and_(c.source_key.is_not(None), at == c.created_at)
        known_close = or_(~from_import, c.closed_on.is_not(None))
        has_deadline = and_(c.original_deadline.is_not(None), known_close)
        on_time = and_(
            has_deadline,
            case(
                (from_import, c.closed_on <= c.original_deadline),
                else_=_closed_by(c.original_deadline, at, dialect, tz, day),
            ),
        )
        return [func.sum(case((cond, 1), else_=0)) for cond in (overdue, has_deadline, on_time)]

    columns = [
        c.unit_id,
        c.category,
        c.campaign,
        c.workflow,
        c.state,
        c.prev_state,
        func.count(),
        *side(c.state, c.deadline, c.at, as_of),
        *side(c.prev_state, c.prev_deadline, c.prev_at, prev_as_of),
        c.prev_unit_id,
        c.source,
    ]
    keys = [c.unit_id, c.category, c.campaign, c.workflow, c.state, c.prev_state, c.prev_unit_id, c.source]
    return columns, keys


def tally_pair_query(
    dialect: str, rules: StateRules, src: PairSource, scope: Scope, as_of: date, prev_as_of: date, tz: ZoneInfo
) -> Select[Any]:
    """The one GROUP BY behind ``tally_pair``: the figures alone, the first part of ``circular_pass_query``."""
    ledger = src(lambda cols: _scoped(_plain(scope), cols), scope.unit_id)
    columns, keys = _pair_figures(ledger.c, dialect, rules, as_of, prev_as_of, tz)
    return select(*columns).group_by(*keys)


_Leader = aliased(Person)


class OverdueRow(NamedTuple):
    code: str
    title: str
    unit: str
    leader: str | None  # the lead leader's name
    deadline: date
    workflow: str


class SuspendedRow(NamedTuple):
    code: str
    title: str
    unit: str
    since: Any  # the instant of the step that suspended it (None where no such step is recorded)
    reason: str | None


class PeriodRow(NamedTuple):
    code: str
    title: str
    unit: str
    at: datetime | date  # the event's instant, or the task's own date (交办日期, 销号日期)
    data: Any  # the event's data (None for a task dated by its own column)
    deadline: Any


def overdue_tasks(
    conn: Connection, rules: StateRules, src: Source, scope: Scope, as_of: date, limit: int | None
) -> list[OverdueRow]:
    """The most overdue first: (code, title, unit, lead leader's name, deadline, workflow)."""

    def where(cols: LedgerColumns) -> list[ColumnElement[bool]]:
        return [*_scoped(scope, cols), _in_states(rules.clock_runs, cols.workflow, cols.state), cols.deadline < as_of]

    c = src(where).c
    query = (
        select(c.code, c.title, Unit.name, _Leader.name, c.deadline, c.workflow)
        .join(Unit, Unit.id == c.unit_id)
        .outerjoin(_Leader, _Leader.id == c.lead_leader_id)
        .order_by(c.deadline, c.task_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [OverdueRow(r[0], r[1], r[2], r[3], _as_date(r[4]), r[5]) for r in conn.execute(query)]


def _entered_seq(c: Any, until: datetime) -> Any:
    """The seq of the step that put each task of ``c`` in its state, the latest up to ``until``: where a
    suspension's since-when and why come from."""
    return (
        select(func.max(Event.seq))
        .where(
            Event.task_id == c.task_id,
            Event.to_state == c.state,
            Event.from_state != Event.to_state,
            Event.at <= until,
        )
        .scalar_subquery()
    )


def suspended_tasks(
    conn: Connection, rules: StateRules, src: Source, scope: Scope, until: datetime, limit: int | None
) -> list[SuspendedRow]:
    """Tasks in a suspended state (挂起) at ``until``: (code, title, unit, since, reason), the longest first.

    Since when and why come from the step that put the task in that state, the latest one up to ``until``.
    """
    pairs = [pair for pair, bucket in rules.buckets.items() if bucket == "suspended"]

    def where(cols: LedgerColumns) -> list[ColumnElement[bool]]:
        return [*_scoped(scope, cols), _in_states(pairs, cols.workflow, cols.state)]

    c = src(where).c
    entered = _entered_seq(c, until)
    step = aliased(Event)
    query = (
        select(c.code, c.title, Unit.name, step.at, step.comment)
        .join(Unit, Unit.id == c.unit_id)
        .outerjoin(step, and_(step.task_id == c.task_id, step.seq == entered))
        .order_by(step.at.is_(None), step.at, c.task_id)  # a step not recorded: last, on SQLite as on PostgreSQL
    )
    if limit is not None:
        query = query.limit(limit)
    return [SuspendedRow(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(query)]


class CircularPass(NamedTuple):
    """What a circular reads of the ledger at its instants, from one statement over one as-of pass."""

    now: list[TallyRow]  # the figures at the period's end, every workflow
    prev: list[TallyRow]  # the figures at the previous period's end
    overdue: list[OverdueRow]  # the most overdue first, up to the limit
    suspended: list[SuspendedRow]  # the longest suspended first, up to the limit
    with_co_units: list[tuple[int, str, str, str]]  # (task id, code, title, unit): tasks with co-units, by code


_FIGURES, _OVERDUE, _SUSPENDED, _CO_UNITS = range(4)
_DATED_TYPES: tuple[Any, ...] = (Date(), DateTime(timezone=True), Text())  # a named row's deadline, since and reason
# The pair ledger's columns the one pass reads (the task's code, title and leader are joined to the named rows).
_PASS_COLUMNS = (
    "task_id", "workflow", "unit_id", "category", "campaign", "original_deadline", "state", "deadline", "at",
    "source_key", "created_at", "closed_on", "source", "prev_state", "prev_deadline", "prev_at", "prev_unit_id",
)  # fmt: skip
_FIGURE_COLUMNS = 15  # as _pair_figures gives them


def _labelled(*columns: Any) -> list[Any]:
    """Columns named by position, so that no two blanks are taken for one column."""
    return [col.label(f"c{i}") for i, col in enumerate(columns)]


def circular_pass_query(
    dialect: str,
    rules: StateRules,
    src: PairSource,
    scope: Scope,
    as_of: date,
    prev_as_of: date,
    tz: ZoneInfo,
    until: datetime,
    limit: int | None,
) -> CompoundSelect:
    """Every as-of figure and named list of a circular in one statement over one pass of the ledger.

    The pair ledger (each task at the period's end and at the previous one's, see asof.ledger_pair) is a
    CTE read four times: the figures' GROUP BY, the overdue tasks, the suspended ones and the tasks with
    co-units. The database builds it once (a CTE read more than once is materialised), so the lists no
    longer cost a pass over the events each. Each row says which part it belongs to in its first column;
    the figures' columns come next, then the named task's (id, code, title, unit name, lead leader's name,
    deadline, since, reason).
    ``until`` is the instant the suspended tasks' steps are read up to (the period's end, or now).
    """
    whole = src(lambda cols: _scoped(_plain(scope), cols), scope.unit_id)
    # Only what the figures and the lists read is kept: the names are joined to the few rows named.
    ledger = select(*(whole.c[name] for name in _PASS_COLUMNS)).cte("ledger")
    if dialect == "postgresql" and not src.from_events:
        # From the task rows, PostgreSQL reads each list's few tasks faster with its filter pushed into the
        # scan than from a stored copy of every task; the pass over the events is worth storing (as SQLite
        # does with both: a CTE read more than once is materialised, and here the two cost alike).
        ledger = ledger.prefix_with("NOT MATERIALIZED")
    c = ledger.c
    figures, keys = _pair_figures(c, dialect, rules, as_of, prev_as_of, tz)
    step = aliased(Event)
    listed_types = (Task.id.type, Task.code.type, Task.title.type, Unit.name.type, Person.name.type)
    blank_listed = [
        type_coerce(null(), t) for t in (*listed_types, Task.deadline.type, Event.at.type, Event.comment.type)
    ]
    parts: list[Select[Any]] = [select(*_labelled(literal(_FIGURES), *figures, *blank_listed)).group_by(*keys)]
    in_scope = [c.unit_id == scope.unit_id] if scope.unit_id is not None else []  # the unit then
    if scope.workflows is not None:
        in_scope.append(c.workflow.in_(scope.workflows))
    if scope.not_workflows:
        in_scope.append(c.workflow.not_in(scope.not_workflows))

    def listed(
        part: int, where: list[Any], order: list[Any], dated: tuple[Any | None, Any | None, Any | None], joins: Any = ()
    ) -> None:
        """One list: its tasks picked (and cut) from the ledger first, their names joined to those alone.

        ``dated``: the deadline, since and reason columns of the list (NULL where it has none).
        """
        # A blank is typed: PostgreSQL takes an untyped NULL in a subquery for text, which a date cannot join.
        typed = [cast(null(), t) if d is None else d for d, t in zip(dated, _DATED_TYPES, strict=True)]
        pick = select(c.task_id, c.unit_id, c.workflow, *(d.label(f"d{i}") for i, d in enumerate(typed)))
        pick = pick.select_from(ledger)
        for target, on in joins:
            pick = pick.outerjoin(target, on)
        pick = pick.where(*in_scope, *where)
        if order:
            pick = pick.order_by(*order).limit(limit)
        got = pick.subquery()
        leader: Any = _Leader.name if part == _OVERDUE else null()
        blank = [null()] * (_FIGURE_COLUMNS - 4)
        row: list[Any] = [literal(part), got.c.unit_id, null(), null(), got.c.workflow, *blank]
        row += [got.c.task_id, Task.code, Task.title, Unit.name, leader, got.c.d0, got.c.d1, got.c.d2]
        query = select(*_labelled(*row)).select_from(got).join(Task, Task.id == got.c.task_id)
        query = query.join(Unit, Unit.id == got.c.unit_id)
        if part == _OVERDUE:
            query = query.outerjoin(_Leader, _Leader.id == Task.lead_leader_id)
        parts.append(query)

    listed(
        _OVERDUE,
        [_in_states(rules.clock_runs, c.workflow, c.state), c.deadline < as_of],
        [c.deadline, c.task_id],
        (c.deadline, None, None),
    )
    suspended = [pair for pair, bucket in rules.buckets.items() if bucket == "suspended"]
    entered = _entered_seq(c, until)
    listed(
        _SUSPENDED,
        [_in_states(suspended, c.workflow, c.state)],
        [step.at.is_(None), step.at, c.task_id],  # a step not recorded: last, on SQLite as on PostgreSQL
        (None, step.at, step.comment),
        joins=[(step, and_(step.task_id == c.task_id, step.seq == entered))],
    )
    counted = [pair for pair, bucket in rules.buckets.items() if bucket != "excluded"]
    with_co_units = c.task_id.in_(select(TaskCoUnit.task_id).distinct().scalar_subquery())
    listed(_CO_UNITS, [with_co_units, _in_states(counted, c.workflow, c.state)], [], (None, None, None))
    return union_all(*parts)


def circular_pass(
    conn: Connection,
    rules: StateRules,
    src: PairSource,
    scope: Scope,
    as_of: date,
    prev_as_of: date,
    tz: ZoneInfo,
    until: datetime,
    limit: int | None,
) -> CircularPass:
    """``circular_pass_query`` run and its rows sorted out: the figures as ``tally_pair`` gives them, the lists
    as ``overdue_tasks``, ``suspended_tasks`` and ``co_units.tasks_with_parts`` do (a test checks both ways)."""
    query = circular_pass_query(conn.dialect.name, rules, src, scope, as_of, prev_as_of, tz, until, limit)
    by_part: dict[int, list[Any]] = {_FIGURES: [], _OVERDUE: [], _SUSPENDED: [], _CO_UNITS: []}
    for r in conn.execute(query):
        by_part[r[0]].append(r[1:])
    names = dict(conn.execute(select(Unit.id, Unit.name)).all())
    now, prev = _fold_pair(rules, names, by_part[_FIGURES], scope.unit_id)
    # A named row: the figures' columns are blank but the workflow (3); then task id, code, title, unit name,
    # leader, deadline, since, reason. Each list came out of its own ORDER BY … LIMIT; a UNION does not
    # promise to keep that order, so it is sorted again here.
    task_id, code, title, unit, leader, deadline, since, reason = range(_FIGURE_COLUMNS, _FIGURE_COLUMNS + 8)
    overdue = sorted(by_part[_OVERDUE], key=lambda r: (_as_date(r[deadline]), r[task_id]))
    suspended = sorted(by_part[_SUSPENDED], key=lambda r: (r[since] is None, r[since] or _NEVER, r[task_id]))
    return CircularPass(
        now,
        prev,
        [OverdueRow(r[code], r[title], r[unit], r[leader], _as_date(r[deadline]), r[3]) for r in overdue],
        [SuspendedRow(r[code], r[title], r[unit], r[since], r[reason]) for r in suspended],
        sorted(((r[task_id], r[code], r[title], r[unit]) for r in by_part[_CO_UNITS]), key=lambda t: t[1]),
    )


_NEVER = datetime.min.replace(tzinfo=ZoneInfo("UTC"))


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# How many rows the list has in all, beside the first ``limit`` of them: one statement instead of a count and a read.
_TOTAL = func.count().over().label("total")


def _events_between(
    start: datetime, end: datetime, scope: Scope, *where: ColumnElement[bool]
) -> Select[*tuple[Any, ...]]:
    return (
        select(Task.code, Task.title, Unit.name, Event.at, Event.data, Event.deadline, _TOTAL)
        .select_from(Event.__table__.join(Task, Task.id == Event.task_id).outerjoin(Unit, Unit.id == Task.unit_id))
        .where(Event.at >= start, Event.at < end, *where, *_scoped(scope, Task))
        .order_by(Event.at, Event.id)
    )


def _tasks_where(scope: Scope, on: Any, *where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """Tasks dated by a column of their own (交办日期, an imported 销号日期) rather than by an event.

    The unit is an outer join (every task has one): SQLite would otherwise loop over the units and reach
    the tasks through the (unit_id, state) index, a random read per task where one scan does.
    """
    return (
        select(Task.code, Task.title, Unit.name, on, null(), null(), _TOTAL)
        .select_from(Task.__table__.outerjoin(Unit, Unit.id == Task.unit_id))
        .where(*where, *_scoped(scope, Task))
        .order_by(on, Task.id)
    )


def _new_tasks(
    conn: Connection, scope: Scope, first: date, last: date, start: datetime, end: datetime, limit: int | None
) -> tuple[list[PeriodRow], int]:
    """Tasks assigned in the period, from one scan of the tasks: those with a 交办日期 by it (a ledger imported
    later by its own dates), the others by the day they were written; the first ``limit`` of each, by
    that date, and how many in all. The two kinds are counted and cut apart (a window per kind)."""
    dated = Task.assigned_on.is_not(None)
    kind = case((dated, 0), else_=1)
    by_date = and_(
        Task.assigned_on >= first,
        Task.assigned_on <= last,
        or_(Task.created_at < end, Task.source_key.is_not(None)),  # a ledger imported later: its own dates
    )
    by_writing = and_(Task.assigned_on.is_(None), Task.created_at >= start, Task.created_at < end)
    order = (Task.assigned_on, case((~dated, Task.created_at)), Task.id)  # each kind by its own date, then id
    found = (
        select(
            Task.code,
            Task.title,
            Unit.name,
            Task.assigned_on,
            Task.created_at,
            Task.id,
            func.count().over(partition_by=kind).label("total"),
            func.row_number().over(partition_by=kind, order_by=order).label("place"),
        )
        .select_from(Task.__table__.outerjoin(Unit, Unit.id == Task.unit_id))  # tasks first: see _tasks_where
        .where(or_(by_date, by_writing), *_scoped(scope, Task))
        .subquery()
    )
    query = select(found).order_by(found.c.assigned_on, found.c.created_at, found.c.id)
    if limit is not None:
        query = query.where(found.c.place <= max(limit, 1))  # one row at least: it carries its kind's total
    totals: dict[bool, int] = {}
    rows: list[PeriodRow] = []
    for code, title, unit, assigned_on, created_at, _id, total, place in conn.execute(query):
        totals[assigned_on is not None] = int(total)
        if limit is None or place <= limit:
            rows.append(PeriodRow(code, title, unit, assigned_on or created_at, None, None))
    return rows, sum(totals.values())


def period_events(
    conn: Connection,
    kind: str,
    rules: StateRules,
    start: datetime,
    end: datetime,
    scope: Scope,
    limit: int | None,
    extension_trigger: str = "grant_extension",
    days: tuple[date, date] | None = None,
) -> tuple[list[PeriodRow], int]:
    """Tasks new, closed or given more time within [start, end): up to ``limit`` rows, and how many in all.

    ``days`` are the period's first and last day in the zone. New means assigned in the period: the
    交办日期 where the task has one, else the day it was written. Closed means a closing event in the
    period, except an import's: an imported task closed when its ledger said (closed_on), and one
    whose ledger gave no date did not close in any period the circular can name. A ledger imported
    after the period counts by its own dates, as the totals do (see asof.py).
    """
    first, last = days if days is not None else (start.date(), (end - timedelta(microseconds=1)).date())
    parts: list[Select[*tuple[Any, ...]]]
    if kind == "new":
        return _new_tasks(conn, scope, first, last, start, end, limit)
    if kind == "closed":
        closing = [pair for pair, bucket in rules.buckets.items() if bucket == "closed"]
        into_closed = _in_states(closing, Task.workflow, Event.to_state)
        moved = and_(into_closed, Event.from_state.is_not(None), Event.from_state != Event.to_state)
        imported = and_(
            imported_rows(Task.source_key),
            _in_states(closing, Task.workflow, Task.state),
            Task.closed_on >= first,
            Task.closed_on <= last,  # a ledger imported later closed its tasks when it says, marked as imported
        )
        parts = [_events_between(start, end, scope, moved), _tasks_where(scope, Task.closed_on, imported)]
    elif kind == "extended":
        parts = [_events_between(start, end, scope, Event.trigger == extension_trigger)]
    else:  # pragma: no cover - a programming error
        raise ValueError(kind)
    total = 0
    rows: list[PeriodRow] = []
    for query in parts:
        if limit is not None:
            query = query.limit(max(limit, 1))  # one row at least: it carries the total
        got = conn.execute(query).all()
        total += int(got[0][6]) if got else 0
        rows += [PeriodRow(r[0], r[1], r[2], r[3], r[4], r[5]) for r in got[:limit]]
    return rows, total


def state_rules(specs: Sequence[Any]) -> StateRules:
    """From the workflow definitions: each state's circular column and its deadline clock."""
    buckets: dict[tuple[str, str], str] = {}
    runs: set[tuple[str, str]] = set()
    for spec in specs:
        for key, state in spec.states.items():
            buckets[(spec.name, key)] = state.report  # 未签收 is the YAML's not_started, as every column
            if state.clock and not state.final:
                runs.add((spec.name, key))
    return StateRules(buckets, runs)


__all__ = [
    "Scope",
    "Source",
    "StateRules",
    "as_of_source",
    "circular_pass",
    "circular_pass_query",
    "current_source",
    "imported_before",
    "imports_after",
    "overdue_tasks",
    "pair_source",
    "period_events",
    "scoped_filter",
    "state_rules",
    "suspended_tasks",
    "tally",
    "tally_pair",
    "tally_pair_query",
]


class ReportReads:
    """A circular's queries on one unit of work's connection (the functions above, for the services)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def as_of_source(self, at: datetime, imported: ImportedBefore | None = None) -> Source:
        return as_of_source(self._conn, at, imported)

    def pair_source(self, at: datetime | None, before: datetime) -> PairSource:
        return pair_source(self._conn, at, before)

    def imported_since(self, at: datetime) -> bool:
        return imported_since(self._conn, at)

    def imports_after(self, at: datetime, day: date, scope: Scope) -> list[ImportBatch]:
        return imports_after(self._conn, at, day, scope)

    def tally(
        self, rules: StateRules, src: Source, scope: Scope, as_of: date, tz: ZoneInfo, *, breakdowns: bool = True
    ) -> list[TallyRow]:
        return tally(self._conn, rules, src, scope, as_of, tz, breakdowns=breakdowns)

    def tally_pair(
        self, rules: StateRules, src: PairSource, scope: Scope, as_of: date, prev_as_of: date, tz: ZoneInfo
    ) -> tuple[list[TallyRow], list[TallyRow]]:
        return tally_pair(self._conn, rules, src, scope, as_of, prev_as_of, tz)

    def circular_pass(
        self,
        rules: StateRules,
        src: PairSource,
        scope: Scope,
        as_of: date,
        prev_as_of: date,
        tz: ZoneInfo,
        until: datetime,
        limit: int | None,
    ) -> CircularPass:
        return circular_pass(self._conn, rules, src, scope, as_of, prev_as_of, tz, until, limit)

    def overdue_tasks(
        self, rules: StateRules, src: Source, scope: Scope, as_of: date, limit: int | None
    ) -> list[OverdueRow]:
        return overdue_tasks(self._conn, rules, src, scope, as_of, limit)

    def suspended_tasks(
        self, rules: StateRules, src: Source, scope: Scope, until: datetime, limit: int | None
    ) -> list[SuspendedRow]:
        return suspended_tasks(self._conn, rules, src, scope, until, limit)

    def period_events(
        self,
        kind: str,
        rules: StateRules,
        start: datetime,
        end: datetime,
        scope: Scope,
        limit: int | None,
        extension_trigger: str = "grant_extension",
        days: tuple[date, date] | None = None,
    ) -> tuple[list[PeriodRow], int]:
        return period_events(self._conn, kind, rules, start, end, scope, limit, extension_trigger, days)
