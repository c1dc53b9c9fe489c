"""Supervision notices (三色督办单): numbered once per task, level and deadline version, under two sweeps at once;
on the chain; the Word document; the unit's reply and its lateness in the score. SQLite and PostgreSQL.

The rectification workflow issues a yellow notice at level 2 (3 working days overdue) and a red one at
level 3 (7); a notice asks for a reply within 3 working days.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import NotPermitted
from duban.engine.domain.supervision_notices import NoticeAnswered, UnknownNotice, parse_number
from duban.engine.reporting.notice_docx import notice_docx
from duban.engine.services.audit import verify
from duban.engine.services.scoring import ScoreRequest, compute_scores
from duban.engine.services.supervision_notices import get_notice, list_notices, reply_to_notice
from duban.engine.services.sweep import sweep
from tests.conftest import OTHER_UNIT_MEMBER, UNIT, UNIT_HEAD
from tests.helpers import new_task
from tests.integration.test_audit import tampering

SH = ZoneInfo("Asia/Shanghai")


def at(clock: FixedClock, when: str) -> None:
    clock.set(datetime.fromisoformat(when).replace(tzinfo=SH))


def test_levels_issue_numbered_notices_once(app: App, clock: FixedClock) -> None:
    first = new_task(app, deadline=date(2026, 9, 11))
    at(clock, "2026-09-16T10:00")  # 3 working days overdue: level 2, yellow
    sweep(app)
    second = new_task(app, deadline=date(2026, 9, 14))
    at(clock, "2026-09-24T10:00")  # first: 10 working days (level 3, red); second: 9 (levels 2 and 3 at once)
    sweep(app)
    sweep(app)  # nothing is issued twice
    views = list_notices(app)
    assert [v.notice.number for v in views] == [f"督办〔2026〕第{n}号" for n in (1, 2, 3, 4)]
    assert views[0].notice.task == first  # issued on the 16th
    assert sorted((v.notice.task, v.notice.color, v.notice.level) for v in views) == sorted(
        [(first, "yellow", 2), (first, "red", 3), (second, "yellow", 2), (second, "red", 3)]
    )
    [red] = [v for v in views if v.notice.task == first and v.notice.color == "red"]
    red_number = red.notice.number
    red = red.notice
    assert red.earlier == ("督办〔2026〕第1号",)  # the history of the task's notices
    assert app.calendar.working_days_between(date(2026, 9, 11), date(2026, 9, 24)) == 10  # 09-20 is worked
    assert red.days_overdue == 10 and red.deadline == date(2026, 9, 11) and red.issued_on == date(2026, 9, 24)
    assert red.reply_by == date(2026, 9, 30)  # three working days: the 25th is 中秋, the 26th and 27th a weekend
    assert "逾期未反馈将予以问责" in red.demand
    assert get_notice(app, "2026-2") == get_notice(app, "督办〔2026〕第2号")
    assert get_notice(app, red_number).notice == red
    with app.db.engine.connect() as conn:  # each notice went to the unit through the outbox, once
        sent = conn.execute(text("SELECT subject FROM notifications WHERE rule = 'notice'")).scalars().all()
    assert len(sent) == 4  # one receiver (the unit head) on one channel per notice, though the sweep ran twice
    assert any(s.startswith(f"【红色督办单】{red_number}") for s in sent)
    with pytest.raises(UnknownNotice):
        get_notice(app, "2026-9")
    assert verify(app).ok


def test_two_sweeps_at_once_issue_each_notice_once(app: App, make_app, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(8):
        new_task(app, deadline=date(2026, 9, 11))
    at(clock, "2026-09-24T10:00")
    other = make_app(app.settings.database_url)
    errors: list[BaseException] = []

    def run(a: App) -> None:
        try:
            sweep(a, batch=3)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in (app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    views = list_notices(app)
    assert len(views) == 16  # eight tasks, a yellow and a red notice each
    assert sorted(v.notice.seq for v in views) == list(range(1, 17))  # numbered once, without gaps
    assert len({v.notice.key for v in views}) == 16
    assert verify(app).ok


def test_the_reply_is_recorded_and_its_lateness_scored(app: App, clock: FixedClock, tmp_path: Path) -> None:
    code = new_task(app, deadline=date(2026, 9, 11))
    at(clock, "2026-09-16T10:00")
    sweep(app)  # 督办〔2026〕第1号, reply by 2026-09-20 (three working days: Sunday the 20th is worked)
    at(clock, "2026-09-24T10:00")
    sweep(app)  # 督办〔2026〕第2号, reply by 2026-09-30
    with pytest.raises(NotPermitted):
        reply_to_notice(app, OTHER_UNIT_MEMBER, "2026-1", "不是本单位")
    late = reply_to_notice(app, UNIT_HEAD, "2026-1", "已排查，正在维修")
    assert late.late and late.on == date(2026, 9, 24)
    on_time = reply_to_notice(app, UNIT_HEAD, "督办〔2026〕第2号", "维修完毕，待验收")
    assert not on_time.late
    with pytest.raises(NoticeAnswered):
        reply_to_notice(app, UNIT_HEAD, "2026-1", "again")
    policy = tmp_path / "scoring.yaml"
    policy.write_text(
        "scoring:\n  - name: t\n    version: 1\n    rules:\n      late_reply: {points: 2}\n"
        "    bands:\n      - {name: 合格, from: 60}\n      - {name: 不合格, below: 60}\n",
        encoding="utf-8",
    )
    app.settings = replace(app.settings, extra={**app.settings.extra, "DUBAN_SCORING": str(policy)})
    at(clock, "2026-10-20T10:00")

    def late_items(day: date) -> list[tuple[str | None, str, str]]:
        [unit] = [s for s in compute_scores(app, ScoreRequest(as_of=day)).scores if s.unit == UNIT]
        return [(i.task, i.rule, str(i.points)) for i in unit.items]

    assert late_items(date(2026, 9, 18)) == []  # notice 1 not yet due for its reply
    assert late_items(date(2026, 9, 22)) == [(code, "late_reply", "-2.00")]  # past its day, unanswered
    assert late_items(date(2026, 9, 30)) == [(code, "late_reply", "-2.00")]  # answered late; notice 2 on time
    view = get_notice(app, "2026-1")
    assert view.reply is not None and view.reply.late
    doc = Document(io.BytesIO(notice_docx(view.notice, view.reply)))
    words = "\n".join(p.text for p in doc.paragraphs)
    assert "督办〔2026〕第1号" in words and "黄色督办单" in words and UNIT in words
    assert "反馈期限：2026年9月20日前" in words and "逾期反馈" in words


def test_an_edited_notice_breaks_the_chain(app: App, clock: FixedClock) -> None:
    new_task(app, deadline=date(2026, 9, 11))
    at(clock, "2026-09-16T10:00")
    sweep(app)
    with tampering(app) as conn:
        conn.execute(  # type: ignore[attr-defined]
            text(
                "UPDATE records SET body = replace(body, '2026-09-20', '2026-10-20') WHERE kind = 'supervision_notice'"
            )
        )
    assert any("supervision_notice record" in b.what for b in verify(app).breaks)


def test_notice_numbers_parse() -> None:
    assert parse_number("督办〔2026〕第12号") == (2026, 12) == parse_number("2026-12")
    with pytest.raises(Exception, match="is not a number such as"):
        parse_number("12")


def test_cli_notices(call, tmp_path: Path, sqlite_template: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from duban.engine.config.settings import Settings

    db = str(tmp_path / "duban.db")
    shutil.copy(sqlite_template, db)
    app = App.build(Settings(database_url=db), clock=FixedClock(datetime(2026, 9, 7, 1, 0, tzinfo=ZoneInfo("UTC"))))
    new_task(app, deadline=date(2026, 9, 11))
    app.close()
    monkeypatch.setenv("DUBAN_NOW", "2026-09-24T10:00")
    assert call("--db", db, "sweep").code == 0
    listed = call("--db", db, "notices", "list", "--json")
    assert [n["number"] for n in listed.json()] == ["督办〔2026〕第1号", "督办〔2026〕第2号"]
    assert set(listed.json()[0]) >= {"number", "task", "unit", "color", "level", "reply_by", "demand", "reply"}
    out = tmp_path / "n.docx"
    shown = call("--db", db, "notices", "show", "2026-2", "-o", str(out))
    assert shown.code == 0 and out.stat().st_size > 0
    pdf = tmp_path / "n.pdf"
    shown = call("--db", db, "notices", "show", "2026-2", "-o", str(pdf))
    assert shown.code == 0 and pdf.read_bytes().startswith(b"%PDF-")
    words = "".join(PdfReader(pdf).pages[0].extract_text().split())
    assert "督办〔2026〕第2号" in words and "红色督办单" in words
    bad = call("--db", db, "notices", "show", "2026-2", "-o", str(tmp_path / "n.txt"))
    assert bad.code == 2 and bad.err.count("\n") == 1 and ".docx or .pdf" in bad.err
    nowhere = str(tmp_path / "no-such-folder" / "n.pdf")
    for lang, says in (("en", "cannot write the notice there"), ("zh", "无法把督办单写到这里")):
        refused = call("--db", db, "--lang", lang, "notices", "show", "2026-2", "-o", nowhere)
        assert refused.code != 0 and refused.err.count("\n") == 1 and says in refused.err
        assert "Traceback" not in refused.err
    assert not (tmp_path / "no-such-folder").exists()
    replied = call("--db", db, "--as", UNIT_HEAD, "notices", "reply", "2026-2", "-m", "已整改", "--json")
    assert replied.code == 0 and replied.json()["late"] is False
    again = call("--db", db, "--lang", "zh", "--as", UNIT_HEAD, "notices", "reply", "2026-2", "-m", "x")
    assert again.code == 5 and "已于" in again.err and again.err.count("\n") == 1
    assert call("--db", db, "audit", "verify").code == 0


def test_a_notice_colour_that_does_not_exist_is_refused_with_file_and_key(tmp_path: Path) -> None:
    from duban.engine.domain.errors import BadFile
    from duban.engine.domain.workflow import load_workflow_file
    from duban.workflows import BUILTIN_DIR

    source = (BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "rectification.yaml"
    bad.write_text(source.replace("notice: yellow", "notice: green"), encoding="utf-8")
    with pytest.raises(BadFile) as refused:
        load_workflow_file(bad)
    message = refused.value.render("en")
    assert "deadlines.escalate[1].notice" in message and "'green' is not one of blue, yellow, red" in message


def test_a_notice_goes_out_with_its_word_and_pdf_documents_where_the_channel_carries_files(
    sqlite_app: App, clock: FixedClock, tmp_path: Path
) -> None:
    """The file and email channels attach the 督办单 as .docx and .pdf (rendered from the chain when sent); the robots do not."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    from duban.engine.services import delivery
    from duban.engine.services.org import import_org

    org = tmp_path / "channels.yaml"
    org.write_text("people:\n  - {id: fenglei, name: 冯磊, channels: [file, email, wecom]}\n", encoding="utf-8")
    import_org(sqlite_app, org, "zhouqiang")
    new_task(sqlite_app, deadline=date(2026, 9, 11))
    at(clock, "2026-09-16T10:00")  # level 2: a yellow notice
    sweep(sqlite_app)
    with sqlite_app.db.engine.connect() as conn:
        rows = dict(
            conn.execute(text("SELECT channel, attachment FROM notifications WHERE rule = 'notice'")).fetchall()
        )
    [view] = list_notices(sqlite_app)
    assert rows == {"file": f"notice:{view.notice.key}", "email": f"notice:{view.notice.key}", "wecom": None}

    received: list[object] = []

    class Keep(MessageHandler):
        def handle_message(self, message: object) -> None:
            received.append(message)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    out = tmp_path / "out.jsonl"
    config = {"DUBAN_NOTIFY_FILE": str(out), "DUBAN_SMTP_HOST": "127.0.0.1", "DUBAN_SMTP_PORT": str(port)}
    channels = delivery.build_channels(config, out)
    texts: list[str] = []

    class Robot:
        def send(self, message: delivery.Message, guard: object = None) -> None:
            texts.append(message.body)
            assert message.attachments == ()

    channels["wecom"] = Robot()
    try:
        with sqlite_app.db.engine.connect() as conn:
            ids = list(conn.execute(text("SELECT id FROM notifications WHERE rule = 'notice' ORDER BY id")).scalars())
        assert delivery.deliver_batch(sqlite_app, ids, channels) == {"sent": 3}
    finally:
        controller.stop()
    [line] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    stored, stored_pdf = line["attachments"]
    assert stored["name"] == f"督办单{view.notice.year}-{view.notice.seq}.docx"
    assert stored_pdf["name"] == f"督办单{view.notice.year}-{view.notice.seq}.pdf"
    kept = Path(stored["path"]).read_bytes()
    assert "督办" in "".join(p.text for p in Document(io.BytesIO(kept)).paragraphs)
    assert len(kept) == stored["size"]
    kept_pdf = Path(stored_pdf["path"]).read_bytes()
    assert kept_pdf.startswith(b"%PDF-") and len(kept_pdf) == stored_pdf["size"]
    assert view.notice.number in PdfReader(io.BytesIO(kept_pdf)).pages[0].extract_text()
    [mail] = received
    parts = [p for p in mail.walk() if p.get_filename()]  # type: ignore[attr-defined]
    assert [p.get_filename() for p in parts] == [stored["name"], stored_pdf["name"]]
    assert [p.get_content_type() for p in parts] == [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf",
    ]
    data = parts[0].get_payload(decode=True)
    assert view.notice.number in "".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert parts[1].get_payload(decode=True) == kept_pdf  # the same bytes on both channels
    assert texts  # the robot had the text, without the file
