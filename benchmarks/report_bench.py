"""The circular over a million tasks and four million events, beside hand-written SQL on the driver.

Populates n tasks over 50 units with a history of about four events each
(assign, start, submit or progress, close…), spread over a year, written
straight into the tables. Then, in the same run:

- report now: ``build_report`` for today (figures from the tasks table, the
  previous week rebuilt from events, overdue tasks named, period lists),
  against the driver running hand-written SQL for the same figures; and the
  figures alone (``tally``: per unit, category, campaign and state, with the
  overdue and on-time sums) against the plainest ``GROUP BY unit_id, state``.
- report as of a past day: ``build_report(as_of=…)`` against the driver's
  plain as-of GROUP BY (each task's latest event up to that day, counted per
  unit and state), at a day a week back and at a day half a year back.

- the as-of report against the same SQL: duban's own one statement for the
  circular's as-of reads (``circular_pass_query``: both periods' figures and the
  overdue, suspended and co-unit lists from one pass), run once and not folded;
  and against the figures' GROUP BY alone (``tally_pair_query``), the stricter
  baseline the issue first measured against. Rounds alternate the three; medians.

Peak Python memory (tracemalloc) is taken in a second, traced run at each size.

    python benchmarks/report_bench.py [--sizes 100000 1000000] [--no-pg]
"""

from __future__ import annotations

import hashlib
import itertools
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.scratch import sizes_main  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.domain.report import period_ending  # noqa: E402
from duban.engine.persistence.read.report_queries import (  # noqa: E402
    Scope,
    circular_pass_query,
    current_source,
    pair_source,
    state_rules,
    tally_pair_query,
)
from duban.engine.persistence.types import encode_date, encode_instant  # noqa: E402
from duban.engine.services.report import (  # noqa: E402
    MAIN_WORKFLOW,
    NAMED_LIMIT,
    ReportRequest,
    build_report,
    end_of_day,
)
from duban.engine.services.workspace import init_workspace  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
START = NOW - timedelta(days=365)
UNITS = 50
ZONE = ZoneInfo("Asia/Shanghai")
CATEGORIES = ("民生问题", "领导班子问题", "专项整治问题", "作风问题", "党建问题")
CAMPAIGNS = ("2026年主题教育整改", "2026年专项巡察", "2025年巡察回头看")
TASK_COLUMNS = (
    "code", "workflow", "workflow_version", "title", "measures", "fields", "unit_id", "lead_leader_id", "category",
    "campaign", "state", "version", "created_at", "updated_at", "deadline", "original_deadline", "ongoing",
    "deadline_version", "watch_from", "escalation_level", "named_in_circular",
)  # fmt: skip
EVENT_COLUMNS = (
    "task_id", "seq", "trigger", "from_state", "to_state", "actor_id", "at", "deadline", "hash", "chain_seq",
    "chain_hash",
)  # fmt: skip
# The hash columns are filled with stand-ins (a digest per event, a position in generation order): reports never
# read them, and real chains would cost the population minutes; `audit verify` on this data would say so.
PATHS = (  # how far tasks got: (trigger, from, to) after the assignment
    [],
    [("start", "assigned", "in_progress"), ("progress", "in_progress", "in_progress")],
    [
        ("start", "assigned", "in_progress"),
        ("progress", "in_progress", "in_progress"),
        ("remind", "in_progress", "in_progress"),
    ],
    [("start", "assigned", "in_progress"), ("submit", "in_progress", "submitted")],
    [
        ("start", "assigned", "in_progress"),
        ("progress", "in_progress", "in_progress"),
        ("submit", "in_progress", "submitted"),
        ("approve", "submitted", "reviewed"),
    ],
    [
        ("start", "assigned", "in_progress"),
        ("progress", "in_progress", "in_progress"),
        ("submit", "in_progress", "submitted"),
        ("approve", "submitted", "reviewed"),
        ("close", "reviewed", "closed"),
    ],
    [("cancel", "assigned", "cancelled")],
)
WEIGHTS = (10, 20, 10, 10, 10, 38, 2)  # about four events per task on average


_position = itertools.count(1)


def _link() -> tuple[str, int, str]:
    n = next(_position)
    digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    return digest, n, digest


