"""Transitions per second with several writers at once, against the raw driver with as many writers, one run.

Each writer is a process firing `start` on tasks of its own (no two writers touch one task, so every step
commits): the engine through `duban.engine.services.tasks.fire`, the baseline through the driver alone with the
same statements (the optimistic UPDATE, the chain head's UPDATE … RETURNING, the event's INSERT with the
account and row facts), one transaction each. Every step of every writer takes the chain head's row lock
(PostgreSQL) or the database's write lock (SQLite), so neither can scale past one writer at a time on the
commit; what more writers can overlap is the work before it.

    python benchmarks/writers_bench.py [--per-writer 150] [--no-pg] [--quick]

Not a test: run it by hand; figures go to benchmarks/README.md and benchmarks/results/writers.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import Scratch  # noqa: E402
from benchmarks.transitions_bench import ACCOUNT, HEAD, ROW, START, fresh_app, make_tasks  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.services.tasks import fire  # noqa: E402


def _engine_writer(url: str, codes: list[str], ready: object, go: object) -> None:
    app = App.build(Settings(database_url=url), clock=FixedClock(START + timedelta(hours=1)))
    ready.release()  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    for code in codes:
        fire(app, HEAD, code, "start")
    app.close()


def _raw_statements(dialect: str) -> tuple[str, str, str]:
    mark = "?" if dialect == "sqlite" else "%s"
    step = (
        "UPDATE chain_head SET seq = seq + 1, hash = duban_sha256(hash || ?) WHERE id = 1 RETURNING seq, hash"
        if dialect == "sqlite"
        else "UPDATE chain_head SET seq = seq + 1, hash = encode(sha256(convert_to(hash || %s, 'UTF8')), 'hex') "
        "WHERE id = 1 RETURNING seq, hash"
    )
    update = (
        f"UPDATE tasks SET state = {mark}, version = {mark}, updated_at = {mark}, head_hash = {mark} "
        f"WHERE id = {mark} AND version = {mark}"
    )
    insert = (
        "INSERT INTO events (task_id, seq, trigger, from_state, to_state, actor_id, comment, at, data, hash, "
        f"chain_seq, chain_hash, account, row_facts) VALUES ({', '.join([mark] * 14)})"
    )
    return update, step, insert


def _raw_writer(url: str, ids: list[int], ready: object, go: object) -> None:
    at_dt = START + timedelta(hours=2)
    if "://" not in url:  # a SQLite file, with the engine's durability settings
        conn = sqlite3.connect(url, isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "busy_timeout = 30000", "foreign_keys = ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.create_function("duban_sha256", 1, lambda t: hashlib.sha256(t.encode("ascii")).hexdigest())
        update, step, insert = _raw_statements("sqlite")
        at: object = at_dt.strftime("%Y-%m-%d %H:%M:%S.%f")

        def begin() -> None:
            conn.execute("BEGIN IMMEDIATE")

        def commit() -> None:
            conn.execute("COMMIT")

        run: Callable[..., object] = conn.execute
    else:
        import psycopg

        dsn, _, query = url.replace("postgresql+psycopg://", "postgresql://").partition("?")
        options = dict(p.split("=", 1) for p in query.split("&") if p)
        pg = psycopg.connect(dsn, options=options.get("options", "").replace("%3D", "="))
        update, step, insert = _raw_statements("postgresql")
        at = at_dt

        def begin() -> None:
            pass

        commit = pg.commit
        run = pg.execute
    ready.release()  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    for task_id in ids:
        begin()
        h = hashlib.sha256(f"{task_id}|2|start|assigned|in_progress|{HEAD}|{at}".encode()).hexdigest()
        cur = run(update, ("in_progress", 2, at, h, task_id, 1))
        assert cur.rowcount == 1  # type: ignore[attr-defined]
        head = run(step, (h,)).fetchone()  # type: ignore[attr-defined]
        run(
            insert,
            (task_id, 2, "start", "assigned", "in_progress", HEAD, None, at, None, h, head[0], head[1], ACCOUNT, ROW),
        )
        commit()


def _crowd(target: Callable[..., None], url: str, slices: list[list[object]]) -> float:
    """Start one process per slice, let them all connect, then time from the go to the last one's end."""
    ctx = mp.get_context("fork")
    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=target, args=(url, s, ready, go)) for s in slices]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    t0 = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
        assert p.exitcode == 0, f"a writer failed (exit {p.exitcode})"
    return time.perf_counter() - t0


def measure(url_for: Callable[[str], str], cleanup: Callable[[str], None], writers: int, per: int) -> dict[str, float]:
    n = writers * per
    url = url_for("engine")
    app = fresh_app(url)
    codes = make_tasks(app, n)
    app.close()
    engine_s = _crowd(_engine_writer, url, [codes[i::writers] for i in range(writers)])
    cleanup(url)
    url = url_for("raw")
    app = fresh_app(url)
    make_tasks(app, n)
    with app.db.engine.connect() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM tasks ORDER BY id")]
    app.close()
    raw_s = _crowd(_raw_writer, url, [ids[i::writers] for i in range(writers)])
    cleanup(url)
    return {"writers": writers, "engine": n / engine_s, "raw": n / raw_s, "ratio": (n / engine_s) / (n / raw_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--per-writer", type=int, default=150)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 steps per writer")
    args = parser.parse_args()
    per = 20 if args.quick else args.per_writer
    scratch = Scratch(args.pg, "duban-writers-")
    out: dict[str, object] = {"when": datetime.now(UTC).isoformat(), "per_writer": per}
    plans = [("sqlite", scratch.sqlite, lambda url: None, (1, 4))]
    if not args.no_pg:
        plans.append(("postgres", scratch.postgres, scratch.drop, (1, 4, 16)))
    for name, url_for, cleanup, counts in plans:
        rows = []
        for writers in counts:
            r = measure(url_for, cleanup, writers, per)
            rows.append(r)
            print(
                f"{name:9} {writers:2} writer(s)  raw {r['raw']:7.0f}/s   engine {r['engine']:7.0f}/s   "
                f"engine/raw {r['ratio']:5.1%}"
            )
        out[name] = rows
    scratch.close()
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "writers.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
