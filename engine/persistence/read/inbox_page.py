"""The inbox's queries: one urgent page of the tasks a person may act on, and its counts per light.

Why here and not a loop over every open task: a unit of a county holds thousands of open tasks, and
asking the workflow machine about each of them on every page view cost 181 ms at 100,000 tasks. The
machine's rules become SQL (per workflow and state, the relations the person must hold), and each light
is a range of deadlines per workflow and state (a *slice*). A slice is one range of an index in the page's
own order — (workflow, state, deadline, id) for an overseer, led by ``lead_leader_id`` or ``unit_id`` for
a lead leader or a unit (migration 0018) — so the counts are counts of index entries, one aggregate over
all slices, and a page reads at most ``limit + 1`` entries per slice past the keyset (rank, deadline, id)
and merges them. Ranking every row by a CASE and sorting them all, as before, cost 0.3-1.3 s at 100,000
tasks for a leader who leads every task and for the supervision office (issue 12).

The statements are text with :named parameters, run on the unit of work's driver connection: building
a UNION of some forty slices with SQLAlchemy cost more than running it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from ...domain.machine import TaskFacts
from ...domain.visibility import Viewer
from ..codec import decode_date, encode_date
from ..sql import for_dialect
from .ledger_page import LightBand
from .summary_row import SUMMARY_SELECT, SummaryRow, summary_from_driver

FAR = date(9999, 12, 31)  # tasks without a deadline sort after every dated one
RANKS = {"red": 0, "yellow": 1, "green": 2, "none": 3}
RANK_NAMES = {v: k for k, v in RANKS.items()}


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


class _Sql:
    """A statement being written: text with :named parameters (see ``sql.for_dialect``), and their values."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.params: dict[str, object] = {}

    def bind(self, value: object) -> str:
        if isinstance(value, date):
            value = encode_date(value, self.dialect)
        name = f"p{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def each(self, values: Iterable[object]) -> str:
        return ", ".join(self.bind(v) for v in values)


def _relation(q: _Sql, rel: str, viewer: Viewer, units: frozenset[int]) -> str:
    """The SQL form of one relation of ``machine.relations_of``."""
    if rel == "lead_leader":
        return f"t.lead_leader_id = {q.bind(viewer.person_id)}"
    if rel == "responsible_person":
        return f"t.responsible_person_id = {q.bind(viewer.person_id)}"
    if not units:
        return "1 = 0"
    if rel == "responsible_unit":  # their own unit, and any unit they head, as a list: the index takes it
        return f"t.unit_id IN ({q.each(sorted(units))})"
    if rel == "co_unit":  # 牵头/配合: a co-unit whose part still waits for it (signing for or reporting)
        unit_marks = q.each(sorted(units))
        return (
            f"t.id IN (SELECT c.task_id FROM task_co_units c WHERE c.unit_id IN ({unit_marks})"
            " AND c.state IN ('assigned', 'signed'))"
        )
    return "1 = 0"  # a relation this query does not know grants nothing


def _visible(q: _Sql, viewer: Viewer) -> str:
    """``web_store.visible_clause`` as text (``may_see``): each arm of the OR on an index of its own; the unit
    first, so a unit's own rows are settled from the index before the task's row is read."""
    if viewer.sees_all:
        return "1 = 1"
    me = q.bind(viewer.person_id)
    arms = [f"t.lead_leader_id = {me}", f"t.responsible_person_id = {me}"]
    if viewer.unit_id is not None:
        unit_mark = q.bind(viewer.unit_id)
        arms = [
            f"t.unit_id = {unit_mark}",
            f"t.id IN (SELECT v.task_id FROM task_co_units v WHERE v.unit_id = {unit_mark})",
            *arms,
        ]
    return "(" + " OR ".join(arms) + ")"


def units_of(conn: Any, dialect: str, viewer: Viewer) -> frozenset[int]:
    """The units for which ``viewer`` holds the ``responsible_unit`` relation: their own, and those they head."""
    cur = conn.cursor()
    cur.execute(for_dialect("SELECT id FROM units WHERE head_id = :me", dialect), {"me": viewer.person_id})
    headed = [r[0] for r in cur.fetchall()]
    return frozenset({*headed, *([viewer.unit_id] if viewer.unit_id is not None else [])})


