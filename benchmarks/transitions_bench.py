"""Transitions per second through the engine, beside a raw-driver baseline in the same run.

Engine: ``duban.engine.services.tasks.fire`` — permission check, guard, state change,
event, optimistic lock, one unit of work each. Raw: the driver alone issuing the
statements any firing of ``start`` must issue, with the engine's own text and
parameters, one transaction each, with the same durability settings (SQLite: WAL,
synchronous=FULL, BEGIN IMMEDIATE; PostgreSQL: default synchronous_commit=on):

- the read of the task it guards (state and version) with its unit's head and the
  actor's roles, one statement (``TaskRepository.for_firing``'s SELECT, verbatim);
- the UPDATE with the version check of the six columns ``start`` changes: version,
  updated_at, head_hash, state, next_action_at (the watch ends), signed_at (签收);
- the chain head moved by ``UPDATE chain_head ... RETURNING``;
- the event's INSERT with all 18 columns (``TaskRepository.append_event``'s, verbatim).

Until branch ``firing2`` the baseline skipped the read, wrote four columns and a
14-column event: that figure is still printed ("raw, old baseline") so the two
can be compared. On PostgreSQL the engine still writes all twelve clock columns
(see ``TaskRepository.advance``); the baseline writes only the six that change.
Also whole lifecycles: assign, start, progress, submit, approve, close.

    python benchmarks/transitions_bench.py [--n 2000] [--lifecycles 300] [--pg URL] [--no-pg]

Not a test: run it by hand; figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import Scratch  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
LEADER, DEPUTY, UNIT, HEAD = "wangjun", "zhangwei", "社会事务科", "fenglei"
START = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)
# What the engine binds into each event since schema 0005: the account that wrote it and the row after it.
ACCOUNT = "os:duban"
ROW = json.dumps(
    {"content": "0" * 64, "deadline_version": 1, "leader": DEPUTY, "original_deadline": None, "unit": 4},
    sort_keys=True,
)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


def timed(fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def make_tasks(app: App, n: int) -> list[str]:
    return [assign(app, LEADER, NewTask(title=f"问题{i}", unit=UNIT, leader=DEPUTY)) for i in range(n)]


def engine_transitions(app: App, n: int) -> float:
    codes = make_tasks(app, n)
    clock: FixedClock = app.clock  # type: ignore[assignment]
    clock.advance(timedelta(hours=1))
    return rate(n, timed(lambda: [fire(app, HEAD, c, "start") for c in codes]))


def lifecycles(app: App, n: int) -> float:
    def one() -> None:
        code = assign(app, LEADER, NewTask(title="问题", unit=UNIT, leader=DEPUTY))
        fire(app, HEAD, code, "start")
        report_progress(app, HEAD, code, ProgressInput(100, "完成"))
        fire(app, HEAD, code, "submit")
        fire(app, DEPUTY, code, "approve")
        fire(app, DEPUTY, code, "close")

    return rate(n, timed(lambda: [one() for _ in range(n)]))


# --- raw baselines: the same statements, the driver alone ---------------------------------------


def raw_sqlite_old(path: Path, n: int) -> float:
    """The baseline before branch ``firing2``: no read, four columns updated, a 14-column event."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    ids = [r[0] for r in conn.execute("SELECT id FROM tasks WHERE state = 'assigned' ORDER BY id LIMIT ?", (n,))]
    assert len(ids) == n, "make the tasks first"
    at = (START + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f")

    conn.create_function("duban_sha256", 1, lambda t: hashlib.sha256(t.encode("ascii")).hexdigest())

    def run() -> None:
        for task_id in ids:
            conn.execute("BEGIN IMMEDIATE")
            h = hashlib.sha256(f"{task_id}|2|start|assigned|in_progress|{HEAD}|{at}".encode()).hexdigest()
            cur = conn.execute(
                "UPDATE tasks SET state = ?, version = ?, updated_at = ?, head_hash = ? WHERE id = ? AND version = ?",
                ("in_progress", 2, at, h, task_id, 1),
            )
            assert cur.rowcount == 1
            head = conn.execute(
                "UPDATE chain_head SET seq = seq + 1, hash = duban_sha256(hash || ?) WHERE id = 1 RETURNING seq, hash",
                (h,),
            ).fetchone()
            conn.execute(
                "INSERT INTO events (task_id, seq, trigger, from_state, to_state, actor_id, comment, at, data, hash, "
                "chain_seq, chain_hash, account, row_facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task_id,
                    2,
                    "start",
                    "assigned",
                    "in_progress",
                    HEAD,
                    None,
                    at,
                    None,
                    h,
                    head[0],
                    head[1],
                    ACCOUNT,
                    ROW,
                ),
            )
            conn.execute("COMMIT")

    seconds = timed(run)
    conn.close()
    return rate(n, seconds)


