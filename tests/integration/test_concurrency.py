"""Many people at once: concurrent firings never both win, never fail on locks, never lose a write.

Two tests here. The first races two processes on the same task again and again
(one approves, the other rejects): exactly one wins each round. On SQLite the
write lock taken by BEGIN IMMEDIATE serialises them and the loser finds the
task already moved; on PostgreSQL both may read the same version and the
optimistic lock refuses the second update. Either way the loser is told
clearly and nothing is half-written.

The second is a crowd: several processes (4 on SQLite, 8 on PostgreSQL) each
fire 500 steps at the same 40 tasks while two sweeps run beside them, as the
beat would (and as a second beat started by mistake would). Each step is what
a person at a desk does: look at the task, then fire the step its state calls
for as the person allowed to, half the time with ``--if-version``. Because the
crowd shares so few tasks, the state often moves between the look and the
step, so both successes and refusals happen. The
promise under test is that every step either commits or is refused with a
clear reason (the task changed, or its state no longer allows the step), that
no lock, busy, deadlock or serialization error ever reaches a user, that every
committed step is in the history exactly once with nothing else there (and with
its notifications), and that the sweeps write each notification once.

Workers are started with "spawn": a forked child would inherit the parent's
SQLAlchemy pool and its open database connections.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import random
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.errors import DubanError
from duban.engine.services.audit import verify
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import ProgressInput, fire
from tests.conftest import DEPUTY, START
from tests.helpers import check_history, new_task, to_submitted

ROUNDS = 12
SPAWN = mp.get_context("spawn")
WAIT = 300  # seconds a test waits for a process before it calls the run hung


def _contender(url: str, trigger: str, codes: list[str], barrier: Any, results: Any) -> None:
    app = App.build(Settings(database_url=url))
    try:
        for code in codes:
            barrier.wait(timeout=60)
            try:
                fire(app, DEPUTY, code, trigger, comment="并发测试")
                results.put((code, trigger, "won", ""))
            except DubanError as exc:
                results.put((code, trigger, type(exc).__name__, exc.render("en")))
    finally:
        app.close()


def test_conflicting_firings_from_two_processes(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    url = db_url
    app = make_app(url)
    codes = [new_task(app) for _ in range(ROUNDS)]
    for code in codes:
        to_submitted(app, code)
    barrier = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=_contender, args=(url, trigger, codes, barrier, results))
        for trigger in ("approve", "reject")
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    by_code: dict[str, list[tuple[str, str, str]]] = {}
    for code, trigger, result, message in outcomes:
        by_code.setdefault(code, []).append((trigger, result, message))
    losers: Counter[str] = Counter()
    for code, pair in by_code.items():
        winners = [t for t, r, _ in pair if r == "won"]
        assert len(winners) == 1, (code, pair)
        (loser,) = [(r, m) for _t, r, m in pair if r != "won"]
        assert loser[0] in ("StaleTask", "InvalidTransition"), loser
        assert "changed since you read it" in loser[1] or "is reviewed" in loser[1] or "is in progress" in loser[1]
        losers[loser[0]] += 1
    check_history(app)
    print(f"losers: {dict(losers)}")


# --- the crowd -----------------------------------------------------------------------------------

FIRINGS = int(os.environ.get("DUBAN_CROWD_FIRINGS", "500"))  # per process; the issue asks for 500
TASKS = 40
SIM_DAY_SECONDS = 0.5  # the crowd's clock runs a simulated day every half second
THINK_SECONDS = 0.002  # at most this long between looking at a task and acting on it
SWEEPERS = 2  # two beats by mistake: the sweeps must still write each notification once
SWEEP_PAUSE = 0.2  # seconds between one process's sweeps (the beat's is minutes; this keeps them coming)
# (unit, its head, the lead leader): the tasks are spread so that different people act on them
DESKS = (
    ("社会事务科", "fenglei", "zhangwei"),
    ("综合办公室", "zhaomin", "chenjing"),
    ("党建办公室", "wuhaiyan", "lihong"),
    ("阳光社区党支部", "liuxia", "wangjun"),
)
LEADERS = ("wangjun", "lihong", "zhangwei", "chenjing")
# A step that lost the race is refused for one of these reasons, and for nothing else.
CLEAN_REFUSALS = frozenset({"StaleTask", "InvalidTransition", "ProgressReportRequired"})
# Words that would mean the database, not the workflow, refused a step.
FORBIDDEN = ("locked", "busy", "deadlock", "serializ", "could not", "timeout", "timed out")


@dataclass(frozen=True)
class SharedClock:
    """One simulated time for every process of the crowd: START plus the wall time since ``t0``, sped up.

    Deadlines fall due while the crowd works, so the sweeps beside it have reminders and escalations to
    write as they go, not only at their first pass. It is read from the one system clock, so all the
    processes agree on the time (a FixedClock would stand still, and separate clocks would disagree).
    """

    t0: float

    def now(self) -> datetime:
        return START + timedelta(days=(time.time() - self.t0) / SIM_DAY_SECONDS)


@dataclass
class Tally:
    """What one process of the crowd saw; sent back to the test through a queue."""

    name: str
    committed: list[tuple[str, int, str]] = field(default_factory=list)  # (code, seq, trigger)
    refused: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # anything a user should never see
    sweeps: int = 0
    notifications_while_firing: int = 0
    notifications_after: int = 0
    seconds: float = 0.0


def _next_step(rng: random.Random, state: str, head: str, leader: str) -> tuple[str, str, str | None]:
    """The step a task's state calls for, the person who may take it, and a comment where one is required."""
    if state == "assigned":
        return "start", head, None
    if state == "in_progress":
        return ("progress", head, None) if rng.random() < 0.6 else ("submit", head, None)
    if state == "submitted":
        return ("approve", leader, None) if rng.random() < 0.6 else ("reject", leader, "佐证材料不全")
    if state == "reviewed":
        return "close", leader, None
    if state == "closed":
        return "reopen", rng.choice(LEADERS), "回头看发现反弹"
    raise AssertionError(f"the crowd never leaves the cycle, yet a task is {state}")


