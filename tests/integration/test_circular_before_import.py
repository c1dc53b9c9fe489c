"""Circulars for days before a ledger was imported: the ledger as the file described it, marked 导入.

An office adopts duban mid-campaign and imports its ledger on Wednesday 09-16; a circular replayed for an
earlier week must count the tasks the ledger says were assigned by then, by the ledger's own 交办日期 and
销号日期, and say that those figures come from the imported file.

Clock in Shanghai. Native tasks, written in duban:
  N1 社会事务科, assigned 09-01, due 09-10: signed for 09-02, closed 09-08 (on time)
  N2 社会事务科, assigned 09-01, due 09-30: never signed for (未签收)
The ledger imported on 09-16 (交办日期, 整改时限, 完成情况, 销号日期):
  I1 社会事务科,     assigned 08-20, due 08-31, 已完成, closed 08-28 (on time)
  I2 阳光社区党支部, assigned 08-20, due 09-05, 已完成, closed 09-10 (late)
  I3 阳光社区党支部, assigned 09-01, due 09-10, 正在整改
  I4 阳光社区党支部, assigned 09-10, due 10-30, 未启动
  I5 社会事务科,     no 交办日期,   due 08-31, 已完成, no 销号日期: cannot be placed in time
  I6 社会事务科,     assigned 08-20, due 08-25, 已完成, no 销号日期: closed, punctuality unknown

Hand-counted, the week to Sunday 09-06 (08-31 … 09-06):
  counted: N1 (整改中), N2 (未签收), I1 (closed on time), I2 (the ledger closed it 09-10: 整改中 on 09-06, and
  its deadline 09-05 has passed: overdue), I3 (整改中, due 09-10: not overdue), I6 (closed, on time unknown).
  Not counted: I4 (assigned 09-10), I5 (no 交办日期).
  totals: 6 tasks, 2 closed, completion 2/6 = 33.3 %; 1 未签收, 3 整改中, 1 overdue;
  on time: I1 only has a known closing date, 1 of 1 = 100.0 %.
  社会事务科: 4 tasks (N1 N2 I1 I6), 2 closed, 50.0 %, on time 100.0 %, rank 1.
  阳光社区党支部: 2 tasks (I2 I3), 0 closed, 0.0 %, 1 overdue, on time —, rank 2, red, lagging.
  new this period: N1, N2, I3 (assigned 09-01); closed this period: none (I1 closed 08-28).
  The note: 4 tasks of the ledger imported 09-16 counted, 1 without a 交办日期 left out.
  The week before (08-24 … 08-30): I1, I2, I6: 3 tasks, 2 closed.

The week to Sunday 09-13 (09-07 … 09-13):
  counted: N1 closed 09-08 on time, N2 未签收, I1 closed, I2 closed 09-10 late, I3 overdue (due 09-10),
  I4 未签收 (assigned 09-10), I6 closed; 7 tasks, 4 closed, 57.1 %; 2 未签收, 1 整改中, 1 overdue;
  on time: N1, I1 of N1, I1, I2 = 2/3 = 66.7 %.
  closed this period: N1 (09-08), I2 (09-10, from the ledger); new: I4 (09-10).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.report import from_dict, to_dict
from duban.engine.reporting import render
from duban.engine.services.ledger_import import ImportOptions, import_ledger
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD
from tests.helpers import new_task

SH = ZoneInfo("Asia/Shanghai")
B_UNIT = "阳光社区党支部"
LEDGER = """序号,问题类别,存在问题,牵头领导,责任部门,交办日期,完成时限,完成情况,销号日期
1,民生问题,问题I1：便民服务站台账不全,张伟,社会事务科,2026-08-20,2026-08-31,已完成,2026-08-28
2,民生问题,问题I2：公示栏信息未更新,张伟,阳光社区党支部,2026-08-20,2026-09-05,已完成,2026-09-10
3,民生问题,问题I3：老旧小区加装电梯进度滞后,张伟,阳光社区党支部,2026-09-01,2026-09-10,正在整改,
4,民生问题,问题I4：社区食堂未按期开办,张伟,阳光社区党支部,2026-09-10,2026-10-30,未启动,
5,民生问题,问题I5：健身器材损坏,张伟,社会事务科,,2026-08-31,已完成,
6,民生问题,问题I6：楼道堆物未清,张伟,社会事务科,2026-08-20,2026-08-25,已完成,
"""
NOTE_0906 = (
    "导入：2026年9月16日前的数字含当日导入台账所载的4项任务，其交办日期、销号日期和状态以台账为准；"
    "台账未载销号日期的，按期情况记为“—”。2026年9月16日导入的台账另有1项未载交办日期，不计入该日前的数字。"
)


def at(clock: FixedClock, text: str) -> None:
    clock.set(datetime.fromisoformat(text).replace(tzinfo=SH))


def build(app: App, clock: FixedClock, tmp_path: Path) -> dict[str, str]:
    at(clock, "2026-09-01T09:00")
    n1 = new_task(app, title="N1 路灯", deadline=date(2026, 9, 10))
    n2 = new_task(app, title="N2 垃圾清运", deadline=date(2026, 9, 30))
    at(clock, "2026-09-02T09:00")
    fire(app, UNIT_HEAD, n1, "start")
    at(clock, "2026-09-08T10:00")
    report_progress(app, UNIT_HEAD, n1, ProgressInput(100, "已修复"))
    for actor, step in ((UNIT_HEAD, "submit"), (DEPUTY, "approve"), (DEPUTY, "close")):
        fire(app, actor, n1, step)
    at(clock, "2026-09-16T10:00")
    path = tmp_path / "台账.csv"
    path.write_text(LEDGER, encoding="utf-8-sig")
    result = import_ledger(app, PRINCIPAL, path, ImportOptions(campaign="2026年主题教育整改"))
    assert result.imported == 6 and result.errors == []
    at(clock, "2026-09-25T10:00")
    return {"N1": n1, "N2": n2, **{f"I{i}": code for i, code in enumerate(result.codes, start=1)}}


def test_a_week_before_the_import_shows_the_ledger_as_the_file_described_it(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    codes = build(app, clock, tmp_path)
    report = build_report(app, ReportRequest(as_of=date(2026, 9, 6)))
    d = to_dict(report, "zh")
    assert d["totals"] == {
        "tasks": 6,
        "closed": 2,
        "in_progress": 3,
        "submitted": 0,
        "reviewed": 0,
        "overdue": 1,
        "completion_rate": 0.3333,
        "on_time_rate": 1.0,
        "closed_with_deadline": 1,  # I1: I6 closed on a date the ledger does not give
        "closed_on_time": 1,
        "not_started": 1,
        "suspended": 0,
    }
    units = {u["unit"]: u for u in d["units"]}
    assert [u["unit"] for u in d["units"]] == [UNIT, B_UNIT]
    a, b = units[UNIT], units[B_UNIT]
    assert (a["tasks"], a["closed"], a["completion_rate"], a["on_time_rate"], a["rank"]) == (4, 2, 0.5, 1.0, 1)
    assert (b["tasks"], b["closed"], b["overdue"], b["on_time_rate"], b["rank"]) == (2, 0, 1, None, 2)
    assert (b["light"], b["lagging"]) == ("red", True)
    assert [o["code"] for o in d["overdue_tasks"]] == [codes["I2"]]
    assert d["overdue_tasks"][0]["deadline"] == "2026-09-05"
    assert sorted(t["code"] for t in d["new_in_period"]) == sorted([codes["N1"], codes["N2"], codes["I3"]])
    assert d["closed_in_period"] == []
    assert d["headline"] == (
        "截至2026年9月6日，共交办整改任务6项，已销号2项，完成率33.3%；未签收1项，整改中3项，待审核0项，"
        "已审核待销号0项，逾期1项；本期新增3项，新销号0项。"
    )
    # Marked as imported: a key of its own, and a note in every format.
    assert d["imported"] == [{"on": "2026-09-16", "tasks": 4, "undated": 1}]
    assert from_dict(d).imported == report.imported
    document = docx.Document(io.BytesIO(render(report, "docx", "zh")))
    assert NOTE_0906 in [p.text for p in document.paragraphs]
    for fmt in ("html", "markdown", "csv"):
        assert NOTE_0906 in render(report, fmt, "zh").decode("utf-8-sig"), fmt
    assert "Imported: figures before 2026-09-16 include 4 tasks" in render(report, "markdown", "en").decode()
    # The week before: I1, I2 and I6 only (assigned 08-20).
    assert (d["previous_period"]["totals"]["tasks"], d["previous_period"]["totals"]["closed"]) == (3, 2)


def test_the_week_the_ledger_says_tasks_closed_lists_those_closures(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    codes = build(app, clock, tmp_path)
    d = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 13))), "zh")
    t = d["totals"]
    assert (t["tasks"], t["closed"], t["not_started"], t["in_progress"], t["overdue"]) == (7, 4, 2, 1, 1)
    assert (t["completion_rate"], t["closed_with_deadline"], t["closed_on_time"]) == (0.5714, 3, 2)
    assert [o["code"] for o in d["overdue_tasks"]] == [codes["I3"]]
    assert [(x["code"], x["on"]) for x in d["closed_in_period"]] == [
        (codes["N1"], "2026-09-08"),
        (codes["I2"], "2026-09-10"),
    ]
    assert [x["code"] for x in d["new_in_period"]] == [codes["I4"]]
    assert d["imported"] == [{"on": "2026-09-16", "tasks": 5, "undated": 1}]


def test_the_week_of_the_import_is_marked_for_its_previous_week(app: App, clock: FixedClock, tmp_path: Path) -> None:
    """Week to 09-20 includes the import day; its previous week (to 09-13) counts the ledger by its dates."""
    build(app, clock, tmp_path)
    d = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 20))), "zh")
    assert d["totals"]["tasks"] == 8  # I5 counts once it is in the workspace
    assert (d["previous_period"]["totals"]["tasks"], d["previous_period"]["totals"]["closed"]) == (7, 4)
    assert d["imported"] == [{"on": "2026-09-16", "tasks": 5, "undated": 1}]


def test_after_the_import_no_mark_and_the_replay_agrees_with_today(app: App, clock: FixedClock, tmp_path: Path) -> None:
    build(app, clock, tmp_path)
    at(clock, "2026-09-28T10:00")
    replayed = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 27))), "zh")
    assert replayed["imported"] == [] and replayed["notes"] == []
    assert replayed["totals"]["tasks"] == 8
    at(clock, "2026-09-27T20:00")
    today = to_dict(build_report(app, ReportRequest()), "zh")
    assert today["totals"] == replayed["totals"] and today["units"] == replayed["units"]


def test_both_ways_of_replaying_agree_on_an_import(
    app: App, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay from task rows plus moved events, and the one pass over the events, count the import alike."""
    from duban.engine.persistence.read import report_queries

    build(app, clock, tmp_path)
    by_events = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 6))), "zh")
    monkeypatch.setattr(report_queries, "MOVED_SHARE_FOR_EVENTS", 1.0)  # always from the rows and moved tasks
    by_rows = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 6))), "zh")
    assert by_rows["totals"] == by_events["totals"] and by_rows["units"] == by_events["units"]
    assert by_rows["overdue_tasks"] == by_events["overdue_tasks"] and by_rows["totals"]["tasks"] == 6
