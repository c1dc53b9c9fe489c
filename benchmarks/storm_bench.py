"""A morning storm: many tasks due at once, from the sweep to the last delivery, beside a raw baseline.

Engine: a real ``duban worker`` with its default settings (``-c 2``) on the
embedded broker (kombu's SQLAlchemy transport on a SQLite file) or on Redis,
delivering to the file channel (one fsynced JSON line per message). The clock
starts, the beat's tick runs in this process (``duban.engine.worker.celery_app.beat_tick``: the
sweep writes the outbox, the relay hands the rows to the broker), and the clock
stops when the last row is recorded as sent. Every row must be sent once: the
file must hold each dedup key exactly once.

Raw: the driver alone doing the same work with the same guarantees and as many
processes: one statement writes an outbox row per due task and moves the
tasks on; then each process, for each batch of its rows (as many as a broker message carries), claims them
in one commit, appends their lines with one fsync, and records them as sent
in one commit. No broker, no Celery, no rendering.

    python benchmarks/storm_bench.py [--tasks 100000] [--rounds 3] [--broker embedded redis]
    python benchmarks/storm_bench.py --quick
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import Scratch  # noqa: E402
from benchmarks.sweep_bench import NOW, populate  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.services.sweep import sweep  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402
from duban.engine.worker.celery_app import RELAY_BATCH  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
REDIS = "redis://127.0.0.1:6379/14"


def template(scratch: Scratch, tasks: int) -> Path:
    """One populated workspace, copied for every round: all ``tasks`` are due this morning."""
    db = scratch.sqlite("storm-template")
    app = App.build(Settings(database_url=db), clock=FixedClock(NOW))
    init_workspace(app, ORG, single_desk=True)
    populate(app, tasks, 1.0)
    app.close()
    return Path(db)


def fresh(scratch: Scratch, source: Path, tag: str) -> Path:
    folder = scratch.folder / f"{tag}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    shutil.copy(source, folder / "duban.db")
    return folder


def lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(x)["key"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def engine_round(scratch: Scratch, source: Path, broker: str, deliver_only: bool = False) -> dict[str, Any]:
    from duban.engine.worker import celery_app as w

    folder = fresh(scratch, source, "engine")
    db, out = folder / "duban.db", folder / "notifications.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")} | {
        "DUBAN_DATABASE_URL": str(db),
        "DUBAN_CHANNELS": "file",
        "DUBAN_NOTIFY_FILE": str(out),
        "DUBAN_QUEUE": f"storm-{uuid.uuid4().hex[:8]}",
        "DUBAN_USER": "",
    }
    if broker == "redis":
        env["DUBAN_BROKER_URL"] = REDIS
    extra = {k: v for k, v in env.items() if k.startswith("DUBAN_")}
    settings = Settings(database_url=str(db), channels=("file",), extra=extra)
    app = App.build(settings, clock=FixedClock(NOW))
    celery = w.make_celery(settings)
    log = open(folder / "worker.log", "wb")  # noqa: SIM115 - lives with the process
    exe = Path(sys.executable).with_name("duban")
    proc = subprocess.Popen(
        [str(exe), "worker", "--loglevel", "WARNING"],  # the default concurrency
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # ready: a worker at WARNING says nothing, so wait for its pool processes to exist and settle
        time.sleep(4.0)
        assert proc.poll() is None, (folder / "worker.log").read_text(errors="replace")
        if deliver_only:  # the outbox is written first, untimed: the clock measures the relay and the worker
            total = sweep(app).notifications
            started = time.perf_counter()
            w.relay_safely(app, w.publisher(celery))
        else:
            started = time.perf_counter()
            total = w.beat_tick(app, w.publisher(celery))["notifications"]
        swept = time.perf_counter() - started
        last_relay = time.monotonic()
        while True:
            with app.db.engine.connect() as conn:
                sent = conn.exec_driver_sql("SELECT count(*) FROM notifications WHERE status = 'sent'").scalar()
            if sent >= total:
                break
            if time.monotonic() - last_relay > 1.0:  # a beat ticking as often as it can, for a relay that hands
                w.relay_safely(app, w.publisher(celery))  # out only part of the outbox per tick
                last_relay = time.monotonic()
            if time.perf_counter() - started > 1800:
                raise SystemExit(f"storm not cleared after 30 minutes: {sent} of {total}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        app.close()
        if broker == "redis":
            celery.connection_for_write().default_channel.client.delete(env["DUBAN_QUEUE"])
    keys = lines(out)
    assert len(keys) == total and len(set(keys)) == total, f"{len(keys)} lines, {len(set(keys))} keys, {total} rows"
    shutil.rmtree(folder)
    return {"seconds": elapsed, "sweep_and_relay": swept, "notifications": total}


def _raw_deliver(db: str, out: str, part: int, parts: int, batch: int) -> None:
    """One process's share: per batch, claim in one commit, one write and fsync, record in one commit."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA busy_timeout=30000")
    ids = [
        r[0]
        for r in con.execute(
            "SELECT id FROM notifications WHERE status = 'pending' AND id % ? = ? ORDER BY id", (parts, part)
        )
    ]
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        marks = ", ".join("?" * len(chunk))
        now = datetime.now(UTC).isoformat()
        con.execute("BEGIN IMMEDIATE")
        rows = con.execute(
            "UPDATE notifications SET status = 'sending', lease_until = ?, attempts = attempts + 1 "
            f"WHERE id IN ({marks}) AND status = 'pending' "
            "RETURNING id, attempts, dedup_key, recipient_id, address, subject, body",
            ((datetime.now(UTC) + timedelta(seconds=300)).isoformat(), *chunk),
        ).fetchall()
        con.execute("COMMIT")
        text = "".join(
            json.dumps({"key": k, "to": to, "address": a, "subject": s, "body": b}, ensure_ascii=False) + "\n"
            for _i, _n, k, to, a, s, b in rows
        )
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            "UPDATE notifications SET status = 'sent', sent_at = ?, lease_until = NULL "
            "WHERE id = ? AND status = 'sending' AND attempts = ?",
            [(now, i, n) for i, n, *_rest in rows],
        )
        con.execute("COMMIT")
    os.close(fd)
    con.close()