def _step(app: App, rng: random.Random, code: str, head: str, leader: str, tally: Tally) -> None:
    """Look at the task (a read, as `duban show` does), then fire what its state calls for."""
    with app.uow(write=False) as uow:
        found = uow.tasks.for_firing(code, head)
    assert found is not None, code
    task, _ = found
    time.sleep(rng.random() * THINK_SECONDS)  # a person reads before acting: others may act meanwhile
    trigger, actor, comment = _next_step(rng, task.facts.state, head, leader)
    if_version = task.version if rng.random() < 0.5 else None  # half the desks use --if-version
    progress = ProgressInput(rng.randint(10, 100), "已完成部分整改") if trigger == "progress" else None
    try:
        result = fire(app, actor, code, trigger, comment=comment, if_version=if_version, progress=progress)
    except DubanError as exc:
        name, message = type(exc).__name__, exc.render("en")
        if name in CLEAN_REFUSALS and code in message and not any(w in message.lower() for w in FORBIDDEN):
            tally.refused[name] += 1
        else:
            tally.unexpected.append(f"{trigger} {code} as {actor}: {name}: {message}")
        return
    tally.committed.append((code, result.version, trigger))


def _firer(
    url: str, t0: float, tasks: list[tuple[str, str, str]], seed: int, evidence: str, barrier: Any, results: Any
) -> None:
    """One person-at-a-desk process: FIRINGS steps on tasks picked at random from the shared list."""
    tally = Tally(f"firer-{seed}")
    app: App | None = None
    try:
        app = App.build(Settings(database_url=url, evidence_dir=Path(evidence)), clock=SharedClock(t0))
        rng = random.Random(seed)
        barrier.wait(timeout=WAIT)
        began = time.perf_counter()
        for _ in range(FIRINGS):
            code, head, leader = rng.choice(tasks)
            try:
                _step(app, rng, code, head, leader, tally)
            except Exception:  # noqa: BLE001 - a traceback is exactly what the test must report
                tally.unexpected.append(traceback.format_exc())
        tally.seconds = time.perf_counter() - began
    except BaseException:  # noqa: BLE001 - the test must hear of it, not wait for a tally that never comes
        tally.unexpected.append(traceback.format_exc())
        barrier.abort()  # nobody waits for a process that will never arrive
    finally:
        results.put(tally)
        if app is not None:
            app.close()


def _sweeper(url: str, t0: float, number: int, barrier: Any, stop: Any, results: Any) -> None:
    """The beat's part: sweep again and again while the crowd fires, then once more after it stops."""
    tally = Tally(f"sweeper-{number}")
    app: App | None = None
    try:
        app = App.build(Settings(database_url=url), clock=SharedClock(t0))
        barrier.wait(timeout=WAIT)
        began = time.perf_counter()
        while not stop.is_set():
            try:
                tally.notifications_while_firing += sweep(app).notifications
            except Exception:  # noqa: BLE001
                tally.unexpected.append(traceback.format_exc())
            tally.sweeps += 1
            stop.wait(SWEEP_PAUSE)
        tally.notifications_after = sweep(app).notifications
        tally.seconds = time.perf_counter() - began
    except BaseException:  # noqa: BLE001
        tally.unexpected.append(traceback.format_exc())
        barrier.abort()
    finally:
        results.put(tally)
        if app is not None:
            app.close()