def _conditions(grounds: Grounds) -> dict[tuple[str, str], frozenset[frozenset[str]]]:
    """Per workflow state, the sets of relations of which the person must hold one (an empty set: none needed).

    A task counts once however many sets it meets, so the slices are cut per state, never per set."""
    out: dict[tuple[str, str], set[frozenset[str]]] = {}
    for wf, state, rels in grounds.pairs:
        out.setdefault((wf, state), set()).add(rels)
    return {k: frozenset(v) for k, v in out.items()}


# --- slices: one workflow state in one light, read along an index in deadline order -------------------------
#
# Why: ranking every task a person may act on (a CASE per row) and sorting them all cost 0.3-1.3 s at 100,000
# tasks for a leader who leads them all and for the supervision office, whose rows are most of the table. A
# light is a deadline range per workflow and state, so each (workflow, state, light) is one range of the index
# (workflow, state, deadline, id) — or (lead_leader_id, workflow, state, deadline, id) for a lead leader — in
# the page's own order: counting is counting index entries, and a page reads at most ``limit + 1`` entries
# of each slice and merges them. The slices are cut exactly as ``rank_of`` ranks (the first light that takes
# a deadline wins; what no light takes is rank 3), so both give the same counts and the same order.

Span = tuple[date | None, date | None]  # a closed range of deadlines; None: open at that end


@dataclass(frozen=True, slots=True)
class Slice:
    """Tasks of ``workflow`` in ``state`` whose deadline lies in ``span`` (``None``: no deadline), at ``rank``."""

    workflow: str
    state: str
    rank: int
    span: Span | None


def _minus(spans: list[Span], cut: Span) -> list[Span]:
    """``spans`` without the dates of ``cut`` (all closed ranges of days)."""
    out: list[Span] = []
    lo_cut, hi_cut = cut
    for lo, hi in spans:
        if (hi_cut is not None and lo is not None and lo > hi_cut) or (
            lo_cut is not None and hi is not None and hi < lo_cut
        ):
            out.append((lo, hi))  # no overlap
            continue
        if lo_cut is not None and (lo is None or lo < lo_cut):
            out.append((lo, lo_cut - timedelta(days=1)))
        if hi_cut is not None and (hi is None or hi > hi_cut):
            out.append((hi_cut + timedelta(days=1), hi))
    return out


@lru_cache(maxsize=256)
def slices(pairs: tuple[tuple[str, str], ...], lights: Lights, red_only: bool = False) -> tuple[Slice, ...]:
    """Each (workflow, state) cut into the deadline ranges of its lights, tried red, yellow, green as the ledger's
    ``bands_clause`` and ``TaskSummary.light`` decide them: the first light that takes a deadline has it."""
    out: list[Slice] = []
    for wf, state in pairs:
        left: list[Span] = [(None, None)]  # the dates no light has taken yet
        undated = True  # tasks without a deadline, not taken yet
        for rank, bands in enumerate((lights.red, lights.yellow, lights.green)):
            for b in bands:
                if b.workflow != wf or state not in b.states:
                    continue
                out += [Slice(wf, state, rank, part) for span in left for part in _intersect(span, (b.low, b.high))]
                left = _minus(left, (b.low, b.high))
                if b.with_none and undated:
                    out.append(Slice(wf, state, rank, None))
                    undated = False
        out += [Slice(wf, state, 3, s) for s in left]
        if undated:
            out.append(Slice(wf, state, 3, None))
    return tuple(s for s in out if not red_only or s.rank == 0)


def _intersect(a: Span, b: Span) -> list[Span]:
    lo = a[0] if b[0] is None else b[0] if a[0] is None else max(a[0], b[0])
    hi = a[1] if b[1] is None else b[1] if a[1] is None else min(a[1], b[1])
    return [] if lo is not None and hi is not None and lo > hi else [(lo, hi)]