def raw_postgres_old(url: str, n: int) -> float:
    """The baseline before branch ``firing2``: no read, four columns updated, a 14-column event."""
    import psycopg

    dsn, _, query = url.replace("postgresql+psycopg://", "postgresql://").partition("?")
    options = dict(p.split("=", 1) for p in query.split("&") if p)
    conn = psycopg.connect(dsn, options=options.get("options", "").replace("%3D", "="))
    ids = [
        r[0]
        for r in conn.execute("SELECT id FROM tasks WHERE state = 'assigned' ORDER BY id LIMIT %s", (n,)).fetchall()
    ]
    conn.commit()
    assert len(ids) == n, "make the tasks first"
    at = START + timedelta(hours=2)

    def run() -> None:
        for task_id in ids:
            h = hashlib.sha256(f"{task_id}|2|start|assigned|in_progress|{HEAD}|{at}".encode()).hexdigest()
            cur = conn.execute(
                "UPDATE tasks SET state = %s, version = %s, updated_at = %s, head_hash = %s "
                "WHERE id = %s AND version = %s",
                ("in_progress", 2, at, h, task_id, 1),
            )
            assert cur.rowcount == 1
            head = conn.execute(
                "UPDATE chain_head SET seq = seq + 1, hash = encode(sha256(convert_to(hash || %s, 'UTF8')), 'hex') "
                "WHERE id = 1 RETURNING seq, hash",
                (h,),
            ).fetchone()
            assert head is not None
            conn.execute(
                "INSERT INTO events (task_id, seq, trigger, from_state, to_state, actor_id, comment, at, data, hash, "
                "chain_seq, chain_hash, account, row_facts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s)",
                (
                    task_id,
                    2,
                    "start",
                    "assigned",
                    "in_progress",
                    HEAD,
                    None,
                    at,
                    None,
                    h,
                    head[0],
                    head[1],
                    ACCOUNT,
                    ROW,
                ),
            )
            conn.commit()

    seconds = timed(run)
    conn.close()
    return rate(n, seconds)


# The engine's statements, verbatim (TaskRepository.for_firing, append_event) in each driver's placeholders.
READ = (
    "SELECT t.id, t.code, t.workflow, t.state, t.version, t.unit_id, u.head_id, "
    "t.lead_leader_id, t.responsible_person_id, p.id, p.name, p.roles, p.unit_id, "
    "t.deadline, t.deadline_version, t.watch_from, t.next_action_at, t.last_progress_at, "
    "t.clock_stopped_at, t.created_at, t.head_hash, t.content_hash, t.original_deadline, t.sign_by, t.signed_at, "
    "t.assigned_on, t.escalation_level "
    "FROM tasks t JOIN units u ON u.id = t.unit_id LEFT JOIN people p ON p.id = {0} "
    "WHERE t.code = {0}"
)
START_UPDATE = (
    "UPDATE tasks SET version = {0}, updated_at = {0}, head_hash = {0}, state = {0}, next_action_at = {0}, "
    "signed_at = {0} WHERE id = {0} AND version = {0}"
)
EVENT = (
    "INSERT INTO events (task_id, seq, trigger, from_state, to_state, actor_id, operator_id, comment, at, "
    "data, deadline, hash, chain_seq, chain_hash, account, row_facts, via, unit_id) VALUES ("
    + ", ".join(["{0}"] * 18)
    + ")"
)
UNIT_ID = 4  # 社会事务科 in examples/org.yaml: the event names its unit


