"""The deadline sweep over many open tasks of which a few are due, beside a raw-driver baseline.

Engine: ``duban.engine.services.sweep.sweep`` — reads due tasks by the
``next_action_at`` index in batches, plans each task's reminders and
escalations, renders and writes their outbox rows, and re-plans the tasks.
Raw: the driver alone selecting the same due rows by the index, inserting one
outbox row per task and moving ``next_action_at`` on, in the same batches.
Peak Python memory during the sweep is measured (tracemalloc) at two table
sizes, so growth with the number of tasks that are not due would show.

    python benchmarks/sweep_bench.py [--sizes 10000 1000000] [--due 0.01] [--no-pg]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.scratch import Scratch  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.persistence.types import encode_date, encode_instant  # noqa: E402
from duban.engine.services.sweep import sweep  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai on the deadline day
WATCHED = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
LATER = datetime(2027, 6, 1, 1, 0, tzinfo=UTC)
DEADLINE = date(2026, 11, 27)
COLUMNS = (
    "code",
    "workflow",
    "workflow_version",
    "title",
    "measures",
    "fields",
    "unit_id",
    "lead_leader_id",
    "state",
    "version",
    "created_at",
    "updated_at",
    "deadline",
    "original_deadline",
    "ongoing",
    "deadline_version",
    "watch_from",
    "next_action_at",
    "escalation_level",
    "named_in_circular",
)


def populate(app: App, n: int, due_share: float) -> int:
    """n open tasks straight into the table; every 1/due_share-th is due now (its last reminder at 09:00)."""
    d = app.db.dialect
    with app.db.engine.connect() as conn:
        unit_id = conn.execute(text("SELECT id FROM units WHERE name = '社会事务科'")).scalar()
        version = conn.execute(text("SELECT version FROM workflow_versions WHERE name = 'rectification'")).scalar()
    step = max(int(1 / due_share), 1)

    def row(i: int) -> tuple[Any, ...]:
        due = i % step == 0
        return (
            f"ZG-2026-{i:07d}",
            "rectification",
            version,
            f"问题{i}",
            "[]",
            "{}",
            unit_id,
            "zhangwei",
            "in_progress",
            2,
            encode_instant(WATCHED, d),
            encode_instant(WATCHED, d),
            encode_date(DEADLINE, d),
            encode_date(DEADLINE, d),
            False,
            1,
            encode_instant(WATCHED, d),
            encode_instant(NOW if due else LATER, d),
            0,
            False,
        )

    raw = app.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if d == "postgresql":
            with cur.copy(f"COPY tasks ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for i in range(n):
                    copy.write_row(row(i))
        else:
            cur.execute("BEGIN")
            marks = ", ".join("?" * len(COLUMNS))
            for start in range(0, n, 50_000):
                cur.executemany(
                    f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES ({marks})",
                    [row(i) for i in range(start, min(n, start + 50_000))],
                )
        raw.commit()
        if d == "postgresql":
            cur.execute("ANALYZE tasks")
            raw.commit()
    finally:
        raw.close()
    return (n + step - 1) // step


def raw_sweep(app: App, batch: int = 500) -> float:
    """The driver alone: due rows by the index, one outbox row each, next_action_at moved on."""
    d = app.db.dialect
    ph = "?" if d == "sqlite" else "%s"
    raw = app.db.engine.raw_connection()
    cur = raw.cursor()
    now, later = encode_instant(NOW, d), encode_instant(LATER, d)
    t0 = time.perf_counter()
    while True:
        if d == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        lock = " FOR UPDATE SKIP LOCKED" if d == "postgresql" else ""
        cur.execute(
            f"SELECT id, unit_id FROM tasks WHERE next_action_at <= {ph} ORDER BY next_action_at LIMIT {ph}{lock}",
            (now, batch),
        )
        rows = cur.fetchall()
        if not rows:
            raw.commit()
            break
        cur.executemany(
            "INSERT INTO notifications (dedup_key, task_id, rule, level, recipient_id, channel, subject, body, status, "
            f"attempts, due_at, created_at) VALUES ({', '.join([ph] * 12)}) ON CONFLICT (dedup_key) DO NOTHING",
            [
                (
                    f"raw:{r[0]}:remind:0:1",
                    r[0],
                    "remind",
                    0,
                    "fenglei",
                    "console",
                    "提醒",
                    "整改时限今天到期",
                    "pending",
                    0,
                    now,
                    now,
                )
                for r in rows
            ],
        )
        cur.executemany(
            f"UPDATE tasks SET next_action_at = {ph}, watch_from = {ph} WHERE id = {ph}",
            [(later, now, r[0]) for r in rows],
        )
        raw.commit()
    seconds = time.perf_counter() - t0
    raw.close()
    return seconds


def engine_sweep(app: App) -> tuple[float, int, int]:
    """Timed without tracing (tracemalloc slows Python down), then once more traced for the peak."""
    t0 = time.perf_counter()
    result = sweep(app, NOW)
    seconds = time.perf_counter() - t0
    d = app.db.dialect
    with app.db.engine.begin() as conn:  # the same tasks due again, the outbox empty again
        conn.execute(text("DELETE FROM notifications"))
        conn.execute(
            text("UPDATE tasks SET next_action_at = :now, watch_from = :watched WHERE watch_from = :now"),
            {"now": encode_instant(NOW, d), "watched": encode_instant(WATCHED, d)},
        )
    tracemalloc.start()
    again = sweep(app, NOW)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert again.notifications == result.notifications
    return seconds, result.notifications, peak


def fresh(url: str) -> App:
    app = App.build(Settings(database_url=url), clock=FixedClock(NOW))
    init_workspace(app, ORG, single_desk=True)
    return app


def run(name: str, make_url, drop, sizes: list[int], due: float) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    out: dict[str, Any] = {}
    for n in sizes:
        figures: dict[str, Any] = {}
        for kind in ("raw", "engine"):
            url = make_url()
            app = fresh(url)
            t0 = time.perf_counter()
            due_count = populate(app, n, due)
            figures["populate_s"] = round(time.perf_counter() - t0, 1)
            if kind == "raw":
                figures["raw_s"] = raw_sweep(app)
            else:
                seconds, written, peak = engine_sweep(app)
                figures.update(engine_s=seconds, notifications=written, peak_mib=peak / 2**20)
            figures["due"] = due_count
            app.close()
            drop(url)
        figures["ratio"] = figures["engine_s"] / figures["raw_s"]
        out[str(n)] = figures
        print(
            f"{name:9} {n:>9,} tasks, {figures['due']:>6,} due: raw {figures['raw_s']:.2f}s  engine "
            f"{figures['engine_s']:.2f}s  engine/raw {figures['ratio']:.1f}x  peak {figures['peak_mib']:.1f} MiB",
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--due", type=float, default=0.01)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "due_share": args.due}
    scratch = Scratch(args.pg, "duban-sweep-bench-")
    results["sqlite"] = run("sqlite", scratch.sqlite, scratch.drop, args.sizes, args.due)
    if not args.no_pg:
        results["postgres"] = run("postgres", scratch.postgres, scratch.drop, args.sizes, args.due)
    scratch.close()
    folder = ROOT / "benchmarks" / "results"
    folder.mkdir(exist_ok=True)
    (folder / "sweep.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
