"""Real `duban worker` processes on the embedded broker, Redis and RabbitMQ, and the faults that lose nothing.

The worker runs as a separate process started through the console script; the
test process sweeps and relays with the same service functions the beat runs.
A local webhook server stands in for the receiving end and records every
request with its Idempotency-Key.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.clock import FixedClock
from duban.engine.services.delivery import relay
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import fire
from duban.engine.worker.celery_app import make_celery, publisher, relay_safely
from tests.conftest import IN_CI, ORG, UNIT_HEAD
from tests.helpers import new_task

# One broker (or browser) at a time: with `-n 2`, tests sharing it run in one worker, one after another.
pytestmark = pytest.mark.xdist_group("broker")

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 27, 10, tzinfo=TZ)  # the deadline day of the tasks below: reminders are due
REDIS = os.environ.get("DUBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBIT = os.environ.get("DUBAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need(host: str, port: int, what: str) -> None:
    if not reachable(host, port):
        if IN_CI:
            pytest.fail(f"{what} is not reachable at {host}:{port} (CI=true: these tests must run)")
        pytest.skip(f"{what} is not reachable at {host}:{port}")


def wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


class Receiver(BaseHTTPRequestHandler):
    received: list[str] = []
    processed: dict[str, int] = {}
    hold_first: float = 0.0
    lock = threading.Lock()
    release = threading.Event()

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers["Idempotency-Key"]
        assert key == body["key"]
        with Receiver.lock:
            Receiver.received.append(key)
            hold, Receiver.hold_first = Receiver.hold_first, 0.0
        if hold:
            Receiver.release.wait(hold)  # the worker is killed while it waits here
        with Receiver.lock:  # an idempotent receiver: a key it has seen is acknowledged, not processed again
            Receiver.processed.setdefault(key, 1)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a reply to a killed worker fails; printing that would land in a later test's captured stderr


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.processed, Receiver.hold_first = [], {}, 0.0
    Receiver.release.clear()
    server = QuietServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    Receiver.release.set()
    server.shutdown()
    server.server_close()


class Workspace:
    def __init__(self, folder: Path, broker: str, hook: str) -> None:
        self.folder = folder
        self.db = str(folder / "duban.db")
        self.env = {
            **os.environ,
            "DUBAN_DATABASE_URL": self.db,
            "DUBAN_BROKER_URL": broker,
            "DUBAN_QUEUE": f"duban-test-{uuid.uuid4().hex[:8]}",
            "DUBAN_CHANNELS": "webhook",
            "DUBAN_WEBHOOK_URL": hook,
            "DUBAN_LEASE_SECONDS": "30",
            "DUBAN_RELAY_HINT_SECONDS": "60",
            "DUBAN_USER": "",
        }
        self.clock = FixedClock(T0)
        extra = {k: v for k, v in self.env.items() if k.startswith("DUBAN_")}
        self.settings = Settings(database_url=self.db, channels=("webhook",), extra=extra)
        self.app = App.build(self.settings, clock=self.clock)
        self.celery = make_celery(self.settings)
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_worker(self, now: datetime) -> subprocess.Popen[bytes]:
        exe = Path(sys.executable).with_name("duban")
        log = open(self.folder / f"worker-{len(self.workers)}.log", "wb")  # noqa: SIM115 - lives with the process
        env = {**self.env, "DUBAN_NOW": now.isoformat()}
        proc = subprocess.Popen(
            [str(exe), "worker", "-c", "1", "--loglevel", "INFO"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(proc)
        path = Path(log.name)
        wait_until(lambda: b" ready." in path.read_bytes() or proc.poll() is not None, 60, "the worker to start")
        assert proc.poll() is None, path.read_text(errors="replace")
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def statuses(self) -> list[tuple[str, str, int]]:
        with self.app.db.engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text("SELECT dedup_key, status, attempts FROM notifications WHERE rule <> 'event' ORDER BY id")
                )
            ]

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.app.close()


@pytest.fixture
def workspace(tmp_path: Path, sqlite_template: Path, receiver: str) -> Iterator[Callable[[str], Workspace]]:
    made: list[Workspace] = []

    def make(broker: str) -> Workspace:
        shutil.copy(sqlite_template, tmp_path / "duban.db")
        ws = Workspace(tmp_path, broker, receiver)
        assign_clock = FixedClock(datetime(2026, 11, 2, 9, tzinfo=TZ))
        ws.app.clock = assign_clock
        for _ in range(3):  # signed for at once: the sign-for ladder (签收时限) is not under test here
            fire(ws.app, UNIT_HEAD, new_task(ws.app, deadline=date(2026, 11, 27)), "start")
        with ws.app.db.engine.begin() as conn:  # assignment notices are not under test here
            conn.execute(text("UPDATE notifications SET status = 'sent'"))
        ws.app.clock = ws.clock
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.close()


def deliver_all(ws: Workspace, broker_name: str) -> None:
    ws.start_worker(T0)
    result = sweep(ws.app)
    # each of three tasks: three reminders (3, 1, 0 working days before) and one stale-progress chase
    assert result.notifications == 3 * 4
    assert relay(ws.app, publisher(ws.celery)) == 12
    wait_until(lambda: all(s == "sent" for _k, s, _a in ws.statuses()), 60, f"delivery through {broker_name}")
    assert sorted(Receiver.processed) == sorted(k for k, _s, _a in ws.statuses())
    assert len(Receiver.received) == 12  # nothing sent twice


@pytest.mark.slow
def test_worker_on_the_embedded_broker(workspace) -> None:  # type: ignore[no-untyped-def]
    deliver_all(workspace(""), "the embedded SQLite broker")


@pytest.mark.slow
def test_worker_on_redis(workspace) -> None:  # type: ignore[no-untyped-def]
    need("127.0.0.1", 6379, "Redis")
    deliver_all(workspace(REDIS), "Redis")


@pytest.mark.slow
def test_worker_on_rabbitmq(workspace) -> None:  # type: ignore[no-untyped-def]
    need("127.0.0.1", 5672, "RabbitMQ")
    deliver_all(workspace(RABBIT), "RabbitMQ")


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing(workspace) -> None:  # type: ignore[no-untyped-def]
    ws = workspace("")  # kombu's SQLAlchemy transport forgets an unacknowledged message when its worker dies
    Receiver.hold_first = 30
    first = ws.start_worker(T0)
    sweep(ws.app)
    relay(ws.app, publisher(ws.celery))
    wait_until(lambda: len(Receiver.received) >= 1, 30, "the first delivery to reach the receiver")
    ws.kill(first)  # SIGKILL, by its PID, while it waits for the receiver's answer
    stuck = [s for s in ws.statuses() if s[1] != "sent"]
    assert stuck and any(s[1] == "sending" for s in stuck)
    later = T0 + timedelta(minutes=2)  # past the dead worker's lease and the relay's hint
    ws.clock.set(later)
    ws.start_worker(later)
    relay(ws.app, publisher(ws.celery))
    wait_until(lambda: all(s == "sent" for _k, s, _a in ws.statuses()), 60, "the second worker to take over")
    assert sorted(Receiver.processed) == sorted(k for k, _s, _a in ws.statuses())
    assert all(count == 1 for count in Receiver.processed.values())  # each processed exactly once
    assert max(a for _k, _s, a in ws.statuses()) == 2  # the interrupted one was tried twice
    # The one residual copy: the receiver had the request in hand when its sender died, and nothing on the
    # sending side can know that. It carries the same Idempotency-Key, so the receiver dropped it; every other
    # key arrived exactly once.
    arrivals = Counter(Receiver.received)
    assert sorted(arrivals.values()) == [1] * 11 + [2]


@pytest.mark.slow
def test_broker_down_while_sweeping_then_back(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        if IN_CI:
            pytest.fail("redis-server is not installed (CI=true)")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def start_redis() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                redis_server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: reachable("127.0.0.1", port), 20, "a private Redis to start")
        return proc

    broker = start_redis()
    try:
        ws = workspace(f"redis://127.0.0.1:{port}/0")
        ws.start_worker(T0)
        broker.kill()
        broker.wait()
        sweep(ws.app)  # the sweep needs no broker: the database is the source of truth
        assert relay_safely(ws.app, publisher(ws.celery)) == 0  # the broker refused; nothing is lost
        assert {s for _k, s, _a in ws.statuses()} == {"pending"}
        broker = start_redis()
        wait_until(lambda: relay_safely(ws.app, publisher(ws.celery)) > 0, 30, "the relay to reach the broker again")
        wait_until(lambda: all(s == "sent" for _k, s, _a in ws.statuses()), 60, "delivery after the outage")
        assert len(Receiver.received) == len(ws.statuses()) == 12
    finally:
        broker.kill()
        broker.wait()


def test_only_one_beat_holds_the_lock(sqlite_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.worker.beat_lock import beat_lock

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time\n"
                "from duban.engine.app import App\nfrom duban.engine.config.settings import Settings\nfrom duban.engine.worker.beat_lock import beat_lock\n"
                f"app = App.build(Settings(database_url={sqlite_url!r}))\n"
                "with beat_lock(app) as held:\n    print(held, flush=True)\n    time.sleep(30)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"True"
        with beat_lock(make_app(sqlite_url)) as held:
            assert held is False
    finally:
        holder.kill()
        holder.wait()
    with beat_lock(make_app(sqlite_url)) as held:
        assert held is True


def test_only_one_beat_on_postgres(pg_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.worker.beat_lock import beat_lock

    first, second = make_app(pg_url), make_app(pg_url)
    with beat_lock(first) as a, beat_lock(second) as b:
        assert (a, b) == (True, False)
    with beat_lock(second) as b:
        assert b is True
    _ = ORG