def raw_sqlite(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    tasks = list(conn.execute("SELECT id, code FROM tasks WHERE state = 'assigned' ORDER BY id LIMIT ?", (n,)))
    assert len(tasks) == n, "make the tasks first"
    at = (START + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
    read, update, event = READ.format("?"), START_UPDATE.format("?"), EVENT.format("?")

    conn.create_function("duban_sha256", 1, lambda t: hashlib.sha256(t.encode("ascii")).hexdigest())

    def run() -> None:
        cur = conn.cursor()
        for task_id, code in tasks:
            cur.execute("BEGIN IMMEDIATE")
            row = cur.execute(read, (HEAD, code)).fetchone()
            assert row[3] == "assigned" and row[9] == HEAD
            version = row[4]
            h = hashlib.sha256(f"{task_id}|2|start|assigned|in_progress|{HEAD}|{at}".encode()).hexdigest()
            cur.execute(update, (version + 1, at, h, "in_progress", None, at, task_id, version))
            assert cur.rowcount == 1
            head = cur.execute(
                "UPDATE chain_head SET seq = seq + 1, hash = duban_sha256(hash || ?) WHERE id = 1 RETURNING seq, hash",
                (h,),
            ).fetchone()
            cur.execute(
                event,
                (
                    task_id,
                    version + 1,
                    "start",
                    "assigned",
                    "in_progress",
                    HEAD,
                    None,
                    None,
                    at,
                    None,
                    None,
                    h,
                    head[0],
                    head[1],
                    ACCOUNT,
                    ROW,
                    None,
                    UNIT_ID,
                ),
            )
            cur.execute("COMMIT")

    seconds = timed(run)
    conn.close()
    return rate(n, seconds)


def raw_postgres(url: str, n: int) -> float:
    import psycopg

    dsn, _, query = url.replace("postgresql+psycopg://", "postgresql://").partition("?")
    options = dict(p.split("=", 1) for p in query.split("&") if p)
    conn = psycopg.connect(dsn, options=options.get("options", "").replace("%3D", "="))
    tasks = conn.execute("SELECT id, code FROM tasks WHERE state = 'assigned' ORDER BY id LIMIT %s", (n,)).fetchall()
    conn.commit()
    assert len(tasks) == n, "make the tasks first"
    at = START + timedelta(hours=2)
    read, update, event = READ.format("%s"), START_UPDATE.format("%s"), EVENT.format("%s")

    def run() -> None:
        for task_id, code in tasks:
            row = conn.execute(read, (HEAD, code)).fetchone()
            assert row is not None and row[3] == "assigned" and row[9] == HEAD
            version = row[4]
            h = hashlib.sha256(f"{task_id}|2|start|assigned|in_progress|{HEAD}|{at}".encode()).hexdigest()
            cur = conn.execute(update, (version + 1, at, h, "in_progress", None, at, task_id, version))
            assert cur.rowcount == 1
            head = conn.execute(
                "UPDATE chain_head SET seq = seq + 1, hash = encode(sha256(convert_to(hash || %s, 'UTF8')), 'hex') "
                "WHERE id = 1 RETURNING seq, hash",
                (h,),
            ).fetchone()
            assert head is not None
            conn.execute(
                event,
                (
                    task_id,
                    version + 1,
                    "start",
                    "assigned",
                    "in_progress",
                    HEAD,
                    None,
                    None,
                    at,
                    None,
                    None,
                    h,
                    head[0],
                    head[1],
                    ACCOUNT,
                    ROW,
                    None,
                    UNIT_ID,
                ),
            )
            conn.commit()

    seconds = timed(run)
    conn.close()
    return rate(n, seconds)


def fresh_app(url: str, org: Path = ORG) -> App:
    app = App.build(Settings(database_url=url), clock=FixedClock(START))
    init_workspace(app, org, single_desk=True)
    return app


def bench(
    name: str,
    url_for: Callable[[str], str],
    raw: Callable[[str, int], float],
    raw_old: Callable[[str, int], float],
    n: int,
    lifecycle_n: int,
    cleanup: Callable[[str], None],
) -> dict[str, float]:
    results: dict[str, float] = {}
    # engine and raw each on their own fresh database, alternated three times; the best run of each counts
    # (fsync times on a shared virtual disk vary from run to run by half)
    for _round in range(3):
        url = url_for("engine")
        app = fresh_app(url)
        results["engine"] = max(results.get("engine", 0.0), engine_transitions(app, n))
        app.close()
        cleanup(url)
        url = url_for("raw")
        app = fresh_app(url)
        make_tasks(app, n)
        app.close()
        results["raw"] = max(results.get("raw", 0.0), raw(url, n))
        cleanup(url)
        url = url_for("rawold")
        app = fresh_app(url)
        make_tasks(app, n)
        app.close()
        results["raw_old"] = max(results.get("raw_old", 0.0), raw_old(url, n))
        cleanup(url)
    url = url_for("life")
    app = fresh_app(url)
    results["lifecycles"] = lifecycles(app, lifecycle_n)
    app.close()
    cleanup(url)
    results["ratio"] = results["engine"] / results["raw"]
    results["ratio_old"] = results["engine"] / results["raw_old"]
    print(
        f"{name:10} raw {results['raw']:8.0f}/s   engine {results['engine']:8.0f}/s   "
        f"engine/raw {results['ratio']:5.1%}   lifecycles {results['lifecycles']:6.0f}/s   "
        f"(raw, old baseline {results['raw_old']:8.0f}/s: engine/raw {results['ratio_old']:5.1%})"
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="transitions per measurement")
    parser.add_argument("--lifecycles", type=int, default=300)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    out: dict[str, object] = {"n": args.n, "lifecycles_n": args.lifecycles, "when": datetime.now(UTC).isoformat()}
    scratch = Scratch(args.pg, "duban-bench-")
    out["sqlite"] = bench(
        "sqlite",
        scratch.sqlite,
        lambda url, n: raw_sqlite(Path(url), n),
        lambda url, n: raw_sqlite_old(Path(url), n),
        args.n,
        args.lifecycles,
        lambda url: None,
    )
    if not args.no_pg:
        out["postgres"] = bench(
            "postgres", scratch.postgres, raw_postgres, raw_postgres_old, args.n, args.lifecycles, scratch.drop
        )
    scratch.close()
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "transitions.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
