"""Deadlines that act, on SQLite and PostgreSQL: the sweep, catch-up, dedup, extensions, reminders by hand,
the traffic light, and inline delivery through real channels (a file, a local SMTP server, a local webhook)."""

from __future__ import annotations

import json
import socket
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.errors import ExtensionConflict, InvalidInput, NotPermitted, ReasonRequired
from duban.engine.services import delivery
from duban.engine.services.extensions import decide_extension, list_extensions, request_extension
from duban.engine.services.queries import TaskFilter, list_tasks, show_task
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, OTHER_UNIT_MEMBER, PRINCIPAL, SUPERVISOR, UNIT_HEAD
from tests.helpers import check_history, new_task, snapshot

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ)


def rows(app: App, where: str = "1=1") -> list[tuple]:  # type: ignore[type-arg]
    with app.db.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    f"SELECT rule, level, recipient_id, channel, status, dedup_key FROM notifications WHERE {where} ORDER BY id"
                )
            )
        ]


def deadline_rows(app: App) -> list[tuple[str, int]]:
    return sorted({(r[0], r[1]) for r in rows(app, "rule IN ('remind', 'escalate')")})


@pytest.fixture
def task(app: App) -> str:
    code = new_task(app, deadline=date(2026, 11, 27), responsible_person="冯磊")  # a Friday
    fire(app, UNIT_HEAD, code, "start")
    return code


def test_assign_tells_the_unit_in_the_same_transaction(app: App) -> None:
    code = new_task(app, responsible_person="冯磊")
    assert [(r[0], r[2]) for r in rows(app)] == [("event", UNIT_HEAD)]  # head and responsible person are one here
    assert show_task(app, code).summary.deadline == date(2026, 10, 9)


def test_reminders_and_escalations_each_once(app: App, clock, task: str) -> None:  # type: ignore[no-untyped-def]
    plan = [
        (at(2026, 11, 20), []),
        (at(2026, 11, 24), [("remind", 3)]),
        (at(2026, 11, 26), [("remind", 1), ("remind", 3)]),
        (at(2026, 11, 27), [("remind", 0), ("remind", 1), ("remind", 3)]),
        (at(2026, 11, 27, 11), [("remind", 0), ("remind", 1), ("remind", 3)]),  # again: nothing new
        (at(2026, 12, 1), [("escalate", 1), ("remind", 0), ("remind", 1), ("remind", 3)]),
    ]
    for now, expected in plan:
        clock.set(now)
        sweep(app)
        sweep(app)  # a second sweep at the same moment writes nothing
        assert deadline_rows(app) == sorted(expected), now
    keys = [r[5] for r in rows(app)]
    assert len(keys) == len(set(keys))
    summary = list_tasks(app, TaskFilter(lights=("red",)))[0]
    assert (summary.code, summary.light, summary.escalation_level) == (task, "red", 1)
    assert summary.days_overdue == 2  # Monday 30 November and Tuesday 1 December


def test_catch_up_after_downtime(app: App, clock, task: str) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(2026, 12, 9))  # nothing ran for weeks
    result = sweep(app)
    assert deadline_rows(app) == [
        ("escalate", 1),
        ("escalate", 2),
        ("escalate", 3),
        ("remind", 0),
        ("remind", 1),
        ("remind", 3),
    ]
    assert result.escalations == 3
    with app.db.engine.connect() as conn:
        named, level, next_at = conn.execute(
            text("SELECT named_in_circular, escalation_level, next_action_at FROM tasks")
        ).one()
    assert bool(named) and level == 3
    assert next_at is not None  # only stale-progress chasing is left
    before = rows(app)
    sweep(app)
    assert rows(app) == before