def _in_slice(q: _Sql, s: Slice, walk: bool) -> str:
    """The slice's range; ``walk``: read it along the index in deadline order. Otherwise, on SQLite, ``+`` keeps
    the planner off that index: the person's own tasks (a unit's, a co-unit's) are few, found through their
    own indexes and sorted, where walking every task of the state by deadline would read most of them."""
    plus = "" if walk or q.dialect != "sqlite" else "+"
    where = f"{plus}t.workflow = {q.bind(s.workflow)} AND t.state = {q.bind(s.state)}"
    if s.span is None:
        return where + " AND t.deadline IS NULL"
    where += " AND t.deadline IS NOT NULL"
    if s.span[0] is not None:
        where += f" AND t.deadline >= {q.bind(s.span[0])}"
    if s.span[1] is not None:
        where += f" AND t.deadline <= {q.bind(s.span[1])}"
    return where


UNIT_RELATIONS = frozenset({"responsible_unit", "co_unit"})  # the relations that read ``Grounds.units``
WALKED = frozenset({frozenset(), frozenset({"lead_leader"}), frozenset({"responsible_unit"})})


# An arm of a slice, as counted: who, where they hold the unit relation, the slice, the sets of relations
# of its state and the one this arm takes. Two arms with the same key count the same rows.
ArmKey = tuple[Viewer, frozenset[int], Slice, frozenset[frozenset[str]], frozenset[str]]


def _sliced(q: _Sql, viewer: Viewer, grounds: Grounds, lights: Lights, red_only: bool) -> list[tuple[ArmKey, str]]:
    """The slices of ``grounds`` with what the person must meet there (visibility included), as SQL.

    A state where several sets of relations would do gives one arm per set, each without the rows of the
    arms before it (``IS NOT TRUE``: a NULL column meets no relation), so a task is counted once and each
    arm stays a range of one index: a unit's own tasks, and apart from them its co-unit parts."""
    conds = _conditions(grounds)
    seen = _visible(q, viewer)
    made: dict[frozenset[frozenset[str]], list[tuple[frozenset[str], str]]] = {}
    out = []
    for s in slices(tuple(sorted(conds)), lights, red_only):
        sets = conds[(s.workflow, s.state)]
        if sets not in made:
            ordered = [frozenset()] if frozenset() in sets else sorted(sets, key=lambda r: (len(r), sorted(r)))
            arms_of: list[tuple[frozenset[str], str]] = []
            earlier: list[str] = []
            for rels in ordered:
                this = " AND ".join(_relation(q, r, viewer, grounds.units) for r in sorted(rels)) or "1 = 1"
                arms_of.append((rels, " AND ".join([seen, this, *(f"({e}) IS NOT TRUE" for e in earlier)])))
                earlier.append(this)
            made[sets] = arms_of
        for rels, where in made[sets]:
            # dense in the index's range: every task of the state (an overseer), a lead leader's, a unit's own
            walk = rels in WALKED and (viewer.sees_all or bool(rels))
            units = grounds.units if any(r in UNIT_RELATIONS for rs in sets for r in rs) else frozenset()
            out.append(((viewer, units, s, sets, rels), f"{where} AND {_in_slice(q, s, walk)}"))
    return out


Statement = tuple[str, dict[str, object]]


# The statements are kept per (person, grounds, lights, …): the same person's pages repeat them all day, and
# writing one cost about as much as SQLite's counting a unit's slices (the lights change once a day).
@lru_cache(maxsize=512)
def counts_statement(
    dialect: str,
    viewer: Viewer,
    grounds: Grounds,
    lights: Lights,
    red_only: bool = False,
    known: frozenset[ArmKey] = frozenset(),
) -> tuple[Statement | None, tuple[ArmKey, ...], tuple[ArmKey, ...]]:
    """How many tasks the person may act on, per arm of each slice: a count of index entries each.

    Returns the statement (rows: the arm's position among the new keys, its count; None if every arm is
    ``known``), the keys it counts, and every key of ``grounds`` (whose slices give the ranks)."""
    q = _Sql(dialect)
    every: list[ArmKey] = []
    new: list[ArmKey] = []
    arms: list[str] = []
    for key, where_marked in _sliced(q, viewer, grounds, lights, red_only):
        every.append(key)
        if key in known:
            continue
        arm_mark = q.bind(len(new))
        arms.append(f"SELECT {arm_mark} AS arm, COUNT(*) AS n FROM tasks t WHERE {where_marked}")
        new.append(key)
    return ((" UNION ALL ".join(arms), q.params) if arms else None), tuple(new), tuple(every)