def _crowd(url: str, app: App, processes: int, tmp_path: Path) -> dict[str, Any]:
    """Run the crowd and the sweepers on ``url`` and check what they left; returns figures to print."""
    tasks: list[tuple[str, str, str]] = []
    for i in range(TASKS):
        unit, head, leader = DESKS[i % len(DESKS)]
        # deadlines a few working days off: reminders and every escalation level fall due during the run
        due = date(2026, 9, 8) + timedelta(days=i % 10)
        tasks.append((new_task(app, unit=unit, leader=leader, deadline=due), head, leader))
    t0 = time.time()
    barrier = SPAWN.Barrier(processes + SWEEPERS + 1)  # the firers, the sweepers and this test start together
    stop = SPAWN.Event()
    results = SPAWN.Queue()
    evidence = str(tmp_path / "evidence")
    firers = [
        SPAWN.Process(target=_firer, args=(url, t0, tasks, seed, evidence, barrier, results))
        for seed in range(processes)
    ]
    sweepers = [
        SPAWN.Process(target=_sweeper, args=(url, t0, number, barrier, stop, results)) for number in range(SWEEPERS)
    ]
    everyone = [*firers, *sweepers]
    for p in everyone:
        p.start()
    try:
        try:
            barrier.wait(timeout=WAIT)
        except threading.BrokenBarrierError:
            failed: list[str] = []
            with contextlib.suppress(queue.Empty):
                for _ in everyone:
                    failed += results.get(timeout=10).unexpected
            pytest.fail("a process of the crowd failed before the start:\n" + "\n".join(failed))
        began = time.perf_counter()
        tallies = [results.get(timeout=WAIT) for _ in firers]
        firing_seconds = time.perf_counter() - began
        stop.set()
        tallies += [results.get(timeout=WAIT) for _ in sweepers]
    finally:
        stop.set()
        for p in everyone:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in everyone] == [0] * len(everyone)

    unexpected = [u for t in tallies for u in t.unexpected]
    assert not unexpected, "\n".join(unexpected[:20])
    fired = [t for t in tallies if t.name.startswith("firer")]
    swept = [t for t in tallies if t.name.startswith("sweeper")]
    committed = [c for t in fired for c in t.committed]
    refused: Counter[str] = sum((t.refused for t in fired), Counter())
    # every step was either committed or refused for a clear reason
    assert len(committed) + sum(refused.values()) == processes * FIRINGS
    assert committed and refused, (len(committed), refused)

    spec = app.registry.spec("rectification")
    told = {spec.create.trigger} | {t.trigger for t in spec.transitions if t.notify}
    with app.db.engine.connect() as conn:
        events = {
            (code, seq): trigger
            for code, seq, trigger in conn.execute(
                text("SELECT t.code, e.seq, e.trigger FROM events e JOIN tasks t ON t.id = e.task_id WHERE e.seq > 1")
            )
        }
        assignments = conn.execute(text("SELECT COUNT(*) FROM events WHERE seq = 1")).scalar_one()
        all_events = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
        reports = conn.execute(text("SELECT COUNT(*) FROM progress_reports")).scalar_one()
        needs_notice = {
            (task_id, seq)
            for task_id, seq, trigger in conn.execute(text("SELECT task_id, seq, trigger FROM events"))
            if trigger in told
        }
        keys = [k for (k,) in conn.execute(text("SELECT dedup_key FROM notifications"))]
        notices = Counter(r for (r,) in conn.execute(text("SELECT rule FROM notifications")))

    # no lost write and no double win: the steps the workers saw commit are exactly the events written
    assert len(set((c, s) for c, s, _ in committed)) == len(committed), "two steps committed as the same event"
    assert {(c, s): t for c, s, t in committed} == events
    assert all_events - assignments == len(committed)
    assert reports == sum(1 for _c, _s, t in committed if t == "progress")
    # the step's notifications committed with it; nothing was written twice
    event_keys = {(int(k.split(":")[0]), int(k.split(":")[2])) for k in keys if k.split(":")[1] == "event"}
    assert event_keys == needs_notice
    duplicated = [k for k, n in Counter(keys).items() if n > 1]
    assert not duplicated, duplicated[:10]
    # the sweeps really wrote while the crowd fired, and what they say they wrote is what is there
    while_firing = sum(t.notifications_while_firing for t in swept)
    assert while_firing > 0, swept
    assert while_firing + sum(t.notifications_after for t in swept) == sum(
        n for rule, n in notices.items() if rule != "event"
    )
    check_history(app)
    verdict = verify(app)  # the hash chains held under concurrent writers: one ledger order, no gaps
    assert verdict.ok, verdict.breaks[:5]
    return {
        "firing_seconds": round(firing_seconds, 1),
        "committed": len(committed),
        "refused": dict(refused),
        "by_trigger": dict(Counter(t for _c, _s, t in committed)),
        "sweeps": sum(t.sweeps for t in swept),
        "swept_while_firing": while_firing,
        "notifications": dict(notices),
    }


@pytest.mark.slow
def test_crowd_on_sqlite(sqlite_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """4 processes × 500 steps on one SQLite file, with sweeps beside them: no "database is locked".

    With the durability settings as shipped: the promise is worth nothing if it needed fewer fsyncs.
    """
    app = make_app(sqlite_url)
    figures = _crowd(sqlite_url, app, 4, tmp_path)
    with app.db.engine.connect() as conn:
        settings = [
            conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "synchronous", "busy_timeout")
        ]
    assert settings == ["wal", 2, 30_000]  # synchronous 2 is FULL
    print(f"sqlite crowd: {figures}")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_crowd_on_postgres(db_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """8 processes × 500 steps on PostgreSQL, with sweeps beside them: no deadlock or serialization failure."""
    figures = _crowd(db_url, make_app(db_url), 8, tmp_path)
    print(f"postgres crowd: {figures}")