def test_two_sweeps_at_once_write_nothing_twice(app: App, make_app, clock, task: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(20):
        new_task(app, deadline=date(2026, 11, 27))
    clock.set(at(2026, 12, 9))
    other = make_app(app.settings.database_url)
    errors: list[BaseException] = []

    def run(a: App) -> None:
        try:
            sweep(a, batch=5)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in (app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = [r[5] for r in rows(app)]
    assert len(keys) == len(set(keys))
    with app.db.engine.connect() as conn:
        escalations = conn.execute(text("SELECT count(*) FROM notifications WHERE rule = 'escalate'")).scalar()
    # per task: level 1 the unit head; 2 the lead leader and the head; 3 the two supervisors and the lead leader
    assert escalations == 21 * (1 + 2 + 3)


def test_the_clock_stops_for_review_and_the_wait_is_credited(app: App, clock, task: str) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(2026, 11, 20))
    report_progress(app, UNIT_HEAD, task, ProgressInput(100, "完成"))
    fire(app, UNIT_HEAD, task, "submit")
    clock.set(at(2026, 12, 9))
    sweep(app)
    assert deadline_rows(app) == []  # nobody is chased while the leader reviews
    assert list_tasks(app, TaskFilter())[0].light is None
    fire(app, DEPUTY, task, "reject", comment="佐证不足")  # 13 working days later
    detail = show_task(app, task)
    assert detail.summary.deadline == date(2026, 12, 16) and detail.summary.original_deadline == date(2026, 11, 27)
    assert (detail.summary.light, detail.summary.days_left) == ("green", 5)  # the 5 days it had when submitted
    check_history(app)


def test_extension_moves_the_deadline_and_replans(app: App, clock, task: str) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(2026, 11, 24))
    sweep(app)
    assert deadline_rows(app) == [("remind", 3)]
    with pytest.raises(NotPermitted):
        request_extension(app, OTHER_UNIT_MEMBER, task, "2026-12-31", "需要更多时间")
    with pytest.raises(InvalidInput, match="not later than the current deadline"):
        request_extension(app, UNIT_HEAD, task, "2026-11-20", "x")
    with pytest.raises(ReasonRequired):
        request_extension(app, UNIT_HEAD, task, "2026-12-31", "  ")
    assert "extend" in show_task(app, task, viewer=UNIT_HEAD).allowed
    request_id = request_extension(app, UNIT_HEAD, task, "年底前", "施工队伍进场延迟")
    assert "extend" not in show_task(app, task, viewer=UNIT_HEAD).allowed
    assert {"grant_extension", "deny_extension"} <= set(show_task(app, task, viewer=DEPUTY).allowed)
    with pytest.raises(ExtensionConflict):
        request_extension(app, UNIT_HEAD, task, "2026-12-30", "again")
    with pytest.raises(NotPermitted):
        decide_extension(app, PRINCIPAL, request_id, True, None)  # a leader, not the lead leader
    view = decide_extension(app, DEPUTY, request_id, True, "同意")
    assert (view.status, view.requested_deadline) == ("approved", date(2026, 12, 31))
    with pytest.raises(ExtensionConflict, match="already approved"):
        decide_extension(app, DEPUTY, request_id, False, None)
    detail = show_task(app, task)
    assert detail.summary.deadline == date(2026, 12, 31) and detail.summary.original_deadline == date(2026, 11, 27)
    assert [e.trigger for e in detail.events][-2:] == ["extend", "grant_extension"]
    assert detail.events[-2].data == {"from": "2026-11-27", "to": "2026-12-31"}
    clock.set(at(2026, 12, 9))
    sweep(app)
    assert deadline_rows(app) == [("remind", 3)]  # the old deadline's reminders and escalations are gone
    clock.set(at(2026, 12, 28))
    sweep(app)
    keys = [r[5] for r in rows(app, "rule = 'remind'")]
    assert any(k.split(":")[3] == "2" for k in keys)  # under deadline version 2
    assert [v.status for v in list_extensions(app, code=task)] == ["approved"]
    check_history(app)