@lru_cache(maxsize=256)
def capped_count_statement(
    dialect: str, viewer: Viewer, grounds: Grounds, lights: Lights, red_only: bool, cap: int
) -> Statement | None:
    """How many tasks of ``grounds`` there are (red only, if asked), but never more than ``cap + 1``: the arms are
    read in turn and the reading stops at ``cap + 1`` entries, where counting every overdue task of a county
    read all of them (38,000 index entries, 2 ms of a 6 ms inbox, for a leader who leads 100,000 tasks)."""
    q = _Sql(dialect)
    sliced = _sliced(q, viewer, grounds, lights, red_only)
    arms = [f"SELECT 1 AS one FROM tasks t WHERE {where_marked}" for _key, where_marked in sliced]
    if not arms:
        return None
    cap_mark = q.bind(cap + 1)
    return f"SELECT COUNT(*) FROM ({' UNION ALL '.join(arms)} LIMIT {cap_mark}) c", q.params


PAGE_COLUMNS = (
    "t.id, t.code, t.workflow, t.version, t.state, t.unit_id, t.lead_leader_id, t.responsible_person_id, t.deadline"
)


@lru_cache(maxsize=512)
def page_statement(
    dialect: str,
    viewer: Viewer,
    grounds: Grounds,
    lights: Lights,
    *,
    limit: int,
    after: tuple[int, date, int] | None = None,
    red_only: bool = False,
    needless: frozenset[ArmKey] = frozenset(),
) -> Statement:
    """Up to ``limit + 1`` tasks in the page's order (rank, deadline with none last, id), past ``after``.

    Each slice gives its first ``limit + 1`` rows past the cursor along its index; the outer query merges
    them and keeps the first ``limit + 1``. The arms in ``needless`` are left out (see ``needless_arms``)."""
    q = _Sql(dialect)
    arms: list[str] = []
    limit_mark = q.bind(limit + 1)
    for key, where_marked in _sliced(q, viewer, grounds, lights, red_only):
        if key in needless:
            continue
        s = key[2]
        if after is not None:
            rank, due, tid = after
            if s.rank < rank:
                continue
            if s.rank == rank:
                if s.span is None:  # no deadline sorts as FAR
                    if due > FAR:
                        continue
                    if due == FAR:
                        where_marked += f" AND t.id > {q.bind(tid)}"
                else:
                    where_marked += f" AND (t.deadline, t.id) > ({q.bind(due)}, {q.bind(tid)})"
        cols = "t.id" if s.span is None else "t.deadline, t.id"  # the slice's index order
        rank_mark = q.bind(s.rank)
        arms.append(
            f"SELECT * FROM (SELECT {PAGE_COLUMNS}, {rank_mark} AS rank FROM tasks t WHERE {where_marked}"
            f" ORDER BY {cols} LIMIT {limit_mark}) s{len(arms)}"
        )
    if not arms:
        return f"SELECT {PAGE_COLUMNS}, NULL, 0 FROM tasks t WHERE 1 = 0", {}
    far_mark = q.bind(FAR)
    return (
        "SELECT p.id, p.code, p.workflow, p.version, p.state, p.unit_id, u.head_id, p.lead_leader_id,"
        f" p.responsible_person_id, p.deadline, p.rank FROM ({' UNION ALL '.join(arms)}) p"
        f" JOIN units u ON u.id = p.unit_id ORDER BY p.rank, COALESCE(p.deadline, {far_mark}), p.id"
        f" LIMIT {limit_mark}",
        q.params,
    )


