"""Periodic reporting duties (定期填报) on SQLite and PostgreSQL: shown on a task, listed, reminded and
escalated by the sweep once each, counted per unit in the circular (迟报/漏报) and in the score, replayed
for past dates.

The built-in rectification workflow asks 长期坚持 (ongoing) tasks for a report on the 25th of each month
by 17:00 (a day off moves it to the next working day): 2026-09-25 is 中秋, so the first is due Monday
09-28; 10-25 is a Sunday, so 10-26; then 11-25 and 12-25. Reminders 2 working days before and on the day;
level 1 one working day after a missed due day, level 2 five.

The ongoing task O (社会事务科) is started 09-07 and reported 09-10 (on time for 09-28), nothing for 10-26
until 10-28 (late, 迟报), nothing since (11-25 missed, 漏报). The dated task D owes no periodic reports.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.report import from_dict, to_dict
from duban.engine.reporting.render import render
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.report_duties import task_duties
from duban.engine.services.scoring import ScoreRequest, compute_scores
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import UNIT, UNIT_HEAD
from tests.helpers import new_task

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=SH)


def report_rows(app: App) -> list[tuple[str, int, str]]:
    """(rule, level, due day) of each periodic-report notice, once per recipient and channel collapsed."""
    with app.db.engine.connect() as conn:
        keys = conn.execute(
            text("SELECT rule, level, dedup_key FROM notifications WHERE rule LIKE 'report_%' ORDER BY id")
        ).all()
    return sorted({(r[0], r[1], r[2].split(":")[3]) for r in keys})


@pytest.fixture
def story(app: App, clock: FixedClock) -> dict[str, str]:
    codes = {"O": new_task(app, title="常态化巡查", deadline="长期坚持"), "D": new_task(app, title="路灯")}
    clock.set(at(2026, 9, 7))
    fire(app, UNIT_HEAD, codes["O"], "start")
    fire(app, UNIT_HEAD, codes["D"], "start")
    clock.set(at(2026, 9, 10))
    report_progress(app, UNIT_HEAD, codes["O"], ProgressInput(10, "九月巡查"))
    return codes


def _late_report(app: App, clock: FixedClock, code: str) -> None:
    clock.set(at(2026, 10, 28))
    report_progress(app, UNIT_HEAD, code, ProgressInput(20, "十月巡查"))


def test_show_names_the_next_report_due_and_the_missed_ones(app: App, clock: FixedClock, story: dict[str, str]) -> None:
    _late_report(app, clock, story["O"])
    clock.set(at(2026, 12, 1))
    view = task_duties(app, story["O"])
    assert view is not None
    assert view.cadence.zh == "每月25日"
    assert view.next_due == at(2026, 12, 25, 17)
    assert view.late == (date(2026, 10, 26),) and view.missed == (date(2026, 11, 25),)
    assert (view.tally.due, view.tally.on_time, view.tally.late, view.tally.missed) == (3, 1, 1, 1)
    assert task_duties(app, story["D"]) is None  # a dated task: the workflow asks only ongoing ones
    # replayed for a past instant: on 10-27 the October report was missing, not yet late
    then = task_duties(app, story["O"], at(2026, 10, 27))
    assert then is not None and then.missed == (date(2026, 10, 26),) and then.late == ()


def test_the_sweep_reminds_and_escalates_each_duty_once(app: App, clock: FixedClock, story: dict[str, str]) -> None:
    plan = [
        (at(2026, 9, 25), []),  # reported on 09-10 for 09-28: nobody is reminded
        (at(2026, 9, 28), []),
        (at(2026, 10, 22), [("report_remind", 2, "2026-10-26")]),
        (at(2026, 10, 26), [("report_remind", 0, "2026-10-26")]),
        (at(2026, 10, 27), [("report_escalate", 1, "2026-10-26")]),
    ]
    seen: set[tuple[str, int, str]] = set()
    for now, new in plan:
        clock.set(now)
        sweep(app)
        sweep(app)  # a second sweep at the same moment writes nothing
        seen |= set(new)
        assert set(report_rows(app)) == seen, now
    with app.db.engine.connect() as conn:
        keys = [r[0] for r in conn.execute(text("SELECT dedup_key FROM notifications"))]
    assert len(keys) == len(set(keys))
    _late_report(app, clock, story["O"])
    clock.set(at(2026, 11, 3))
    sweep(app)
    assert set(report_rows(app)) == seen  # the late report stopped the ladder: no level 2


def test_a_dry_run_says_what_it_would_write(app: App, clock: FixedClock, story: dict[str, str]) -> None:
    clock.set(at(2026, 10, 27))
    result = sweep(app, dry_run=True)
    assert {(p.code, p.rule, p.level) for p in result.planned if p.rule.startswith("report_")} == {
        (story["O"], "report_escalate", 1)
    }
    assert report_rows(app) == []


def test_the_circular_counts_late_and_missed_reports_per_unit(
    app: App, clock: FixedClock, story: dict[str, str]
) -> None:
    _late_report(app, clock, story["O"])
    clock.set(at(2026, 12, 1))
    october = build_report(app, ReportRequest(period="month", as_of=date(2026, 10, 31)))
    assert [(r.unit, r.due, r.on_time, r.late, r.missed) for r in october.periodic_reports] == [(UNIT, 1, 0, 1, 0)]
    november = build_report(app, ReportRequest(period="month", as_of=date(2026, 11, 30)))
    assert [(r.unit, r.missed, r.missed_tasks) for r in november.periodic_reports] == [(UNIT, 1, (story["O"],))]
    # the October circular asked for on 10-27 (before the late report) counted it missed; replayed the same
    clock.set(at(2026, 10, 27, 12))
    early = build_report(app, ReportRequest(period="custom", start=date(2026, 10, 1), end=date(2026, 10, 27)))
    assert [(r.late, r.missed) for r in early.periodic_reports] == [(0, 1)]


def test_the_score_deducts_late_and_missed_reports_on_the_cadence(
    app: App, clock: FixedClock, story: dict[str, str], tmp_path: Path
) -> None:
    policy = tmp_path / "scoring.yaml"
    policy.write_text(
        "scoring:\n  - name: 测试\n    version: 1\n    rules:\n      late_progress: {points: 1, after_days: 400}\n"
        "    bands:\n      - {name: 合格, from: 60}\n      - {name: 不合格, below: 60}\n",
        encoding="utf-8",
    )
    app.settings = replace(app.settings, extra={**app.settings.extra, "DUBAN_SCORING": str(policy)})
    _late_report(app, clock, story["O"])
    clock.set(at(2026, 12, 1))
    scores = {s.unit: s for s in compute_scores(app, ScoreRequest(as_of=date(2026, 11, 30))).scores}
    items = [(i.task, i.rule, i.points) for i in scores[UNIT].items]
    assert [(t, r) for t, r, _ in items] == [(story["O"], "late_progress")]
    assert items[0][2] == -2  # 10-26 late, 11-25 missed; after_days (400) plays no part for a task on a cadence
    october = {s.unit: s for s in compute_scores(app, ScoreRequest(as_of=date(2026, 10, 20))).scores}
    assert october[UNIT].items == ()  # nothing late yet on 10-20


def test_show_and_list_in_json(app: App, clock: FixedClock, story: dict[str, str], call, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = app.settings.database_url
    monkeypatch.setenv("DUBAN_NOW", "2026-11-30T10:00")
    shown = call("--db", db, "show", story["O"], "--json").json()
    assert shown["reporting"]["missed_report_days"] == ["2026-10-26", "2026-11-25"]
    assert shown["next_report_due"].startswith("2026-12-25T17:00")
    assert shown["reports_missed"] == 2 and shown["reports_late"] == 0
    rows = {r["code"]: r for r in call("--db", db, "list", "--json").json()}
    assert rows[story["O"]]["reports_missed"] == 2
    assert rows[story["D"]]["next_report_due"] is None and rows[story["D"]]["reports_missed"] is None
    text_out = call("--db", db, "--lang", "zh", "show", story["O"]).out
    assert "定期填报" in text_out and "漏报 2 次" in text_out


def test_every_format_of_the_circular_has_the_section_and_a_stored_one_reads_back(
    app: App, clock: FixedClock, story: dict[str, str]
) -> None:
    clock.set(at(2026, 12, 1))
    report = build_report(app, ReportRequest(period="month", as_of=date(2026, 11, 30)))
    assert from_dict(to_dict(report)).periodic_reports == report.periodic_reports
    for fmt in ("markdown", "html", "csv"):
        out = render(report, fmt, "zh").decode("utf-8-sig")
        assert "定期填报情况" in out and "漏报" in out and story["O"] in out, fmt
    for fmt in ("xlsx", "docx"):
        assert render(report, fmt, "en")  # the section is one more table: the binary formats build it
    assert "Periodic reports" in render(report, "markdown", "en").decode("utf-8")


def test_workflow_show_says_the_cadence(call) -> None:  # type: ignore[no-untyped-def]
    shown = call("workflow", "show", "rectification", "--json").json()
    assert shown["reporting"]["every"] == {"zh": "每月25日", "en": "the 25th of each month"}
    assert shown["reporting"]["tasks"] == "ongoing" and shown["reporting"]["at"] == "17:00"
    assert "定期填报：每月25日 17:00（仅长期坚持任务）" in call("--lang", "zh", "workflow", "show", "rectification").out