def test_denied_extension_keeps_the_deadline(app: App, task: str) -> None:
    request_id = request_extension(app, UNIT_HEAD, task, "2026-12-31", "x")
    view = decide_extension(app, DEPUTY, request_id, False, "按期完成")
    assert view.status == "denied" and show_task(app, task).summary.deadline == date(2026, 11, 27)


def test_remind_by_hand(app: App, task: str) -> None:
    before = snapshot(app)
    with pytest.raises(NotPermitted):
        fire(app, UNIT_HEAD, task, "remind", comment="x")
    assert snapshot(app) == before
    fire(app, SUPERVISOR, task, "remind", comment="请于本周内完成")
    reminded = [r for r in rows(app) if r[0] == "event" and r[5].endswith(f":{UNIT_HEAD}:console")]
    assert len(reminded) == 2  # assigned, then reminded
    assert show_task(app, task).events[-1].trigger == "remind"


def test_deadline_expressions_at_assign(app: App) -> None:
    ongoing = new_task(app, deadline="长期坚持")
    at_once = new_task(app, deadline="立行立改")
    detail = show_task(app, ongoing).summary
    assert detail.deadline is None and detail.deadline_expr == "长期坚持" and detail.light == "green"
    assert show_task(app, at_once).summary.deadline == date(2026, 9, 14)  # five working days after 7 September
    with pytest.raises(InvalidInput, match="cannot read '下周五'"):
        new_task(app, deadline="下周五")


# --- delivery ---------------------------------------------------------------------------------------