def needless_arms(
    keys: tuple[ArmKey, ...], tallies: dict[ArmKey, int], limit: int, after: tuple[int, date, int] | None
) -> frozenset[ArmKey]:
    """The arms a page cannot draw from, once they are counted: the empty ones, and those of every rank after
    the ranks that already hold a page past the cursor's rank (whose own count includes rows before the
    cursor, so it is never relied on). A unit's page then reads its red slices only, not forty indexes."""
    if any(k not in tallies for k in keys):
        return frozenset()
    from_rank = -1 if after is None else after[0]
    out = {k for k in keys if tallies[k] == 0}
    held = 0
    for rank in sorted({k[2].rank for k in keys}):
        if held > limit:
            out.update(k for k in keys if k[2].rank == rank)
        elif rank > from_rank:
            held += sum(tallies[k] for k in keys if k[2].rank == rank)
    return frozenset(out)


class InboxReads:
    """The inbox's queries on one unit of work's driver connection."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._serial = dialect != "postgresql"
        # Counts already taken in this transaction, per arm: the approval queue's slices are the to-do list's,
        # each is counted once. (The overdue heading's capped count, ``capped_count_statement``, keeps none.)
        self._tallies: dict[ArmKey, int] = {}

    def _run(self, statement: Statement) -> list[Any]:
        cur = self._conn.cursor()
        if not self._serial:
            # A slice's count is a few milliseconds of one index; PostgreSQL planned the union of them in
            # parallel, and starting the workers cost more than the counting (17-27 ms of 28 at 100,000
            # tasks). A page is one request among many: it runs in its own process. For this transaction only.
            cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            self._serial = True
        cur.execute(for_dialect(statement[0], self._dialect), statement[1])
        return list(cur.fetchall())

    def units_of(self, viewer: Viewer) -> frozenset[int]:
        return units_of(self._conn, self._dialect, viewer)

    def _counted(self, viewer: Viewer, grounds: Grounds, lights: Lights, red_only: bool) -> list[tuple[int, int]]:
        """(rank, count) per arm of ``grounds``: one statement for the arms not yet counted."""
        known = frozenset(self._tallies)
        statement, new, every = counts_statement(self._dialect, viewer, grounds, lights, red_only, known)
        if statement is not None:
            for arm, n in self._run(statement):
                self._tallies[new[int(arm)]] = int(n)
        return [(key[2].rank, self._tallies[key]) for key in every]

    def counts_by_light(self, viewer: Viewer, grounds: Grounds, lights: Lights) -> dict[str, int]:
        """How many tasks the person may act on, per light, counted over index ranges."""
        out: dict[str, int] = {}
        for rank, n in self._counted(viewer, grounds, lights, False):
            if n:
                name = RANK_NAMES[rank]
                out[name] = out.get(name, 0) + n
        return out

    def count_red(self, viewer: Viewer, grounds: Grounds, lights: Lights, cap: int | None = None) -> int:
        """How many tasks of ``grounds`` are red (the overdue count), or with ``cap``, at most ``cap + 1``."""
        if cap is None:
            return sum(n for _rank, n in self._counted(viewer, grounds, lights, True))
        statement = capped_count_statement(self._dialect, viewer, grounds, lights, True, cap)
        return 0 if statement is None else int(self._run(statement)[0][0])

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
        """Up to ``limit + 1`` tasks the person may act on, red first, then by deadline: the caller shows ``limit``."""
        every = counts_statement(self._dialect, viewer, grounds, lights, red_only, frozenset(self._tallies))[2]
        needless = needless_arms(every, self._tallies, limit, after)
        rows = self._run(
            page_statement(
                self._dialect, viewer, grounds, lights, limit=limit, after=after, red_only=red_only, needless=needless
            )
        )
        return [
            UrgentRow(
                tid,
                code,
                workflow,
                int(version),
                int(rank),
                decode_date(deadline),
                TaskFacts(code, state, unit_id, head_id, lead_id, person_id),
            )
            for tid, code, workflow, version, state, unit_id, head_id, lead_id, person_id, deadline, rank in rows
        ]

    def summaries(self, ids: Sequence[int]) -> list[SummaryRow]:
        """The list's rows of the tasks shown (lights, days left, names), in no particular order."""
        if not ids:
            return []
        q = _Sql(self._dialect)
        marks = q.each(ids)
        return [summary_from_driver(r) for r in self._run((SUMMARY_SELECT + f" WHERE t.id IN ({marks})", q.params))]