def raw_round(scratch: Scratch, source: Path, processes: int = 2, deliver_only: bool = False) -> dict[str, Any]:
    folder = fresh(scratch, source, "raw")
    db, out = folder / "duban.db", folder / "notifications.jsonl"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.execute(
        "INSERT INTO notifications (dedup_key, task_id, rule, level, recipient_id, channel, address, subject, body, "
        "status, attempts, due_at, created_at) SELECT 'raw:' || id, id, 'remind', 0, lead_leader_id, 'file', NULL, "
        "'督办提醒：' || title, '请于期限前完成整改：' || code || ' ' || title, 'pending', 0, ?, ? "
        "FROM tasks WHERE next_action_at <= ?",
        (now, now, now),
    )
    total = con.execute("SELECT changes()").fetchone()[0]
    con.execute("UPDATE tasks SET next_action_at = NULL WHERE next_action_at <= ?", (now,))
    con.execute("COMMIT")
    con.close()
    if deliver_only:
        started = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_raw_deliver, args=(str(db), str(out), k, processes, RELAY_BATCH)) for k in range(processes)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    keys = lines(out)
    assert len(keys) == total and len(set(keys)) == total
    shutil.rmtree(folder)
    return {"seconds": elapsed, "notifications": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--broker", nargs="+", default=["embedded", "redis"], choices=["embedded", "redis"])
    parser.add_argument("--quick", action="store_true", help="2,000 tasks, one round: a smoke run")
    parser.add_argument(
        "--deliver-only", action="store_true", help="write the outbox first, untimed: the relay and workers alone"
    )
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.rounds = 2000, 1
    scratch = Scratch("", "duban-storm-")
    source = template(scratch, args.tasks)
    runs: dict[str, list[dict[str, Any]]] = {b: [] for b in args.broker} | {"raw": []}
    for r in range(args.rounds):  # alternated, so a burst of other load hits every side alike
        for b in args.broker:
            runs[b].append(engine_round(scratch, source, b, args.deliver_only))
            print(f"round {r + 1} {b}: {runs[b][-1]}", flush=True)
        runs["raw"].append(raw_round(scratch, source, deliver_only=args.deliver_only))
        print(f"round {r + 1} raw: {runs['raw'][-1]}", flush=True)
    raw_s = statistics.median(x["seconds"] for x in runs["raw"])
    raw_n = runs["raw"][0]["notifications"]
    results: dict[str, Any] = {
        "tasks": args.tasks,
        "rounds": args.rounds,
        "load": os.getloadavg()[0],
        "deliver_only": args.deliver_only,
    }
    what = (
        "outbox written first; relay and delivery timed" if args.deliver_only else "from the sweep to the last delivery"
    )
    print(f"\n{args.tasks:,} tasks due at once, {what}; medians of {args.rounds} alternated rounds\n")
    print(f"{'path':<22}{'notifications':>14}{'seconds':>10}{'per second':>12}{'vs raw':>9}")
    print(f"{'raw sqlite3, 2 procs':<22}{raw_n:>14,}{raw_s:>10.1f}{raw_n / raw_s:>12,.0f}{'':>9}")
    results["raw"] = {"seconds": raw_s, "notifications": raw_n, "per_second": raw_n / raw_s}
    for b in args.broker:
        s = statistics.median(x["seconds"] for x in runs[b])
        n = runs[b][0]["notifications"]
        ratio = (n / s) / (raw_n / raw_s)
        print(f"{'worker -c 2, ' + b:<22}{n:>14,}{s:>10.1f}{n / s:>12,.0f}{ratio:>8.0%}")
        results[b] = {
            "seconds": s,
            "notifications": n,
            "per_second": n / s,
            "ratio": ratio,
            "sweep_and_relay": statistics.median(x["sweep_and_relay"] for x in runs[b]),
        }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    name = "storm_deliver_only.json" if args.deliver_only else "storm_bench.json"
    (out / name).write_text(json.dumps(results, indent=2))
    shutil.rmtree(scratch.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