def generate(
    n: int, unit_ids: list[int], version: str, d: str
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    rnd = random.Random(7)
    for i in range(1, n + 1):
        created = START + timedelta(minutes=rnd.randrange(0, 300 * 24 * 60))
        deadline = (created + timedelta(days=rnd.randrange(10, 120))).date()
        path = rnd.choices(PATHS, WEIGHTS)[0]
        at = created
        events = [
            (i, 1, "assign", None, "assigned", "wangjun", encode_instant(at, d), encode_date(deadline, d), *_link())
        ]
        for seq, (trigger, source, dest) in enumerate(path, start=2):
            at = at + timedelta(hours=rnd.randrange(2, 24 * 20))
            if at >= NOW:
                break
            events.append(
                (i, seq, trigger, source, dest, "fenglei", encode_instant(at, d), encode_date(deadline, d), *_link())
            )
        last = events[-1]
        task = (
            f"ZG-2026-{i:07d}", "rectification", version, f"问题{i}", "[]", "{}", unit_ids[i % len(unit_ids)],
            "zhangwei", CATEGORIES[i % len(CATEGORIES)], CAMPAIGNS[i % len(CAMPAIGNS)], last[4], len(events),
            encode_instant(created, d), last[6], encode_date(deadline, d), encode_date(deadline, d), False, 1,
            encode_instant(created, d), 0, False,
        )  # fmt: skip
        yield task, events


def populate(app: App, n: int) -> int:
    d = app.db.dialect
    with app.db.engine.begin() as conn:
        head = conn.execute(text("SELECT id FROM units WHERE name = '社会事务科'")).scalar()
        for k in range(UNITS - 14):
            conn.execute(
                text("INSERT INTO units (name, parent_id) VALUES (:n, :p)"), {"n": f"第{k + 1}网格", "p": head}
            )
        unit_ids = list(conn.execute(text("SELECT id FROM units ORDER BY id")).scalars())
        version = conn.execute(text("SELECT version FROM workflow_versions WHERE name = 'rectification'")).scalar()
    global _position
    with app.db.engine.connect() as conn:  # the stand-in chain continues after what init wrote (its records)
        _position = itertools.count(
            int(conn.execute(text("SELECT seq FROM chain_head WHERE id = 1")).scalar() or 0) + 1
        )
    raw = app.db.engine.raw_connection()
    events_written = 0
    try:
        cur = raw.cursor()
        rows = generate(n, unit_ids, str(version), d)
        if d == "postgresql":  # one COPY at a time per connection: tasks, then the same rows again for events
            with cur.copy(f"COPY tasks (id, {', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
                for task, events in rows:
                    copy.write_row((events[0][0], *task))
            with cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for _task, events in generate(n, unit_ids, str(version), d):
                    for e in events:
                        copy.write_row(e)
                    events_written += len(events)
            cur.execute("SELECT setval(pg_get_serial_sequence('tasks', 'id'), %s)", (n,))
        else:
            cur.execute("BEGIN")
            tmarks, emarks = ", ".join("?" * (len(TASK_COLUMNS) + 1)), ", ".join("?" * len(EVENT_COLUMNS))
            tasks: list[tuple[Any, ...]] = []
            evs: list[tuple[Any, ...]] = []
            for task, events in rows:
                tasks.append((events[0][0], *task))
                evs.extend(events)
                if len(tasks) >= 50_000:
                    cur.executemany(f"INSERT INTO tasks (id, {', '.join(TASK_COLUMNS)}) VALUES ({tmarks})", tasks)
                    cur.executemany(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({emarks})", evs)
                    events_written += len(evs)
                    tasks, evs = [], []
            cur.executemany(f"INSERT INTO tasks (id, {', '.join(TASK_COLUMNS)}) VALUES ({tmarks})", tasks)
            cur.executemany(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({emarks})", evs)
            events_written += len(evs)
        # The head moves to the last stand-in, so the first real step after this appends after it (it used to
        # take a position already written and fail on the UNIQUE constraint).
        cur.execute("SELECT chain_seq, chain_hash FROM events ORDER BY chain_seq DESC LIMIT 1")
        seq, chained = cur.fetchone()
        mark = "?" if d == "sqlite" else "%s"
        cur.execute(f"UPDATE chain_head SET seq = {mark}, hash = {mark} WHERE id = 1", (seq, chained))
        raw.commit()
        cur.execute("ANALYZE" if d == "sqlite" else "ANALYZE tasks")
        if d == "postgresql":
            cur.execute("ANALYZE events")
        raw.commit()
    finally:
        raw.close()
    return events_written


def raw_now(app: App, prev_end: date) -> float:
    """The same figures by hand: counts per unit and state now, per unit and state a week ago, the named lists."""
    d = app.db.dialect
    ph = "?" if d == "sqlite" else "%s"
    today, cut = encode_date(NOW.date(), d), encode_instant(end_of_day(prev_end, ZONE), d)
    week_start = encode_instant(end_of_day(NOW.date() - timedelta(days=7), ZONE), d)
    raw = app.db.engine.raw_connection()
    cur = raw.cursor()
    t0 = time.perf_counter()
    on_time = (
        "updated_at < original_deadline || ' 16:00:00'"
        if d == "sqlite"
        else "updated_at < timezone('Asia/Shanghai', (original_deadline + 1)::timestamp)"
    )
    cur.execute(
        "SELECT unit_id, category, campaign, workflow, state, COUNT(*), "
        f"SUM(CASE WHEN state IN ('assigned', 'in_progress') AND deadline < {ph} THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN original_deadline IS NOT NULL THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN state = 'closed' AND {on_time} THEN 1 ELSE 0 END) "
        "FROM tasks GROUP BY unit_id, category, campaign, workflow, state",
        (today,),
    )
    cur.fetchall()
    cur.execute(AS_OF_SQL.format(ph=ph), (cut, cut, cut))
    cur.fetchall()
    cur.execute(
        f"SELECT code, title, unit_id, deadline FROM tasks WHERE state IN ('assigned', 'in_progress') "
        f"AND deadline < {ph} ORDER BY deadline LIMIT 100",
        (today,),
    )
    cur.fetchall()
    for cond in ("seq = 1", "to_state = 'closed' AND from_state <> to_state", "trigger = 'grant_extension'"):
        cur.execute(f"SELECT COUNT(*) FROM events WHERE at >= {ph} AND {cond}", (week_start,))
        cur.fetchall()
        cur.execute(f"SELECT task_id, at FROM events WHERE at >= {ph} AND {cond} ORDER BY at LIMIT 100", (week_start,))
        cur.fetchall()
    seconds = time.perf_counter() - t0
    raw.close()
    return seconds


# Each task's state at a past instant: unchanged tasks from their row, moved ones from their latest event then.
AS_OF_SQL = (
    "SELECT unit_id, state, COUNT(*) FROM ("
    " SELECT t.unit_id, t.state FROM tasks t WHERE COALESCE(t.updated_at, t.updated_at) <= {ph}"
    " UNION ALL"
    " SELECT t.unit_id, e.to_state FROM tasks t JOIN events e ON e.task_id = t.id AND e.seq ="
    "  (SELECT MAX(seq) FROM events e2 WHERE e2.task_id = t.id AND e2.at <= {ph})"
    " WHERE t.updated_at > {ph}) s GROUP BY unit_id, state"
)
# The plain way: every task's latest event up to the instant, from the events alone.
PLAIN_AS_OF_SQL = (
    "SELECT t.unit_id, e.to_state, COUNT(*) FROM events e"
    " JOIN (SELECT task_id, MAX(seq) AS seq FROM events WHERE at <= {ph} GROUP BY task_id) m"
    " ON m.task_id = e.task_id AND m.seq = e.seq JOIN tasks t ON t.id = e.task_id GROUP BY t.unit_id, e.to_state"
)


def raw_query(app: App, sql: str, params: tuple[Any, ...]) -> float:
    raw = app.db.engine.raw_connection()
    cur = raw.cursor()
    t0 = time.perf_counter()
    cur.execute(sql, params)
    cur.fetchall()
    seconds = time.perf_counter() - t0
    raw.close()
    return seconds


def same_sql(app: App, day: date, figures_only: bool = False) -> float:
    """duban's own as-of statement for a weekly circular (both periods' figures and the named lists from one
    pass), as ``build_report`` makes it, run once and not folded; ``figures_only``: its GROUP BY alone."""
    prev_end = period_ending("week", day).previous().end
    rules = state_rules(app.registry.specs)
    others = tuple(s.name for s in app.registry.specs if s.name != MAIN_WORKFLOW)
    scope = Scope(not_workflows=others, top_only=True)  # what a circular's default request asks
    with app.db.engine.connect() as conn:
        end = end_of_day(day, ZONE)
        src = pair_source(conn, end, end_of_day(prev_end, ZONE))
        if figures_only:
            query: Any = tally_pair_query(app.db.dialect, rules, src, scope, day, prev_end, ZONE)
        else:
            query = circular_pass_query(app.db.dialect, rules, src, scope, day, prev_end, ZONE, end, NAMED_LIMIT)
        t0 = time.perf_counter()
        conn.execute(query).fetchall()
        return time.perf_counter() - t0


def alternated(fns: dict[str, Callable[[], float]], rounds: int = 5) -> dict[str, float]:
    """Each measure taken ``rounds`` times, one after another in turn (a busy machine weighs on all alike); medians."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(fn())
    return {name: statistics.median(values) for name, values in times.items()}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def peak(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 2**20


def best(fn: Callable[[], float], runs: int = 3) -> float:
    return min(fn() for _ in range(runs))


def measure(app: App) -> dict[str, Any]:
    d = app.db.dialect
    ph = "?" if d == "sqlite" else "%s"
    today = NOW.date()
    rules = state_rules(app.registry.specs)
    week_ago, half_year = today - timedelta(days=7), today - timedelta(days=180)
    out: dict[str, Any] = {}
    out["now_engine_s"] = best(lambda: timed(lambda: build_report(app, ReportRequest()))[0])
    out["now_raw_s"] = best(lambda: raw_now(app, today - timedelta(days=7)))

    def figures() -> None:
        with app.uow(write=False) as uow:
            uow.reports.tally(rules, current_source(), Scope(), today, ZONE)

    out["tally_engine_s"] = best(lambda: timed(figures)[0])
    out["tally_raw_s"] = best(
        lambda: raw_query(
            app,
            "SELECT unit_id, state, COUNT(*), "
            f"SUM(CASE WHEN state IN ('assigned', 'in_progress') AND deadline < {ph} THEN 1 ELSE 0 END) "
            "FROM tasks GROUP BY unit_id, state",
            (encode_date(today, d),),
        )
    )
    for name, day in (("week_ago", week_ago), ("half_year", half_year)):
        cut = encode_instant(end_of_day(day, ZONE), d)
        req = ReportRequest(as_of=day)
        out[f"asof_{name}_plain_raw_s"] = best(lambda c=cut: raw_query(app, PLAIN_AS_OF_SQL.format(ph=ph), (c,)))  # type: ignore[misc]
        out[f"asof_{name}_raw_s"] = best(lambda c=cut: raw_query(app, AS_OF_SQL.format(ph=ph), (c, c, c)))  # type: ignore[misc]
        medians = alternated(
            {
                "engine": lambda r=req: timed(lambda: build_report(app, r))[0],  # type: ignore[misc]
                "same_sql": lambda day=day: same_sql(app, day),  # type: ignore[misc]
                "figures_sql": lambda day=day: same_sql(app, day, figures_only=True),  # type: ignore[misc]
            }
        )
        for part, seconds in medians.items():
            out[f"asof_{name}_{part}_s"] = seconds
    out["peak_now_mib"] = peak(lambda: build_report(app, ReportRequest()))
    out["peak_asof_mib"] = peak(lambda: build_report(app, ReportRequest(as_of=half_year)))
    return out


def run(name: str, make_url: Callable[[], str], drop: Callable[[str], None], sizes: list[int]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for n in sizes:
        url = make_url()
        app = App.build(Settings(database_url=url), clock=FixedClock(NOW))
        init_workspace(app, ORG, single_desk=True)
        t0 = time.perf_counter()
        events = populate(app, n)
        populate_s = time.perf_counter() - t0
        m = measure(app)
        m.update(tasks=n, events=events, populate_s=round(populate_s, 1))
        results[str(n)] = m
        print(
            f"{name:8} {n:>9,} tasks {events:>10,} events | now: engine {m['now_engine_s']:.2f}s raw "
            f"{m['now_raw_s']:.2f}s ({m['now_engine_s'] / m['now_raw_s']:.2f}x); figures {m['tally_engine_s']:.2f}s "
            f"vs GROUP BY {m['tally_raw_s']:.2f}s ({m['tally_engine_s'] / m['tally_raw_s']:.2f}x) | as-of week ago: "
            f"{m['asof_week_ago_engine_s']:.2f}s vs plain {m['asof_week_ago_plain_raw_s']:.2f}s "
            f"({m['asof_week_ago_engine_s'] / m['asof_week_ago_plain_raw_s']:.2f}x) | as-of half a year: "
            f"{m['asof_half_year_engine_s']:.2f}s vs plain {m['asof_half_year_plain_raw_s']:.2f}s "
            f"({m['asof_half_year_engine_s'] / m['asof_half_year_plain_raw_s']:.2f}x) | against the same SQL run "
            f"once: a week {m['asof_week_ago_engine_s'] / m['asof_week_ago_same_sql_s']:.2f}x "
            f"({m['asof_week_ago_same_sql_s']:.2f}s), half a year "
            f"{m['asof_half_year_engine_s'] / m['asof_half_year_same_sql_s']:.2f}x "
            f"({m['asof_half_year_same_sql_s']:.2f}s) | against the figures' GROUP BY alone: a week "
            f"{m['asof_week_ago_engine_s'] / m['asof_week_ago_figures_sql_s']:.2f}x "
            f"({m['asof_week_ago_figures_sql_s']:.2f}s), half a year "
            f"{m['asof_half_year_engine_s'] / m['asof_half_year_figures_sql_s']:.2f}x "
            f"({m['asof_half_year_figures_sql_s']:.2f}s) | populate {populate_s:.0f}s | peak "
            f"{m['peak_now_mib']:.1f}/{m['peak_asof_mib']:.1f} MiB",
            flush=True,
        )
        app.close()
        drop(url)
    return results


def main() -> None:
    sizes_main((__doc__ or "").splitlines()[0], "duban-report-bench-", run, "report.json")


if __name__ == "__main__":
    main()