def test_inline_delivery_to_a_file(app: App, clock, task: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "notices.jsonl"
    app.settings.extra.update({"DUBAN_NOTIFY_FILE": str(out)})
    object.__setattr__(app.settings, "channels", ("file",))
    clock.set(at(2026, 12, 1))
    sweep(app)
    outcomes = delivery.deliver_pending(app)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    file_rows = [r for r in rows(app) if r[3] == "file"]
    assert outcomes["sent"] == len(file_rows) + 1  # the assignment notice went to the console, before the switch
    assert len(lines) == len(file_rows) >= 4
    assert any("1级督办" in line["subject"] for line in lines)
    assert len({line["key"] for line in lines}) == len(lines)
    assert delivery.deliver_pending(app) == {}  # nothing left to send
    assert {r.status for r in delivery.list_notifications(app)} == {"sent"}


class _Hook(BaseHTTPRequestHandler):
    seen: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    fail_first: int = 0

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Hook.fail_first > 0:
            _Hook.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Hook.seen.append((self.headers["Idempotency-Key"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook():  # type: ignore[no-untyped-def]
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    _Hook.seen, _Hook.fail_first = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook?access_token=secret-token"
    server.shutdown()


def test_webhook_failures_retry_then_fail_then_retry_delivers(app: App, clock, task: str, webhook: str) -> None:  # type: ignore[no-untyped-def]
    app.settings.extra.update(
        {"DUBAN_WEBHOOK_URL": webhook, "DUBAN_MAX_ATTEMPTS": "2", "DUBAN_RETRY_BASE_SECONDS": "60"}
    )
    object.__setattr__(app.settings, "channels", ("webhook",))
    fire(app, SUPERVISOR, task, "remind", comment="请尽快")
    with app.db.engine.begin() as conn:  # only the reminder is under test
        conn.execute(
            text("UPDATE notifications SET status = 'sent' WHERE rule <> 'event' OR dedup_key LIKE '%:event:1:%'")
        )
    _Hook.fail_first = 10
    assert delivery.deliver_pending(app) == {"retry": 1}
    failed = [r for r in delivery.list_notifications(app) if r.status == "pending"][0]
    assert "HTTP 503" in (failed.last_error or "") and "secret-token" not in (failed.last_error or "")
    assert delivery.deliver_pending(app) == {}  # backing off
    clock.advance(timedelta(minutes=2))
    assert delivery.deliver_pending(app) == {"failed": 1}
    assert [r.status for r in delivery.list_notifications(app, "failed")] == ["failed"]
    _Hook.fail_first = 0
    assert delivery.retry_notifications(app, None) == 1
    assert delivery.deliver_pending(app) == {"sent": 1}
    ((key, body),) = _Hook.seen
    assert "催办" in body["subject"] and key == body["key"]  # the Idempotency-Key lets a receiver drop a repeat


def test_email_through_a_local_smtp_server(app: App, clock, task: str) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[object] = []

    class Keep(MessageHandler):
        def handle_message(self, message: object) -> None:
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.settings.extra.update(
            {
                "DUBAN_SMTP_HOST": "127.0.0.1",
                "DUBAN_SMTP_PORT": str(port),
                "DUBAN_SMTP_FROM": "duban@example.gov.cn",
            }
        )
        object.__setattr__(app.settings, "channels", ("email",))
        clock.set(at(2026, 11, 24))
        sweep(app)
        outcomes = delivery.deliver_pending(app)
    finally:
        controller.stop()
    email_rows = [r for r in rows(app) if r[3] == "email"]
    assert outcomes["sent"] == len(email_rows) + 1 and len(received) == len(email_rows) >= 1
    mail = received[-1]
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(mail["Subject"])))  # type: ignore[index]
    assert mail["To"] == "fenglei@example.gov.cn" and "催办提醒" in subject  # type: ignore[index]


def test_unconfigured_channel_fails_with_the_reason(app: App, task: str) -> None:
    object.__setattr__(app.settings, "channels", ("dingtalk",))
    fire(app, SUPERVISOR, task, "remind")
    outcomes = delivery.deliver_pending(app)
    assert outcomes["failed"] >= 1
    errors = {r.last_error for r in delivery.list_notifications(app, "failed")}
    assert any("channel 'dingtalk' is not configured" in (e or "") for e in errors)


def test_robot_channels_speak_their_formats(webhook: str) -> None:
    from duban.engine.delivery.channels import DingTalkChannel, Message, WeComChannel

    message = Message("7:remind:0:1:fenglei:wecom", "fenglei", "13800000010", "催办提醒", "今天到期")
    WeComChannel(webhook).send(message)
    DingTalkChannel(webhook, "SEC-secret").send(message)
    (_k1, wecom), (_k2, ding) = _Hook.seen
    assert wecom == {"msgtype": "markdown", "markdown": {"content": "**催办提醒**\n今天到期\n<@13800000010>"}}
    assert ding["msgtype"] == "markdown" and ding["at"] == {"atMobiles": ["13800000010"]}
    signed = DingTalkChannel("https://oapi.dingtalk.com/robot/send?access_token=t", "SEC-secret").signed_url(
        1700000000000
    )
    # the documented recipe: base64(HMAC-SHA256(secret, "timestamp\nsecret")), URL-encoded
    import base64
    import hashlib
    import hmac
    import urllib.parse

    digest = hmac.new(b"SEC-secret", b"1700000000000\nSEC-secret", hashlib.sha256).digest()
    assert signed.endswith("&timestamp=1700000000000&sign=" + urllib.parse.quote_plus(base64.b64encode(digest)))


def test_sweep_extend_and_notifications_from_the_command_line(call, sqlite_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    made = call(
        "--db",
        sqlite_url,
        "--as",
        PRINCIPAL,
        "--json",
        "assign",
        "--title",
        "路灯",
        "--unit",
        "社会事务科",
        "--leader",
        DEPUTY,
        "--deadline",
        "2026年9月底前",
    )
    code = made.json()["code"]
    assert call("--db", sqlite_url, "--as", UNIT_HEAD, "start", code).code == 0
    swept = call("--db", sqlite_url, "--json", "sweep", "--now", "2026-10-12T10:00", "--deliver", "--yes")
    assert swept.code == 0, swept.err
    figures = swept.json()
    assert figures["escalations"] >= 1 and figures["delivered"]["sent"] >= figures["notifications"]
    monkeypatch.setenv("DUBAN_NOW", "2026-10-12T10:00")
    listed = call("--db", sqlite_url, "--json", "list", "--overdue")
    assert [t["code"] for t in listed.json()] == [code] and listed.json()[0]["light"] == "red"
    asked = call(
        "--db", sqlite_url, "--as", UNIT_HEAD, "--json", "extend", code, "--to", "年底前", "--reason", "材料待批"
    )
    assert asked.code == 0, asked.err
    granted = call("--db", sqlite_url, "--as", DEPUTY, "--json", "extension", "approve", str(asked.json()["id"]))
    assert granted.json()["requested_deadline"] == "2026-12-31"
    again = call("--db", sqlite_url, "--as", DEPUTY, "extension", "deny", str(asked.json()["id"]))
    assert again.code == 5 and "already approved" in again.err
    shown = call("--db", sqlite_url, "--json", "show", code).json()
    assert shown["deadline"] == "2026-12-31" and shown["original_deadline"] == "2026-09-30"
    assert call("--db", sqlite_url, "notifications", "retry").code == 2  # ids or --failed
    assert call("--db", sqlite_url, "notifications", "retry", "--failed").code == 0
    assert "sent" in call("--db", sqlite_url, "notifications", "list").out
    late = call(
        "--db",
        sqlite_url,
        "--as",
        PRINCIPAL,
        "assign",
        "--title",
        "明年",
        "--unit",
        "社会事务科",
        "--leader",
        DEPUTY,
        "--deadline",
        "2027年第一季度末",
    )
    assert late.code == 0 and "no statutory holiday calendar for 2027" in late.err


def test_a_slow_worker_cannot_undo_a_later_send(app: App, clock, task: str) -> None:  # type: ignore[no-untyped-def]
    fire(app, SUPERVISOR, task, "remind")
    with app.db.engine.connect() as conn:
        nid = conn.execute(text("SELECT max(id) FROM notifications")).scalar()
    now = clock.now()
    with app.uow() as uow:  # worker A claims, then stalls past its lease
        slow = uow.outbox.claim(nid, now, now + timedelta(seconds=30))
        uow.commit()
    later = now + timedelta(minutes=5)
    with app.uow() as uow:  # worker B claims the lapsed row and sends it
        fast = uow.outbox.claim(nid, later, later + timedelta(seconds=30))
        assert fast is not None and uow.outbox.mark_sent(nid, later, fast.attempts)
        uow.commit()
    assert slow is not None
    with app.uow() as uow:  # A wakes up with a time-out: it may not put the row back to pending
        assert uow.outbox.mark_retry(nid, later, "timed out", slow.attempts) is False
        assert uow.outbox.mark_failed(nid, "timed out", slow.attempts) is False
        uow.commit()
    assert [r.status for r in delivery.list_notifications(app) if r.id == nid] == ["sent"]


def test_extensions_of_ongoing_and_finished_tasks(app: App) -> None:
    ongoing = new_task(app, deadline="长期坚持")
    fire(app, UNIT_HEAD, ongoing, "start")
    with pytest.raises(ExtensionConflict, match="no deadline"):
        request_extension(app, UNIT_HEAD, ongoing, "2026-12-31", "x")
    code = new_task(app, deadline=date(2026, 11, 27))
    fire(app, UNIT_HEAD, code, "start")
    request_id = request_extension(app, UNIT_HEAD, code, "2026-12-31", "x")
    fire(app, PRINCIPAL, code, "cancel", comment="重复问题")
    assert [v.status for v in list_extensions(app, code=code)] == ["withdrawn"]
    with pytest.raises(ExtensionConflict, match="already withdrawn"):
        decide_extension(app, DEPUTY, request_id, True, None)


@pytest.mark.parametrize("text_", ["0000年6月底前", "9999-12-31", "2016-02-30"])
def test_deadlines_outside_any_sane_range(app: App, text_: str) -> None:
    before = snapshot(app)
    with pytest.raises(InvalidInput):
        new_task(app, deadline=text_)
    assert snapshot(app) == before
