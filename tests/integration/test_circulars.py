"""Scheduled circulars: when they fall due, what is stored, who is told, and `duban report` / `circulars` at the CLI."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from PIL import Image
from sqlalchemy import func, select

from duban.engine.app import App
from duban.engine.domain.circulars import CircularSchedule, load_schedules, parse_schedules
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import BadFile
from duban.engine.persistence.models import Circular, CircularFile, Notification
from duban.engine.reporting.chart import CHART_SIZE
from duban.engine.services.circulars import circular_file, issue_due, list_circulars
from duban.engine.worker.celery_app import issue_circulars_safely
from tests.conftest import EXAMPLES
from tests.integration.test_report import at, build_ledger

SH = ZoneInfo("Asia/Shanghai")
WEEKLY = CircularSchedule(name="weekly", every="week", on=0, at=time(9, 0), formats=("docx", "xlsx"))


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


# --- when a circular is due (no database) -------------------------------------------------


def test_weekly_is_due_once_monday_nine_has_passed() -> None:
    assert WEEKLY.due(sh("2026-09-28T08:59"), SH, None) == [date(2026, 9, 20)]  # last Monday's: week to Sun 09-20
    assert WEEKLY.due(sh("2026-09-28T09:00"), SH, None) == [date(2026, 9, 27)]
    assert WEEKLY.due(sh("2026-09-30T12:00"), SH, date(2026, 9, 28)) == []  # issued already


def test_missed_circulars_are_caught_up_but_a_new_schedule_does_not_issue_the_past() -> None:
    missed = WEEKLY.due(sh("2026-10-19T10:00"), SH, date(2026, 9, 21))
    assert missed == [date(2026, 9, 27), date(2026, 10, 4), date(2026, 10, 11), date(2026, 10, 18)]
    years_later = WEEKLY.due(sh("2029-10-19T10:00"), SH, date(2026, 9, 21))
    assert len(years_later) == 12  # bounded catch-up


def test_monthly_and_quarterly_days() -> None:
    monthly = CircularSchedule(name="m", every="month", on=1, at=time(9, 0))
    assert monthly.due(sh("2026-11-01T09:30"), SH, None) == [date(2026, 10, 31)]
    quarterly = CircularSchedule(name="q", every="quarter", on=5, at=time(9, 0))
    assert quarterly.due(sh("2026-11-25T09:30"), SH, None) == [date(2026, 10, 4)]


def test_the_example_schedule_file_loads() -> None:
    names = [s.name for s in load_schedules(EXAMPLES / "circulars.yaml")]
    assert names == ["weekly", "monthly"]


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({}, "circulars"),
        ({"circulars": [{"name": "w", "every": "fortnight"}]}, r"circulars\[0\] \(w\)\.every"),
        ({"circulars": [{"name": "w", "every": "week", "day": "funday"}]}, r"\.day"),
        ({"circulars": [{"name": "m", "every": "month", "day": 31}]}, r"\.day"),
        ({"circulars": [{"name": "w", "every": "week", "at": "9am"}]}, r"\.at"),
        ({"circulars": [{"name": "w", "every": "week", "formats": ["pdf"]}]}, r"\.formats"),
        ({"circulars": [{"name": "w", "every": "week", "colour": "red"}]}, r"circulars\[0\]\.colour"),
        ({"circulars": [{"name": "w", "every": "week"}, {"name": "w", "every": "month"}]}, r"circulars\[1\]\.name"),
    ],
)
def test_bad_schedules_name_the_key(doc: object, key: str) -> None:
    with pytest.raises(BadFile, match=key):
        parse_schedules(doc, "circulars.yaml")


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("circulars:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(BadFile, match=r"c\.yaml: line \d+, column \d+: not valid YAML"):
        load_schedules(path)


# --- issuing, against real databases -----------------------------------------------------


@pytest.fixture
def scheduled(app: App, clock: FixedClock) -> App:
    build_ledger(app, clock)
    app.settings = replace(app.settings, circulars=EXAMPLES / "circulars.yaml")
    return app


def test_monday_issues_last_weeks_circular_with_its_files_and_notices(scheduled: App, clock: FixedClock) -> None:
    at(clock, "2026-09-28T09:05")
    issued = issue_due(scheduled)
    assert len(issued) == 2  # the weekly one, and the monthly one of 09-01 (its latest due)
    weekly = list_circulars(scheduled, "weekly")[0]
    assert (weekly.period_from, weekly.period_to) == (date(2026, 9, 21), date(2026, 9, 27))
    assert weekly.figures["totals"]["closed"] == 2
    assert sorted(name.rsplit(".", 1)[1] for name, _m, _s in weekly.files) == ["docx", "svg", "xlsx"]
    stored = circular_file(scheduled, weekly.id, ".docx")
    assert stored is not None
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(stored.content)).paragraphs)
    assert "截至2026年9月27日" in text and "县社区管理服务中心督查室" in text
    svg = circular_file(scheduled, weekly.id, ".svg")  # drawn without a font: the reader's viewer sets the Chinese
    assert svg is not None and svg.media_type == "image/svg+xml"
    assert ElementTree.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"
    assert ">社会事务科</text>" in svg.content.decode()
    xlsx = circular_file(scheduled, weekly.id, ".xlsx")
    assert xlsx is not None and openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames
    with scheduled.db.engine.connect() as conn:
        told = conn.execute(
            select(Notification.recipient_id).where(Notification.dedup_key.like(f"circular:{weekly.id}:%"))
        ).scalars()
        assert set(told) == {"huangtao", "luoyan", "wangjun", "lihong", "zhangwei", "chenjing"}
    assert issue_due(scheduled) == []  # the beat ticks again: nothing more


def test_two_issuers_at_once_store_one_circular(scheduled: App, clock: FixedClock, make_app) -> None:  # type: ignore[no-untyped-def]
    at(clock, "2026-09-28T09:05")
    other = make_app(str(scheduled.db.engine.url.render_as_string(hide_password=False)))
    other.settings = scheduled.settings
    results: list[list[int]] = []
    barrier = threading.Barrier(2)

    def run(a: App) -> None:
        barrier.wait()
        results.append(issue_due(a))

    threads = [threading.Thread(target=run, args=(a,)) for a in (scheduled, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) in ([0, 2], [1, 1])
    with scheduled.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Circular)).scalar() == 2
        notices = conn.execute(
            select(func.count()).select_from(Notification).where(Notification.rule == "circular")
        ).scalar()
        # each circular's notices once: 6 for the weekly, 6 + 14 unit heads' less overlaps for the monthly
        keys = conn.execute(select(Notification.dedup_key).where(Notification.rule == "circular")).scalars().all()
        assert notices == len(set(keys))


def test_a_broken_schedule_file_does_not_stop_the_tick(app: App, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "circulars.yaml"
    bad.write_text("circulars: nope\n", encoding="utf-8")
    app.settings = replace(app.settings, circulars=bad)
    assert issue_circulars_safely(app) == []
    assert "circulars not issued" in caplog.text and "circulars.yaml" in caplog.text


# --- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, call, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    db = tmp_path / "w.db"
    assert call("--db", str(db), "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    for title, deadline in (("路灯", "2026-09-08"), ("台账", "2026-12-31")):
        r = call(
            "--db",
            str(db),
            "--as",
            "wangjun",
            "assign",
            "--title",
            title,
            "--unit",
            "社会事务科",
            "--leader",
            "zhangwei",
            "--deadline",
            deadline,
        )
        assert r.code == 0, r.err
    monkeypatch.setenv("DUBAN_NOW", "2026-09-14T10:00")
    return db


def test_report_json_has_the_documented_keys(workspace: Path, call) -> None:  # type: ignore[no-untyped-def]
    r = call("--db", str(workspace), "report", "--json")
    assert r.code == 0, r.err
    d = r.json()
    for key in (
        "as_of",
        "period",
        "totals",
        "units",
        "overdue_tasks",
        "closed_in_period",
        "new_in_period",
        "previous_period",
    ):
        assert key in d
    assert set(d["totals"]) >= {
        "tasks",
        "closed",
        "in_progress",
        "submitted",
        "reviewed",
        "overdue",
        "completion_rate",
        "on_time_rate",
    }
    assert set(d["units"][0]) >= {
        "unit",
        "tasks",
        "closed",
        "overdue",
        "completion_rate",
        "on_time_rate",
        "light",
        "rank",
    }
    assert d["as_of"] == "2026-09-14" and d["totals"]["overdue"] == 1
    assert d["overdue_tasks"][0]["days_overdue"] == 4


def test_report_files_and_chart(workspace: Path, call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, chart = tmp_path / "通报.docx", tmp_path / "chart.png"
    r = call("--db", str(workspace), "report", "--lang", "zh", "-o", str(out), "--chart", str(chart))
    assert r.code == 0, r.err
    document = docx.Document(str(out))
    assert any("整改任务进展情况通报" in p.text for p in document.paragraphs)
    assert len(document.inline_shapes) == 0 and document.tables[1]._tbl.xpath("./w:tblPr/w:tblCaption")
    assert Image.open(chart).size == CHART_SIZE  # a PNG asked for by name is drawn by matplotlib
    svg = tmp_path / "chart.svg"
    r = call("--db", str(workspace), "report", "--lang", "zh", "--chart", str(svg))
    assert r.code == 0 and "提示" not in r.err and ">社会事务科</text>" in svg.read_text(encoding="utf-8")
    r = call("--db", str(workspace), "report", "--format", "markdown", "--lang", "en")
    assert r.code == 0 and "| 社会事务科 |" in r.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "xlsx"), "binary format"),
        (("-o", "x.pdf"), "cannot tell the format"),
        (("--as-of", "2026-02-30"), "2026-02-30"),
        (("--as-of", "2027-01-01"), "after today"),
        (("--unit", "不存在科"), "不存在科"),
        (("-o", "/nonexistent/dir/x.docx"), "cannot write"),
    ],
)
def test_report_refusals_are_one_line(workspace: Path, call, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    r = call("--db", str(workspace), "report", *args)
    assert r.code == 2 or r.code == 3, r.err
    assert message in r.err and len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err


def test_circulars_list_show_and_stored_file(workspace: Path, call, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUBAN_CIRCULARS", str(EXAMPLES / "circulars.yaml"))
    r = call("--db", str(workspace), "sweep", "--json")
    assert r.code == 0, r.err
    ids = r.json()["circulars"]
    assert len(ids) == 2
    listed = call("--db", str(workspace), "circulars", "list", "--json").json()
    weekly = next(c for c in listed if c["schedule"] == "weekly")
    assert weekly["period"] == {"kind": "week", "from": "2026-09-07", "to": "2026-09-13"}
    out = tmp_path / "again.docx"
    r = call("--db", str(workspace), "circulars", "show", str(weekly["id"]), "-o", str(out))
    assert r.code == 0, r.err
    with sqlite_bytes(workspace, weekly["id"], ".docx") as stored:
        assert out.read_bytes() == stored  # as issued, byte for byte
    shown = call("--db", str(workspace), "circulars", "show", str(weekly["id"]), "--json").json()
    assert shown["totals"] == weekly["totals"] and shown["as_of"] == "2026-09-13"
    table = call("--db", str(workspace), "--lang", "zh", "circulars", "show", str(weekly["id"]))
    assert "截至2026年9月13日" in table.out
    missing = call("--db", str(workspace), "circulars", "show", "999")
    assert missing.code == 3 and "999" in missing.err
    assert call("--db", str(workspace), "circulars", "show", "x").code == 2


class sqlite_bytes:
    """The stored bytes of a circular file, read straight from the SQLite file."""

    def __init__(self, db: Path, circular_id: int, suffix: str) -> None:
        self.db, self.id, self.suffix = db, circular_id, suffix

    def __enter__(self) -> bytes:
        import sqlite3

        conn = sqlite3.connect(self.db)
        try:
            rows = conn.execute("SELECT name, content FROM circular_files WHERE circular_id = ?", (self.id,)).fetchall()
        finally:
            conn.close()
        return next(bytes(c) for n, c in rows if n.endswith(self.suffix))

    def __exit__(self, *exc: object) -> None:
        return None


def test_json_figures_are_the_stored_ones(scheduled: App, clock: FixedClock) -> None:
    at(clock, "2026-09-28T09:05")
    issue_due(scheduled)
    with scheduled.db.engine.connect() as conn:
        figures = conn.execute(select(Circular.figures).where(Circular.schedule == "weekly")).scalar_one()
        files = conn.execute(select(func.count()).select_from(CircularFile)).scalar_one()
    assert files == 3 + 4  # weekly: docx, xlsx, svg; monthly: docx, xlsx, html, svg
    assert json.loads(json.dumps(figures))["period"]["to"] == "2026-09-27"


def test_a_circular_prints_the_audit_anchor_when_a_key_is_set(scheduled: App, clock: FixedClock) -> None:
    scheduled.settings.extra["DUBAN_AUDIT_KEY"] = "an audit key kept away from the database"
    at(clock, "2026-09-28T09:05")
    issue_due(scheduled)
    weekly = list_circulars(scheduled, "weekly")[0]
    assert any(n.startswith("审计锚点：审计链第 ") for n in weekly.figures["notes"])
    stored = circular_file(scheduled, weekly.id, ".docx")
    assert stored is not None
    assert "审计锚点" in "\n".join(p.text for p in docx.Document(io.BytesIO(stored.content)).paragraphs)
