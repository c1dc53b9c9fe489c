"""Daily digests: one message per reader per working morning, written once, delivered once, under kills too.

The organisation file says who reads one (``digest: daily`` on a unit or a person, ``notify: digest|each``);
per-task messages to a reader are folded into it, escalations still go at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import BadFile, InvalidInput
from duban.engine.domain.org import load_org_file
from duban.engine.services import delivery
from duban.engine.services.audit import verify
from duban.engine.services.delivery import DeliveryPolicy
from duban.engine.services.digest import preview, write_due_digests
from duban.engine.services.org import import_org
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import fire
from duban.engine.services.transfers import propose_transfer
from duban.engine.worker.celery_app import beat_tick
from tests.conftest import SUPERVISOR, UNIT_HEAD
from tests.helpers import new_task, to_submitted

TZ = ZoneInfo("Asia/Shanghai")
ADMIN = "zhouqiang"
MEMBER = "hejuan"  # of 社会事务科, with notify: each below
UNIT_PEOPLE = {"fenglei", "hejuan", "sunqiang"}  # filled from the database in the tests that need it

DIGEST_ORG = """
units:
  - name: 社会事务科
    digest: daily
people:
  - id: hejuan
    name: 何娟
    notify: each
  - id: zhangwei
    name: 张伟
    digest: daily
    channels: [file, wecom]
