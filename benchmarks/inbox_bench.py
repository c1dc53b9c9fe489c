"""我的待办 per role on n tasks (SQLite), beside the very same SQL run by hand on the driver in the same run.

The tasks are written straight into the tables by report_bench's population (50 units, all led by zhangwei;
about four events each), with a pending extension request on one task in a hundred. For each role the
service call ``inbox(app, person)`` is measured (first page: counts per light, the urgent page, the approval
queue, pending extensions and decisions, the overdue list of a supervisor or a leader, stand-ins), and against it the raw baseline: every
statement that call ran, captured once from the driver (SQLite's trace, values inlined) and replayed on a
plain ``sqlite3`` connection (BEGIN, each statement fetched whole, ROLLBACK), with no Python assembly. Rounds
alternate the two sides, so a change in the machine's load touches both alike; p50/p95 per side, the ratio
is service p50 / raw p50, and the CPU time per call of each side is given too.

    python benchmarks/inbox_bench.py                 # 100,000 tasks
    python benchmarks/inbox_bench.py --quick         # 5,000 tasks: a smoke run
    python benchmarks/inbox_bench.py --n 1000000     # by hand: populating takes minutes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.report_bench import NOW, populate  # noqa: E402
from benchmarks.scratch import Scratch  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.services.inbox import inbox  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
ROLES = {  # examples/org.yaml
    "leader of all (zhangwei)": "zhangwei",  # leads every task of the population
    "leader of none (wangjun)": "wangjun",
    "supervisor (huangtao)": "huangtao",  # 督查室: unit head and supervisor
    "unit head (fenglei)": "fenglei",  # 社会事务科: 1/50 of the tasks
    "unit member (hejuan)": "hejuan",
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def workspace(n: int, scratch: Scratch) -> tuple[App, str]:
    db = scratch.sqlite("inbox")
    app = App.build(Settings(database_url=db), clock=FixedClock(NOW))
    init_workspace(app, ORG, single_desk=True)
    populate(app, n)
    with app.db.engine.begin() as conn:  # a pending extension request on one open task in a hundred
        conn.execute(
            text(
                "INSERT INTO extension_requests (task_id, requested_by, requested_at, current_deadline,"
                " requested_deadline, reason, status) SELECT id, 'fenglei', updated_at, deadline, '2027-06-30',"
                " '资金未到位', 'pending' FROM tasks WHERE id % 100 = 7 AND state IN ('assigned', 'in_progress')"
            )
        )
    return app, db


def captured(app: App, person: str) -> list[str]:
    """Every statement one inbox call runs, with its values inlined (SQLite's trace of the driver)."""
    seen: list[str] = []
    original = app.db.checkout

    def checkout() -> Any:
        conn = original()
        conn.set_trace_callback(seen.append)
        return conn

    app.db.checkout = checkout  # type: ignore[method-assign]
    try:
        inbox(app, person)
    finally:
        app.db.checkout = original  # type: ignore[method-assign]
        for conn in list(getattr(app.db, "_idle", [])):
            conn.set_trace_callback(None)
    return [s for s in seen if s.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]


def replayable(raw: sqlite3.Connection, statements: list[str]) -> tuple[list[str], int]:
    """The statements that replay as traced, and how many do not: SQLite inlines a bound ``ORDER BY ?`` as a
    column position (the code before this branch ranked its overdue list so); those are left out and counted."""
    ok = []
    for s in statements:
        try:
            raw.execute(s).fetchall()
            ok.append(s)
        except sqlite3.OperationalError:
            pass
    return ok, len(statements) - len(ok)


def replay(raw: sqlite3.Connection, statements: list[str]) -> None:
    raw.execute("BEGIN")
    for s in statements:
        raw.execute(s).fetchall()
    raw.execute("ROLLBACK")


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    c, t = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="5,000 tasks, fewer rounds")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=10, help="calls per side per round")
    args = parser.parse_args()
    n = 5_000 if args.quick else args.n
    rounds = 3 if args.quick else args.rounds
    scratch = Scratch("", "duban-inbox-bench-")
    t0 = time.perf_counter()
    app, db = workspace(n, scratch)
    populated = time.perf_counter() - t0
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("PRAGMA cache_size = -32768")
    raw.execute(f"PRAGMA mmap_size = {256 * 1024 * 1024}")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "n": n,
        "populate_s": round(populated, 1),
        "load_before": os.getloadavg(),
        "roles": {},
    }
    print(f"{n:,} tasks (populated in {populated:.1f} s), {rounds} alternated rounds of {args.calls} calls a side")
    print(f"{'role':<28} {'service p50/p95 ms':>19} {'raw p50/p95 ms':>16} {'ratio':>6} {'CPU ratio':>9} stmts")
    for label, person in ROLES.items():
        statements, dropped = replayable(raw, captured(app, person))
        box = inbox(app, person)
        engine: list[float] = []
        base: list[float] = []
        cpu_e: list[float] = []
        cpu_b: list[float] = []
        for _ in range(rounds):
            for _ in range(args.calls):
                wall, cpu = timed(lambda person=person: inbox(app, person))  # type: ignore[misc]
                engine.append(wall)
                cpu_e.append(cpu)
            for _ in range(args.calls):
                wall, cpu = timed(lambda statements=statements: replay(raw, statements))  # type: ignore[misc]
                base.append(wall)
                cpu_b.append(cpu)
        (e50, e95), (b50, b95) = percentiles(engine), percentiles(base)
        ratio, cpu_ratio = e50 / b50, statistics.median(cpu_e) / max(statistics.median(cpu_b), 1e-9)
        print(
            f"{label:<28} {e50 * 1e3:>9.1f} / {e95 * 1e3:<7.1f} {b50 * 1e3:>7.1f} / {b95 * 1e3:<6.1f}"
            f" {ratio:>5.2f}x {cpu_ratio:>8.2f}x {len(statements):>5}" + (f" ({dropped} left out)" if dropped else "")
        )
        results["roles"][label] = {
            "person": person,
            "service_p50_ms": round(e50 * 1e3, 2),
            "service_p95_ms": round(e95 * 1e3, 2),
            "raw_p50_ms": round(b50 * 1e3, 2),
            "raw_p95_ms": round(b95 * 1e3, 2),
            "ratio_p50": round(ratio, 2),
            "cpu_ratio": round(cpu_ratio, 2),
            "statements": len(statements),
            "statements_left_out": dropped,
            "todo_total": box.todo_total,
            "counts": box.counts,
            "approvals_total": box.approvals_total,
            "overdue_total": box.overdue_total,
            "extensions": len(box.extensions),
        }
    results["load_after"] = os.getloadavg()
    print(f"load average before / after: {results['load_before']} / {results['load_after']}")
    raw.close()
    app.close()
    scratch.drop(db)
    shutil.rmtree(scratch.folder, ignore_errors=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"inbox_bench_{n}_{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
