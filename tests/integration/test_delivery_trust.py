"""Delivery that can be trusted: one message per notification at the receiver, through pauses, kills and slowness.

Real `duban worker` processes (the embedded SQLite broker, so no server is needed), a real SMTP server
(aiosmtpd) and a local webhook receiver that counts every request by its Idempotency-Key. The chaos tests use
real clocks in the workers, short leases and short time-outs, so each stays well under a minute.

How a worker is caught between its claim and its send, deterministically: the receiver's listen queue is
full, so the worker's connect() waits in SYN_SENT (visible in /proc/net/tcp) after it has claimed the row and
before a byte of the request has left. That is where a paused worker used to wake up and send a row that
another worker had sent meanwhile.
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
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.delivery.channels import Channel, Guard, Message, SMTPChannel, no_guard
from duban.engine.domain.clock import FixedClock
from duban.engine.persistence.types import decode_instant, encode_instant
from duban.engine.services import delivery
from duban.engine.services.delivery import DeliveryPolicy, deliver_one, relay
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import fire
from duban.engine.worker.celery_app import make_celery, publisher
from tests.conftest import IN_CI, SUPERVISOR, UNIT_HEAD
from tests.helpers import new_task, snapshot

# One broker (or browser) at a time: with `-n 2`, tests sharing it run in one worker, one after another.
pytestmark = pytest.mark.xdist_group("broker")

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 27, 10, tzinfo=TZ)  # the deadline day of the task below: its reminders are due
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- 1. a re-sent email is the same message -----------------------------------------------------


def test_a_resent_email_carries_the_same_message_id() -> None:
    """The Message-ID comes from the dedup key alone, so a receiver can drop a second copy of the same notice."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[object] = []

    class Keep(MessageHandler):
        def handle_message(self, message: object) -> None:
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channel = SMTPChannel("127.0.0.1", port, "duban@example.gov.cn", None, None, False, timeout=5)
        notice = Message("7:remind:0:1:fenglei:email", "fenglei", "fenglei@example.gov.cn", "催办提醒", "今天到期")
        channel.send(notice)
        time.sleep(0.01)  # time and pid went into the old Message-ID; a copy a moment later must not differ
        channel.send(notice)
        channel.send(Message("8:remind:0:1:fenglei:email", "fenglei", "fenglei@example.gov.cn", "催办提醒", "x"))
    finally:
        controller.stop()
    ids = [m["Message-ID"] for m in received]  # type: ignore[index]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
    assert (
        ids[0].startswith("<") and ids[0].endswith("@example.gov.cn>") and len(ids[0]) == 32 + len("<@example.gov.cn>")
    )


# --- 2. a worker that lost its lease does not send ---------------------------------------------


def test_a_worker_that_lost_its_lease_before_the_send_does_not_send(sqlite_app: App, clock: FixedClock) -> None:
    """In process, deterministically: A claims, stalls past its lease, B takes the row over and sends; A gives up."""
    fire(sqlite_app, SUPERVISOR, new_task(sqlite_app), "remind")
    with sqlite_app.db.engine.connect() as conn:
        nid = int(conn.execute(text("SELECT max(id) FROM notifications")).scalar_one())
    sent: list[str] = []
    policy = DeliveryPolicy(lease_seconds=30, send_timeout_seconds=5)

    class Stalling:
        """Connects, then (while "paused") another worker claims and sends the row; then asks the guard."""

        def send(self, message: Message, guard: Guard = no_guard) -> None:
            later = clock.now() + timedelta(seconds=31)  # past A's lease
            with sqlite_app.uow() as uow:
                taken = uow.outbox.claim(nid, later, later + timedelta(seconds=30))
                assert taken is not None and uow.outbox.mark_sent(nid, later, taken.attempts)
                uow.commit()
            sent.append(f"B:{message.key}")
            guard()  # A wakes up: the last check before its first byte
            sent.append(f"A:{message.key}")

    class Quick:
        def send(self, message: Message, guard: Guard = no_guard) -> None:
            guard()
            sent.append(f"A:{message.key}")

    channels: dict[str, Channel] = {"console": Stalling()}
    assert deliver_one(sqlite_app, nid, channels, policy) == "skipped"
    assert [s[0] for s in sent] == ["B"]  # A sent nothing
    (status, attempts) = next((r.status, r.attempts) for r in delivery.list_notifications(sqlite_app) if r.id == nid)
    assert (status, attempts) == ("sent", 2)  # B's record stands
    # A lease that lapsed but that nobody took is simply extended: the sender still owns the row.
    fire(sqlite_app, SUPERVISOR, new_task(sqlite_app), "remind")
    with sqlite_app.db.engine.connect() as conn:
        other = int(conn.execute(text("SELECT max(id) FROM notifications")).scalar_one())
    assert deliver_one(sqlite_app, other, {"console": Quick()}, policy) == "sent"