"""


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def subscribe(app: App, tmp_path: Path, body: str = DIGEST_ORG) -> None:
    path = tmp_path / "digest-org.yaml"
    path.write_text(body, encoding="utf-8")
    import_org(app, path, ADMIN)


def outbox(app: App, where: str = "1 = 1") -> list[tuple[str, str, str, str | None, str]]:
    """(rule, status, dedup key, recipient, subject) of the rows matching ``where``."""
    with app.db.engine.connect() as conn:
        return [
            tuple(r)  # type: ignore[misc]
            for r in conn.execute(
                text(
                    f"SELECT rule, status, dedup_key, recipient_id, subject FROM notifications WHERE {where} ORDER BY id"
                )
            )
        ]


def unit_people(app: App) -> set[str]:
    with app.db.engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT p.id FROM people p JOIN units u ON u.id = p.unit_id WHERE u.name = '社会事务科'")
            ).scalars()
        )


# --- the organisation file -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "key", "words"),
    [
        ("people:\n  - {id: a, name: A, digest: weekly}\n", "people[0].digest", "weekly"),
        ("units:\n  - {name: U, digest: hourly}\n", "units[0].digest", "hourly"),
        ("people:\n  - {id: a, name: A, notify: sms}\n", "people[0].notify", "sms"),
        ("people:\n  - {id: a, name: A, digest: none, notify: digest}\n", "people[0].notify", "digest: none"),
    ],
)
def test_bad_digest_options_are_refused_naming_file_and_key(tmp_path: Path, entry: str, key: str, words: str) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(entry, encoding="utf-8")
    with pytest.raises(BadFile) as caught:
        load_org_file(path)
    for lang in ("zh", "en"):
        line = caught.value.render(lang)
        assert "org.yaml" in line and key in line and words in line and "\n" not in line


def test_digest_options_are_stored_and_chained(sqlite_app: App, tmp_path: Path) -> None:
    subscribe(sqlite_app, tmp_path)
    assert verify(sqlite_app).ok  # the records replay to the tables, digest preferences included
    p = preview(sqlite_app, "冯磊")  # by name
    assert (p.person_id, p.subscribed, p.folded) == ("fenglei", True, True)
    p = preview(sqlite_app, MEMBER)
    assert (p.subscribed, p.folded) == (True, False)  # notify: each
    assert not preview(sqlite_app, SUPERVISOR).subscribed


# --- written once per reader per working morning -----------------------------------------------------------


def test_one_digest_per_reader_and_channel_per_working_day(sqlite_app: App, clock: FixedClock, tmp_path: Path) -> None:
    subscribe(sqlite_app, tmp_path)
    new_task(sqlite_app)
    readers = unit_people(sqlite_app) | {"zhangwei"}
    clock.set(at(2026, 9, 8, 7, 59))  # Tuesday, before 08:00
    assert write_due_digests(sqlite_app) == 0
    clock.set(at(2026, 9, 8, 8, 0))
    written = write_due_digests(sqlite_app)
    rows = outbox(sqlite_app, "rule = 'digest'")
    assert written == len(rows) == len(readers) + 1  # zhangwei has two channels
    assert {r[3] for r in rows} == readers
    assert {r[2] for r in rows if r[3] == "zhangwei"} == {
        "digest:2026-09-08:zhangwei:file",
        "digest:2026-09-08:zhangwei:wecom",
    }
    # A second tick, a tick later in the day, and a sweep with two processes at once: nothing twice.
    clock.set(at(2026, 9, 8, 8, 5))
    assert write_due_digests(sqlite_app) == 0
    clock.set(at(2026, 9, 8, 17, 0))
    assert beat_tick(sqlite_app, publish=lambda ids: None)["digests"] == 0
    assert len(outbox(sqlite_app, "rule = 'digest'")) == written
    # Saturday is not a working day; Sunday 20 September 2026 is one (调休 before the Mid-Autumn holiday).
    clock.set(at(2026, 9, 12, 9, 0))
    assert write_due_digests(sqlite_app) == 0
    clock.set(at(2026, 9, 20, 9, 0))
    assert write_due_digests(sqlite_app) == written


def test_per_task_messages_fold_into_the_digest_but_escalations_go_at_once(
    sqlite_app: App, clock: FixedClock, tmp_path: Path
) -> None:
    subscribe(sqlite_app, tmp_path)
    code = new_task(sqlite_app, deadline=date(2026, 9, 10))
    # The assignment notice: folded for the unit head, sent to hejuan (notify: each) had she been a recipient.
    assert {(r[3], r[1]) for r in outbox(sqlite_app, "rule = 'event'")} == {(UNIT_HEAD, "folded")}
    fire(sqlite_app, SUPERVISOR, code, "remind")  # a reminder by hand: folded too
    assert {r[1] for r in outbox(sqlite_app, f"recipient_id = '{UNIT_HEAD}'")} == {"folded"}
    clock.set(at(2026, 9, 14, 10))  # two working days overdue: level 1 escalation
    sweep(sqlite_app)
    escalations = outbox(sqlite_app, "rule = 'escalate'")
    assert escalations and {r[1] for r in escalations} == {"pending"}  # urgent: not folded
    # Nothing folded is ever handed out; the digest carries the task instead.
    clock.set(at(2026, 9, 14, 10, 5))
    write_due_digests(sqlite_app)
    outcomes = delivery.deliver_pending(sqlite_app)
    assert outcomes["sent"] == len(outbox(sqlite_app, "status = 'sent'"))
    assert {r[1] for r in outbox(sqlite_app, "rule IN ('event', 'remind')")} == {"folded"}
    digest = outbox(sqlite_app, f"rule = 'digest' AND recipient_id = '{UNIT_HEAD}'")
    assert [r[1] for r in digest] == ["sent"]
    assert "红灯 1 项" in digest[0][4]
    listed = delivery.list_notifications(sqlite_app, "folded")
    assert listed and {r.status for r in listed} == {"folded"}


# --- contents and rendering --------------------------------------------------------------------------------


def test_digest_contents_in_each_language_and_channel(
    sqlite_url: str, clock: FixedClock, tmp_path: Path, make_app: Callable[[str], App]
) -> None:
    app = make_app(sqlite_url)
    subscribe(app, tmp_path)
    red = new_task(app, title="路灯损坏", deadline=date(2026, 9, 10))
    yellow = new_task(app, title="井盖缺失", deadline=date(2026, 9, 17))
    review = new_task(app, title="垃圾清运", deadline=date(2026, 10, 30), leader="zhangwei")
    to_submitted(app, review)
    propose_transfer(app, SUPERVISOR, yellow, "督查室", "职能调整")  # waits for the lead leader's decision
    clock.set(at(2026, 9, 14, 8))
    p = preview(app, UNIT_HEAD)
    [m] = p.messages
    assert m.channel == "console"
    assert "红灯 1 项，黄灯 1 项" in m.subject
    assert red in m.body and yellow in m.body and "逾期2个工作日" in m.body
    p = preview(app, "zhangwei")  # the lead leader: the submitted task waits for his review
    file, wecom = p.messages
    assert review in file.body and "待您审核验收（1）" in file.body
    assert "**待您审核验收（1）**" in wecom.body  # markdown for the robot
    assert "待审批 2 项" in file.subject and "待您决定的转办与挂起（1）" in file.body
    assert f"- {yellow} 井盖缺失（提请转办至 督查室）" in file.body
    # The red task he leads is no step of his today (he may suspend it any day), but it is his to chase.
    assert "张伟：牵头逾期 1 项，红灯 0 项，" in file.subject  # his overdue first: 红灯 0 alone would mislead
    assert f"您牵头的逾期任务（1）\n- {red} 路灯损坏" in file.body and yellow not in file.body.split("待您审核验收")[0]

    settings = Settings(
        database_url=sqlite_url, notify_lang="en", extra={"DUBAN_BASE_URL": "https://duban.example.gov.cn/"}
    )
    en = App.build(settings, clock=clock)
    try:
        file, wecom = preview(en, "zhangwei").messages
        assert file.subject == (
            "Daily digest 2026-09-14 for 张伟: 1 overdue task(s) you lead, 0 red, 0 yellow, 2 awaiting your decision,"
            " 0 supervision notice(s)"
        )
        assert f"Overdue tasks you lead (1)\n- {red} 路灯损坏" in file.body
        assert f"[{review}](https://duban.example.gov.cn/tasks/{review})" in wecom.body
        assert f"- [{yellow}](https://duban.example.gov.cn/tasks/{yellow}) 井盖缺失 (transfer to 督查室)" in wecom.body
        assert f"- {review} 垃圾清运" in file.body and "Open your inbox: https://duban.example.gov.cn/" in file.body
    finally:
        en.close()


def test_a_bad_digest_time_is_one_line_naming_the_setting(sqlite_url: str, clock: FixedClock) -> None:
    app = App.build(Settings(database_url=sqlite_url, extra={"DUBAN_DIGEST_AT": "8am"}), clock=clock)
    try:
        with pytest.raises(InvalidInput) as caught:
            write_due_digests(app)
        assert "DUBAN_DIGEST_AT" in caught.value.render("zh") and "08:00" in caught.value.render("en")
        with pytest.raises(InvalidInput):
            delivery.check_delivery_settings(app.settings)  # the worker and the beat refuse it at start-up
    finally:
        app.close()


# --- delivered once, under worker kills ---------------------------------------------------------------------


def test_a_digest_whose_worker_was_killed_is_sent_once(sqlite_app: App, clock: FixedClock, tmp_path: Path) -> None:
    """A worker claims the digests and dies before sending: nothing is sent while its lease holds; then the
    relay hands them out again and each goes out once, under its key; a redelivered message sends nothing."""
    subscribe(sqlite_app, tmp_path)
    new_task(sqlite_app)
    with sqlite_app.db.engine.begin() as conn:
        conn.execute(text("UPDATE notifications SET status = 'sent' WHERE status = 'pending'"))
    clock.set(at(2026, 9, 8, 8, 0))
    written = write_due_digests(sqlite_app)
    with sqlite_app.db.engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM notifications WHERE rule = 'digest' ORDER BY id")).scalars())
    assert len(ids) == written
    policy = DeliveryPolicy(lease_seconds=60, send_timeout_seconds=5)
    with sqlite_app.uow() as uow:  # the killed worker's claims
        now = clock.now()
        assert len(uow.outbox.claim_many(ids, now, now + timedelta(seconds=60))) == written
        uow.commit()
    out = tmp_path / "out.jsonl"
    file_channel = delivery.build_channels({"DUBAN_NOTIFY_FILE": str(out)}, out)["file"]
    channels = {name: file_channel for name in ("console", "file", "wecom")}
    handed: list[list[int]] = []
    clock.advance(timedelta(seconds=30))  # the dead worker's lease still holds: nothing to hand out
    assert delivery.relay(sqlite_app, handed.append, policy=policy) == 0
    clock.advance(timedelta(seconds=31))  # it ran out
    assert delivery.relay(sqlite_app, handed.append, policy=policy) == written
    for batch in handed:
        delivery.deliver_batch(sqlite_app, batch, channels, policy)
    for batch in handed:  # the broker delivers the same message again
        assert delivery.deliver_batch(sqlite_app, batch, channels, policy) == {"skipped": len(batch)}
    keys = [json.loads(line)["key"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(keys) == sorted(r[2] for r in outbox(sqlite_app, "rule = 'digest'"))  # each once
    assert {r[1] for r in outbox(sqlite_app, "rule = 'digest'")} == {"sent"}
    with sqlite_app.db.engine.connect() as conn:
        assert set(conn.execute(text("SELECT attempts FROM notifications WHERE rule = 'digest'")).scalars()) == {2}
    clock.set(at(2026, 9, 8, 9, 0))
    assert write_due_digests(sqlite_app) == 0  # and the next tick does not write them again


# --- the command line --------------------------------------------------------------------------------------


def test_digest_preview_command(call, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUBAN_DATABASE_URL", sqlite_url)
    path = tmp_path / "digest-org.yaml"
    path.write_text(DIGEST_ORG, encoding="utf-8")
    assert call("--as", ADMIN, "org", "import", str(path)).code == 0
    assign = ("assign", "--title", "路灯损坏", "--unit", "社会事务科", "--leader", "张伟", "--deadline", "2026-10-09")
    assert call("--as", "wangjun", *assign).code == 0  # its notice to the unit head is folded
    r = call("digest", "preview", UNIT_HEAD, "--as-of", "2026-09-08", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert set(data) == {"person", "name", "day", "subscribed", "folded", "working_day", "send_at", "messages"}
    assert (data["person"], data["day"], data["subscribed"], data["working_day"]) == (
        UNIT_HEAD,
        "2026-09-08",
        True,
        True,
    )
    assert data["send_at"].startswith("2026-09-08T08:00")
    assert set(data["messages"][0]) == {"channel", "address", "subject", "body"}
    r = call("--lang", "zh", "digest", "preview", UNIT_HEAD, "--as-of", "2026-09-12")
    assert r.code == 0 and "不是工作日" in r.out
    r = call("digest", "preview", "nobody")
    assert r.code != 0 and len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    r = call("--lang", "en", "notifications", "list", "--status", "folded", "--json")
    assert r.code == 0 and {n["status"] for n in r.json()} == {"folded"}


@pytest.mark.slow
@pytest.mark.xdist_group("broker")
def test_digests_reach_the_receiver_once_when_a_real_worker_is_killed_mid_send(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Real `duban worker` processes: A claims a digest and waits in connect(); SIGKILL; after A's lease B sends
    every digest; the receiver counts each key once."""
    import os
    import signal

    from duban.engine.persistence.types import encode_instant
    from duban.engine.services.delivery import relay
    from tests.integration.test_delivery_trust import LONG_AGO, Chaos, Hook, wait_until

    if not Path("/proc/net/tcp").exists():
        pytest.skip("/proc/net/tcp is needed to see a worker waiting in connect() (Linux only)")
    hook = Hook(gated=True)
    ws = Chaos(tmp_path, sqlite_template, hook, swept=False)
    try:
        writer = App.build(
            Settings(database_url=ws.db, channels=("webhook",), extra=ws.extra), clock=FixedClock(at(2026, 11, 27, 8))
        )
        subscribe(writer, tmp_path, "units:\n  - name: 社会事务科\n    digest: daily\n")
        written = write_due_digests(writer)
        assert written >= 2
        with writer.db.engine.begin() as conn:  # due by any real clock
            conn.execute(text("UPDATE notifications SET status = 'sent' WHERE rule <> 'digest'"))
            conn.execute(text("UPDATE notifications SET due_at = :t"), {"t": encode_instant(LONG_AGO, "sqlite")})
        writer.close()
        first, _second = ws.start_workers(("qa", 1), ("qb", 1))
        assert relay(ws.app, ws.queue("qa")) == written
        wait_until(hook.connecting, 30, "worker A to claim a digest and wait in connect()")
        os.killpg(first.pid, signal.SIGKILL)
        claimed = [r for r in ws.rows() if r[1] == "sending"]
        assert len(claimed) == 1
        hook.open()
        lease_until = claimed[0][3]
        assert lease_until is not None
        wait_until(lambda: datetime.now(ZoneInfo("UTC")) > lease_until, 10, "A's lease to run out")
        wait_until(lambda: relay(ws.app, ws.queue("qb")) > 0, 10, "the relay to hand the digests to B")
        wait_until(ws.all_sent, 30, "worker B to send every digest")
        first.wait(timeout=10)
        keys = [k for k, _s, _a, _l in ws.rows() if k.startswith("digest:")]
        assert len(keys) == written and sorted(hook.arrivals) == sorted(keys)
        assert set(hook.arrivals.values()) == {1}, hook.arrivals  # each digest reached the receiver once
    finally:
        ws.close()
