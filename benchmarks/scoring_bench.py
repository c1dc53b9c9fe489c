"""Scoring (考核评分) a million tasks and their events as of a past date, beside a raw SQL aggregate of the same figures.

Populates the ledger as ``report_bench.py`` does (n tasks over 50 units, about four events each over a
year, straight into the tables), adds one return at review (``reject``) to a task in twenty, then, in the
same run and on the same data, at a day a week back and at a day half a year back:

- engine: ``unit_scores`` with the built-in policy: each task's state and deadline then (the same as-of
  sources as the circular), its returns and late progress reports counted by the database up to that
  instant, then per task in Python: working days overdue on the statutory calendar, the escalation level
  reached, the weights, the items, the caps, the bands and the ranks;
- raw: one hand-written SQL statement on the driver that aggregates the same figures per unit (closed on
  time, days overdue, returns, late and missing reports) from the same as-of rebuild and the same window
  over the events, with no per-task work outside the database (calendar days, not working days: SQL
  has no statutory calendar).

The engine's counts of closed-on-time tasks, returns and late reports are checked against the raw
aggregate's before anything is timed.

    python benchmarks/scoring_bench.py [--sizes 100000 1000000] [--no-pg] [--no-sqlite]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.report_bench import NOW, ORG, ZONE, populate  # noqa: E402
from benchmarks.scratch import sizes_main  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.persistence.asof import moved_share  # noqa: E402
from duban.engine.persistence.read.report_queries import MOVED_SHARE_FOR_EVENTS  # noqa: E402
from duban.engine.persistence.types import encode_date, encode_instant  # noqa: E402
from duban.engine.services.report import end_of_day  # noqa: E402
from duban.engine.services.scoring import policy_for, task_facts, unit_scores  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402

AFTER_DAYS = 14  # the built-in policy's late_progress.after_days


def add_returns(app: App) -> int:
    """Turn the 'submit' event of one task in twenty into a return at review: the sent_back rule has work.

    The data is throw-away, so the append-only guard is taken off for it (the chain is not valid here anyway).
    """
    with app.db.engine.begin() as conn:
        if app.db.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER events_append_only_update")
        else:
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
        return conn.execute(
            text("UPDATE events SET trigger = 'reject' WHERE trigger = 'submit' AND task_id % 20 = 0")
        ).rowcount


def raw_sql(dialect: str, from_events: bool) -> str:
    """Per unit: closed on time, days overdue, returns, late reports, missing reports; the as-of rebuild inline."""
    ph = "?" if dialect == "sqlite" else "%s"
    if from_events:
        ledger = (
            "SELECT t.id AS task_id, t.unit_id, e.to_state AS state, e.deadline, t.original_deadline, e.at FROM events e"
            f" JOIN (SELECT task_id, MAX(seq) AS seq FROM events WHERE at <= {ph} GROUP BY task_id) m"
            " ON m.task_id = e.task_id AND m.seq = e.seq JOIN tasks t ON t.id = e.task_id"
        )
        ledger_params = 1
    else:
        ledger = (
            "SELECT t.id AS task_id, t.unit_id, t.state, t.deadline, t.original_deadline, t.updated_at AS at"
            f" FROM tasks t WHERE COALESCE(t.updated_at, t.updated_at) <= {ph}"
            " UNION ALL SELECT t.id, t.unit_id, e.to_state, e.deadline, t.original_deadline, e.at"
            " FROM tasks t JOIN events e ON e.task_id = t.id AND e.seq ="
            f" (SELECT MAX(seq) FROM events e2 WHERE e2.task_id = t.id AND e2.at <= {ph}) WHERE t.updated_at > {ph}"
        )
        ledger_params = 3
    if dialect == "sqlite":
        gap = f"julianday(at) - julianday(before) > {AFTER_DAYS}"
        on_time = "l.at < l.original_deadline || ' 16:00:00'"
        days = f"julianday({ph}) - julianday(l.deadline)"
        silent = f"julianday({ph}) - julianday(p.last_report) > {AFTER_DAYS}"
    else:
        gap = f"at - before > interval '{AFTER_DAYS} days'"
        on_time = "l.at < timezone('Asia/Shanghai', (l.original_deadline + 1)::timestamp)"
        days = f"(CAST({ph} AS date) - l.deadline)"
        silent = f"CAST({ph} AS timestamptz) - p.last_report > interval '{AFTER_DAYS} days'"
    returned = "CASE WHEN trigger = 'reject' THEN 1 ELSE 0 END"
    sql = (
        f"WITH ledger AS ({ledger}),"
        f" steps AS (SELECT task_id, {returned} AS returned, at,"
        f" LAG(at) OVER (PARTITION BY task_id, {returned} ORDER BY seq) AS before FROM events"
        f" WHERE at <= {ph} AND (trigger IN ('reject', 'progress') OR seq = 1)),"
        " per_task AS (SELECT task_id, SUM(returned) AS sent_back,"
        f" SUM(CASE WHEN returned = 0 AND before IS NOT NULL AND {gap} THEN 1 ELSE 0 END) AS late,"
        " MAX(CASE WHEN returned = 0 THEN at END) AS last_report FROM steps GROUP BY task_id)"
        " SELECT l.unit_id,"
        f" SUM(CASE WHEN l.state = 'closed' AND {on_time} THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN l.state IN ('assigned', 'in_progress') AND l.deadline < {ph} THEN {days} ELSE 0 END),"
        " SUM(COALESCE(p.sent_back, 0)), SUM(COALESCE(p.late, 0)),"
        f" SUM(CASE WHEN l.state IN ('assigned', 'in_progress') AND {silent} THEN 1 ELSE 0 END)"
        " FROM ledger l LEFT JOIN per_task p ON p.task_id = l.task_id GROUP BY l.unit_id"
    )
    return sql + f"-- {ledger_params}"


def raw_params(sql: str, cut: object, day: object) -> tuple[Any, ...]:
    ledger_params = int(sql.rsplit("-- ", 1)[1])
    return (*([cut] * ledger_params), cut, day, day, cut)


def raw_run(app: App, sql: str, params: tuple[Any, ...]) -> tuple[float, list[Any]]:
    raw = app.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        t0 = time.perf_counter()
        cur.execute(sql.rsplit("-- ", 1)[0], params)
        rows = cur.fetchall()
        return time.perf_counter() - t0, rows
    finally:
        raw.close()


def best(fn: Callable[[], float], runs: int = 3) -> float:
    return min(fn() for _ in range(runs))


def measure(app: App) -> dict[str, Any]:
    d = app.db.dialect
    today = NOW.astimezone(ZONE).date()
    policy = policy_for(app, None)
    out: dict[str, Any] = {}
    for name, day in (("week_ago", today - timedelta(days=7)), ("half_year", today - timedelta(days=180))):
        cut = end_of_day(day, ZONE)
        with app.db.engine.connect() as conn:
            from_events = moved_share(conn, cut) > MOVED_SHARE_FOR_EVENTS  # the engine's own choice
        sql = raw_sql(d, from_events)
        params = raw_params(sql, encode_instant(cut, d), encode_date(day, d))
        _s, rows = raw_run(app, sql, params)
        raw_totals = (sum(int(r[1]) for r in rows), sum(int(r[3]) for r in rows), sum(int(r[4] + r[5]) for r in rows))
        with app.uow(write=False) as uow:
            facts = list(task_facts(app, uow, policy, None, None, day, today))
        engine_totals = (
            sum(f.closed_on_time for f in facts),
            sum(f.sent_back for f in facts),
            sum(f.late_reports for f in facts),
        )
        assert engine_totals == raw_totals, (name, engine_totals, raw_totals)

        def engine(day: date = day) -> float:
            t0 = time.perf_counter()
            with app.uow(write=False) as uow:
                unit_scores(app, uow, policy, None, None, day, today)
            return time.perf_counter() - t0

        out[f"{name}_engine_s"] = best(engine)
        out[f"{name}_raw_s"] = best(lambda sql=sql, params=params: raw_run(app, sql, params)[0])  # type: ignore[misc]
        out[f"{name}_from_events"] = from_events
        out[f"{name}_figures"] = dict(zip(("closed_on_time", "sent_back", "late_reports"), engine_totals, strict=True))
    return out


def run(name: str, make_url: Callable[[], str], drop: Callable[[str], None], sizes: list[int]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for n in sizes:
        url = make_url()
        app = App.build(Settings(database_url=url), clock=FixedClock(NOW))
        init_workspace(app, ORG, single_desk=True)
        t0 = time.perf_counter()
        events = populate(app, n)
        returns = add_returns(app)
        populate_s = time.perf_counter() - t0
        m = measure(app)
        m.update(tasks=n, events=events, returns=returns, populate_s=round(populate_s, 1))
        results[str(n)] = m
        print(
            f"{name:8} {n:>9,} tasks {events:>10,} events | as of a week ago: engine {m['week_ago_engine_s']:.2f}s "
            f"raw {m['week_ago_raw_s']:.2f}s ({m['week_ago_engine_s'] / m['week_ago_raw_s']:.2f}x) | as of half a "
            f"year: engine {m['half_year_engine_s']:.2f}s raw {m['half_year_raw_s']:.2f}s "
            f"({m['half_year_engine_s'] / m['half_year_raw_s']:.2f}x) | populate {populate_s:.0f}s",
            flush=True,
        )
        app.close()
        drop(url)
    return results


def main() -> None:
    sizes_main((__doc__ or "").splitlines()[0], "duban-scoring-bench-", run, "scoring.json")


if __name__ == "__main__":
    main()
