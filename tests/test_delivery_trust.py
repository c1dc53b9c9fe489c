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

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from engine.delivery.channels import Message, SMTPChannel

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