def _remind_rows(app: App, n: int) -> list[int]:
    """``n`` pending rows, one per reminder (the assignment notices are not under test here)."""
    ids: list[int] = []
    for _ in range(n):
        code = new_task(app)
        with app.db.engine.begin() as conn:
            conn.execute(text("UPDATE notifications SET status = 'sent'"))
        fire(app, SUPERVISOR, code, "remind")
        with app.db.engine.connect() as conn:
            ids.append(int(conn.execute(text("SELECT max(id) FROM notifications")).scalar_one()))
    with app.db.engine.begin() as conn:
        conn.execute(text("UPDATE notifications SET status = 'sent' WHERE status = 'pending'"))
        conn.execute(text(f"UPDATE notifications SET status = 'pending' WHERE id IN ({', '.join(map(str, ids))})"))
    return ids


def test_a_batch_to_the_file_is_written_once_and_recorded_together(sqlite_app: App, tmp_path: Path) -> None:
    """The file channel takes a broker message's rows in one write: each key once, each row claimed once."""
    ids = _remind_rows(sqlite_app, 3)
    out = tmp_path / "out.jsonl"
    channels: dict[str, Channel] = {"console": delivery.build_channels({"DUBAN_NOTIFY_FILE": str(out)}, out)["file"]}
    policy = DeliveryPolicy(lease_seconds=30, send_timeout_seconds=5)
    assert delivery.deliver_batch(sqlite_app, ids, channels, policy) == {"sent": 3}
    assert delivery.deliver_batch(sqlite_app, ids, channels, policy) == {"skipped": 3}  # a redelivered message
    keys = [json.loads(line)["key"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(keys) == 3 and len(set(keys)) == 3
    rows = {r.id: (r.status, r.attempts) for r in delivery.list_notifications(sqlite_app) if r.id in ids}
    assert set(rows.values()) == {("sent", 1)}


def test_a_batch_whose_rows_were_taken_over_sends_none_of_them(sqlite_app: App, clock: FixedClock) -> None:
    """A claims a batch, stalls past its lease; B takes one row over and sends it; A's guard stops the batch."""
    ids = _remind_rows(sqlite_app, 3)
    sent: list[str] = []
    policy = DeliveryPolicy(lease_seconds=30, send_timeout_seconds=5)

    class Stalling:
        def send(self, message: Message, guard: Guard = no_guard) -> None:
            self.send_many([message], guard)

        def send_many(self, messages: list[Message], guard: Guard = no_guard) -> None:
            later = clock.now() + timedelta(seconds=31)  # past A's lease
            with sqlite_app.uow(write=True) as uow:
                taken = uow.outbox.claim(ids[1], later, later + timedelta(seconds=30))
                assert taken is not None and uow.outbox.mark_sent(ids[1], later, taken.attempts)
                uow.commit()
            sent.append("B")
            guard()  # A wakes up: its last check before the first byte
            sent.extend("A" for _ in messages)

    outcomes = delivery.deliver_batch(sqlite_app, ids, {"console": Stalling()}, policy)
    assert outcomes == {"skipped": 3} and sent == ["B"]  # A sent nothing
    rows = {r.id: (r.status, r.attempts) for r in delivery.list_notifications(sqlite_app) if r.id in ids}
    assert rows[ids[1]] == ("sent", 2)  # B's record stands
    assert rows[ids[0]] == rows[ids[2]] == ("pending", 1)  # A's other rows go back at once, sent by nobody yet
    quick = delivery.deliver_batch(sqlite_app, ids, {"console": delivery.build_channels({}, Path("x"))["console"]})
    assert quick == {"sent": 2, "skipped": 1}


def test_a_batch_whose_leases_ran_low_extends_them_before_sending(sqlite_app: App, clock: FixedClock) -> None:
    """Nobody took the rows, but the leases are nearly out (a slow open): the guard writes new leases first."""
    ids = _remind_rows(sqlite_app, 2)
    policy = DeliveryPolicy(lease_seconds=30, send_timeout_seconds=5)
    leases: list[object] = []

    class Slow:
        def send(self, message: Message, guard: Guard = no_guard) -> None:
            self.send_many([message], guard)

        def send_many(self, messages: list[Message], guard: Guard = no_guard) -> None:
            clock.advance(timedelta(seconds=27))  # 3 s of a 30 s lease left: less than the 5 s time-out
            guard()
            with sqlite_app.db.engine.connect() as conn:
                leases.extend(conn.execute(text("SELECT lease_until FROM notifications WHERE status = 'sending'")))

    assert delivery.deliver_batch(sqlite_app, ids, {"console": Slow()}, policy) == {"sent": 2}
    assert len(leases) == 2
    assert all(decode_instant(r[0]) >= clock.now() + timedelta(seconds=29) for r in leases)


# --- 4. settings are parsed before anything is written ------------------------------------------


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DUBAN_LEASE_SECONDS": "abc"}, "DUBAN_LEASE_SECONDS"),
        ({"DUBAN_LEASE_SECONDS": "0"}, "DUBAN_LEASE_SECONDS"),
        ({"DUBAN_MAX_ATTEMPTS": "-1"}, "DUBAN_MAX_ATTEMPTS"),
        ({"DUBAN_RETRY_BASE_SECONDS": "1.5"}, "DUBAN_RETRY_BASE_SECONDS"),
        ({"DUBAN_RELAY_HINT_SECONDS": "x"}, "DUBAN_RELAY_HINT_SECONDS"),
        ({"DUBAN_SWEEP_SECONDS": "never"}, "DUBAN_SWEEP_SECONDS"),
        ({"DUBAN_SWEEP_SECONDS": "nan"}, "DUBAN_SWEEP_SECONDS"),
        ({"DUBAN_SEND_TIMEOUT_SECONDS": "soon"}, "DUBAN_SEND_TIMEOUT_SECONDS"),
        ({"DUBAN_LEASE_SECONDS": "10", "DUBAN_SEND_TIMEOUT_SECONDS": "10"}, "DUBAN_SEND_TIMEOUT_SECONDS"),
        ({"DUBAN_SMTP_HOST": "127.0.0.1", "DUBAN_SMTP_PORT": "smtp"}, "DUBAN_SMTP_PORT"),
    ],
)
def test_a_bad_delivery_setting_refuses_before_the_sweep_writes(  # type: ignore[no-untyped-def]
    call, sqlite_url: str, monkeypatch, env: dict[str, str], named: str
) -> None:
    app = App.build(Settings(database_url=sqlite_url), clock=FixedClock(datetime(2026, 11, 2, 9, tzinfo=TZ)))
    new_task(app, deadline=date(2026, 11, 27))
    with app.db.engine.begin() as conn:
        conn.execute(text("UPDATE notifications SET status = 'sent'"))
    before = snapshot(app)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    refused = call("--db", sqlite_url, "sweep", "--now", "2026-11-27T10:00", "--deliver")
    assert refused.code == 2, refused.err
    assert refused.err.count("\n") == 1 and named in refused.err and "Traceback" not in refused.err
    assert snapshot(app) == before  # the sweep did not run: no reminder was written
    for command in (["worker"], ["beat"]):  # the long-running processes refuse at start-up, the same way
        assert call("--db", sqlite_url, *command).code == 2
    app.close()


def test_the_send_timeout_error_says_how_to_fix_it() -> None:
    from duban.engine.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        DeliveryPolicy.from_config({"DUBAN_LEASE_SECONDS": "20", "DUBAN_SEND_TIMEOUT_SECONDS": "30"})
    assert refused.value.render("en") == (
        "invalid DUBAN_SEND_TIMEOUT_SECONDS: 30 s is not less than DUBAN_LEASE_SECONDS (20 s): a send must end "
        "while its worker still holds the row; lower the time-out or raise the lease"
    )
    assert "DUBAN_LEASE_SECONDS" in refused.value.render("zh") and "请调低超时或调高租期" in refused.value.render("zh")
    policy = DeliveryPolicy.from_config({"DUBAN_LEASE_SECONDS": "30", "DUBAN_SEND_TIMEOUT_SECONDS": "2.5"})
    assert policy.batch_time_limit(50) == 50 * (3 * 2.5 + 10) + 10  # per batch, from the per-row budget


# --- the chaos tests: real workers, a counting receiver -------------------------------------------


class Hook:
    """A webhook receiver that counts every request it reads, by Idempotency-Key.

    ``delay`` makes it slow (it counts on arrival, then takes its time to answer). ``gated`` starts it with
    a full listen queue: a client's connect() then waits in SYN_SENT until ``open()``.
    """

    def __init__(self, delay: float = 0.0, gated: bool = False) -> None:
        self.arrivals: Counter[str] = Counter()
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 30

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                assert key == body["key"]
                with hook.lock:
                    hook.arrivals[key] += 1
                if delay:
                    time.sleep(delay)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 0 if gated else 16

            def handle_error(self, request: object, client_address: object) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.plug: socket.socket | None = None
        if gated:  # one connection nobody accepts fills a queue of 0 (Linux keeps backlog + 1)
            self.plug = socket.create_connection(("127.0.0.1", self.port))
        else:
            self.open()

    def open(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        if self.plug is not None:
            self.server.socket.listen(16)
            self.plug.close()
            self.plug = None

    def connecting(self) -> bool:
        """A client waits in connect() to this receiver (SYN_SENT)."""
        target = f"0100007F:{self.port:04X}"
        with open("/proc/net/tcp") as table:
            return any(line.split()[2] == target and line.split()[3] == "02" for line in table.read().splitlines()[1:])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Chaos:
    """A workspace with one task whose four reminders are due, and real workers with real clocks."""

    def __init__(
        self, folder: Path, sqlite_template: Path, hook: Hook, env: dict[str, str] | None = None, swept: bool = True
    ) -> None:
        shutil.copy(sqlite_template, folder / "duban.db")
        self.folder = folder
        self.db = str(folder / "duban.db")
        self.hook = hook
        self.env = {
            **os.environ,
            "DUBAN_DATABASE_URL": self.db,
            "DUBAN_BROKER_URL": "",  # the embedded SQLite broker: no server needed
            "DUBAN_CHANNELS": "webhook",
            "DUBAN_WEBHOOK_URL": hook.url,
            # a worker waits in connect() up to the time-out: time enough for the test to see it there
            "DUBAN_LEASE_SECONDS": "6",
            "DUBAN_SEND_TIMEOUT_SECONDS": "5",
            "DUBAN_RELAY_HINT_SECONDS": "2",
            "DUBAN_USER": "",
            **(env or {}),
        }
        self.env.pop("DUBAN_NOW", None)
        self.extra = {k: v for k, v in self.env.items() if k.startswith("DUBAN_")}
        writer = App.build(
            Settings(database_url=self.db, channels=("webhook",), extra=self.extra),
            clock=FixedClock(datetime(2026, 11, 2, 9, tzinfo=TZ)),
        )
        # signed for at once: the sign-for ladder (签收时限) is not under test here
        fire(writer, UNIT_HEAD, new_task(writer, deadline=date(2026, 11, 27)), "start")
        with writer.db.engine.begin() as conn:  # assignment notices are not under test here
            conn.execute(text("UPDATE notifications SET status = 'sent'"))
        writer.clock = FixedClock(T0)
        if swept:
            assert sweep(writer).notifications == 4  # reminders 3, 1 and 0 working days before, one stale chase
            with writer.db.engine.begin() as conn:  # due by any real clock
                conn.execute(
                    text("UPDATE notifications SET due_at = :t WHERE status = 'pending'"),
                    {"t": encode_instant(LONG_AGO, "sqlite")},
                )
        writer.close()
        # the relay, as a beat runs it: on the real clock
        self.app = App.build(Settings(database_url=self.db, channels=("webhook",), extra=self.extra))
        self.workers: list[subprocess.Popen[bytes]] = []

    def queue(self, name: str) -> Callable[[list[int]], None]:
        return publisher(make_celery(Settings(database_url=self.db, extra={**self.extra, "DUBAN_QUEUE": name})))

    def start_workers(self, *specs: tuple[str, int]) -> list[subprocess.Popen[bytes]]:
        """Start workers (queue, concurrency) side by side; return once each says it is ready."""
        exe = Path(sys.executable).with_name("duban")
        started: list[tuple[subprocess.Popen[bytes], Path]] = []
        for queue, concurrency in specs:
            path = self.folder / f"worker-{len(self.workers)}.log"
            with open(path, "wb") as log:
                proc = subprocess.Popen(
                    [str(exe), "worker", "-c", str(concurrency), "--loglevel", "INFO"],
                    env={**self.env, "DUBAN_QUEUE": queue},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.workers.append(proc)
            started.append((proc, path))
        for proc, path in started:
            wait_until(
                lambda p=proc, f=path: b" ready." in f.read_bytes() or p.poll() is not None,  # type: ignore[misc]
                60,
                "a worker to start",
            )
            assert proc.poll() is None, path.read_text(errors="replace")
        return [proc for proc, _path in started]

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.folder / f"worker-{self.workers.index(proc)}.log").read_text(errors="replace")

    def rows(self) -> list[tuple[str, str, int, datetime | None]]:
        with self.app.db.engine.connect() as conn:
            return [
                (r[0], r[1], r[2], None if r[3] is None else decode_instant(r[3]))
                for r in conn.execute(
                    text(
                        "SELECT dedup_key, status, attempts, lease_until FROM notifications "
                        "WHERE rule <> 'event' ORDER BY id"
                    )
                )
            ]

    def all_sent(self) -> bool:
        return all(status == "sent" for _k, status, _a, _l in self.rows())

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.app.close()
        self.hook.close()


@pytest.fixture
def chaos(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[..., Chaos]]:
    if not Path("/proc/net/tcp").exists():
        if IN_CI:
            pytest.fail("/proc/net/tcp is needed to see a worker waiting in connect() (CI=true)")
        pytest.skip("/proc/net/tcp is needed to see a worker waiting in connect() (Linux only)")
    made: list[Chaos] = []

    def make(hook: Hook, env: dict[str, str] | None = None) -> Chaos:
        ws = Chaos(tmp_path, sqlite_template, hook, env)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.close()


def caught_between_claim_and_send(
    chaos: Callable[..., Chaos], fault: signal.Signals
) -> tuple[Chaos, Hook, subprocess.Popen[bytes]]:
    """Worker A claims the first row and waits in connect(); it gets ``fault``; after A's lease B takes over."""
    hook = Hook(gated=True)
    ws = chaos(hook)
    first, second = ws.start_workers(("qa", 1), ("qb", 1))
    assert relay(ws.app, ws.queue("qa")) == 4
    wait_until(hook.connecting, 30, "worker A to claim a row and wait in connect()")
    os.killpg(first.pid, fault)
    claimed = [r for r in ws.rows() if r[1] == "sending"]
    assert len(claimed) == 1 and claimed[0][2] == 1  # A holds one row, by its first claim
    hook.open()
    lease_until = claimed[0][3]
    assert lease_until is not None
    wait_until(lambda: datetime.now(UTC) > lease_until, 10, "A's lease to run out")
    # the beat's next tick: the lapsed row and the lapsed hand-outs go to B
    wait_until(lambda: relay(ws.app, ws.queue("qb")) > 0, 10, "the relay to hand the rows to B")
    wait_until(ws.all_sent, 30, "worker B to send every row")
    return ws, hook, first


@pytest.mark.slow
def test_a_worker_paused_past_its_lease_does_not_send_again(chaos: Callable[..., Chaos]) -> None:
    """SIGSTOP between claim and send, past the lease; B sends; SIGCONT: A re-checks its lease and gives up."""
    ws, hook, paused = caught_between_claim_and_send(chaos, signal.SIGSTOP)
    os.killpg(paused.pid, signal.SIGCONT)
    wait_until(lambda: "succeeded" in ws.log(paused), 30, "worker A to finish its batch after SIGCONT")
    time.sleep(0.3)
    keys = [k for k, _s, _a, _l in ws.rows()]
    assert sorted(hook.arrivals) == sorted(keys) and len(keys) == 4
    assert set(hook.arrivals.values()) == {1}, hook.arrivals  # each key reached the receiver once
    assert "taken over by another worker" in ws.log(paused)
    assert "'skipped': 4" in ws.log(paused)  # A sent nothing: its row was lost, the others already sent


@pytest.mark.slow
def test_a_worker_killed_mid_send_sends_nothing_twice(chaos: Callable[..., Chaos]) -> None:
    """SIGKILL of a worker that has claimed a row and is connecting; B takes over after the lease; once each."""
    ws, hook, killed = caught_between_claim_and_send(chaos, signal.SIGKILL)
    killed.wait(timeout=10)
    time.sleep(0.3)
    keys = [k for k, _s, _a, _l in ws.rows()]
    assert sorted(hook.arrivals) == sorted(keys) and len(keys) == 4
    assert set(hook.arrivals.values()) == {1}, hook.arrivals
    assert max(a for _k, _s, a, _l in ws.rows()) == 2  # the killed worker's row was claimed twice, sent once


@pytest.mark.slow
def test_a_slow_receiver_gets_each_message_once(chaos: Callable[..., Chaos]) -> None:
    """2 s per message, a 6 s lease: no batch is killed mid-send, no row is sent by two workers.

    Before, Celery's limit for a whole batch was the lease minus 5 s (here 5 s): the batch of four was killed
    in the middle of its third send and that message went out again once its lease ran out.
    """
    hook = Hook(delay=2.0)
    ws = chaos(hook, {"DUBAN_LEASE_SECONDS": "6", "DUBAN_SEND_TIMEOUT_SECONDS": "3"})
    ws.start_workers(("qs", 2))  # prefork: Celery enforces its time limits there
    publish = ws.queue("qs")
    started = time.monotonic()
    while not ws.all_sent():  # the beat relays every tick; lapsed hand-outs go out again
        assert time.monotonic() - started < 45, (ws.rows(), hook.arrivals)
        relay(ws.app, publish)
        time.sleep(1)
    time.sleep(2.5)  # a late copy from a worker still sending would arrive within one receiver delay
    assert sorted(hook.arrivals) == sorted(k for k, _s, _a, _l in ws.rows())
    assert set(hook.arrivals.values()) == {1}, hook.arrivals
    assert {a for _k, _s, a, _l in ws.rows()} == {1}  # never claimed twice: no send outlived its lease


# --- 3. the beat sweeps while the broker is down --------------------------------------------------


@pytest.mark.slow
def test_the_beat_writes_reminders_while_the_broker_is_down(tmp_path: Path, sqlite_template: Path) -> None:
    """`duban beat` with its broker on a closed port still writes the outbox; once the broker is up, it delivers."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        if IN_CI:
            pytest.fail("redis-server is not installed (CI=true)")
        pytest.skip("redis-server is not installed")
    hook = Hook()
    # the task alone: the beat's own sweep is to write its reminders
    ws = Chaos(
        tmp_path, sqlite_template, hook, {"DUBAN_LEASE_SECONDS": "30", "DUBAN_SEND_TIMEOUT_SECONDS": "5"}, swept=False
    )
    assert ws.rows() == []
    port = free_port()  # nothing listens here yet
    broker = f"redis://127.0.0.1:{port}/0"
    env = {
        **ws.env,
        "DUBAN_BROKER_URL": broker,
        "DUBAN_SWEEP_SECONDS": "1",
        "DUBAN_NOW": T0.isoformat(),
        "DUBAN_QUEUE": "qbeat",
    }
    beat_log = tmp_path / "beat.log"
    redis: subprocess.Popen[bytes] | None = None
    with open(beat_log, "wb") as log:
        beat = subprocess.Popen(
            [str(Path(sys.executable).with_name("duban")), "beat", "--loglevel", "INFO"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: len(ws.rows()) == 4, 30, "the beat to sweep with the broker down")
        assert {s for _k, s, _a, _l in ws.rows()} == {"pending"}
        assert hook.arrivals == Counter()
        wait_until(lambda: b"broker unavailable" in beat_log.read_bytes(), 15, "the beat to report the broker down")
        redis = subprocess.Popen(
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
        ws.env = {**ws.env, "DUBAN_BROKER_URL": broker, "DUBAN_NOW": T0.isoformat()}
        ws.start_workers(("qbeat", 1))
        wait_until(ws.all_sent, 40, "delivery once the broker is back")
        assert sorted(hook.arrivals) == sorted(k for k, _s, _a, _l in ws.rows())
        assert set(hook.arrivals.values()) == {1}
        assert beat.poll() is None, beat_log.read_text(errors="replace")
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=10)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()
        if redis is not None:
            redis.kill()
            redis.wait()
        ws.close()
