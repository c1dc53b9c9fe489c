"""The first circular after a ledger is imported mid-campaign: hand-counted, read back from the files.

The ledger (clock in Shanghai):
  N1 社会事务科, assigned 09-01, due 09-10: signed for and closed 09-08 (on time)
  N2 社会事务科, assigned 09-01, due 09-30: never signed for (未签收)
  imported on Wednesday 09-16 from the office's spreadsheet, which gives no 交办日期 and no 销号日期:
  I1 社会事务科, due 08-31, 已完成: closed on a date nobody knows
  I2 阳光社区党支部, due 09-05, 已完成: closed on a date nobody knows
  I3 阳光社区党支部, due 09-10, 正在整改: overdue
  I4 阳光社区党支部, due 10-30, 未启动: not signed for

The week to Sunday 09-20 (09-14 … 09-20), hand-counted:
  totals: 6 tasks, 3 closed (N1, I1, I2), completion 3/6 = 50.0 %; 2 未签收 (N2, I4), 1 in progress (I3),
  1 overdue (I3). On time: only N1 has a known closing date, so 1 of 1 = 100.0 % (I1 and I2 are neither on
  time nor late: before, their import instant 09-16 made them late and the rate 1/3 = 33.3 %).
  closed this period: none (the import of a closed task is not its closing); new this period: I1–I4
  (without a 交办日期 an imported task is new on the day it was written).
  社会事务科: 3 tasks, 2 closed, 66.7 %, on time 100.0 %, rank 1, green.
  阳光社区党支部: 3 tasks, 1 closed, 33.3 %, on time —, 1 overdue, rank 2, red.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.report import to_dict
from duban.engine.reporting import render
from duban.engine.services.ledger_import import ImportOptions, import_ledger
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD
from tests.helpers import new_task

SH = ZoneInfo("Asia/Shanghai")
B_UNIT = "阳光社区党支部"
LEDGER = """序号,问题类别,存在问题,牵头领导,责任部门,完成时限,完成情况
1,民生问题,问题I1：便民服务站台账不全,张伟,社会事务科,2026-08-31,已完成
2,民生问题,问题I2：公示栏信息未更新,张伟,阳光社区党支部,2026-09-05,已完成
3,民生问题,问题I3：老旧小区加装电梯进度滞后,张伟,阳光社区党支部,2026-09-10,正在整改
4,民生问题,问题I4：社区食堂未按期开办,张伟,阳光社区党支部,2026-10-30,未启动
"""


def at(clock: FixedClock, text: str) -> None:
    clock.set(datetime.fromisoformat(text).replace(tzinfo=SH))


def build(app: App, clock: FixedClock, tmp_path: Path) -> dict[str, str]:
    at(clock, "2026-09-01T09:00")
    n1 = new_task(app, title="N1 路灯", deadline=date(2026, 9, 10))
    n2 = new_task(app, title="N2 垃圾清运", deadline=date(2026, 9, 30))
    at(clock, "2026-09-02T09:00")
    fire(app, UNIT_HEAD, n1, "start")
    at(clock, "2026-09-08T10:00")
    _close(app, n1)
    at(clock, "2026-09-16T10:00")
    path = tmp_path / "台账.csv"
    path.write_text(LEDGER, encoding="utf-8-sig")
    result = import_ledger(app, PRINCIPAL, path, ImportOptions(campaign="2026年主题教育整改"))
    assert result.imported == 4 and result.by_state == {"closed": 2, "in_progress": 1, "assigned": 1}
    at(clock, "2026-09-25T10:00")
    return {"N1": n1, "N2": n2, **{f"I{i}": code for i, code in enumerate(result.codes, start=1)}}


def _close(app: App, code: str) -> None:
    report_progress(app, UNIT_HEAD, code, ProgressInput(100, "已修复"))
    fire(app, UNIT_HEAD, code, "submit")
    fire(app, DEPUTY, code, "approve")
    fire(app, DEPUTY, code, "close")


def test_first_circular_after_an_import_mid_campaign(app: App, clock: FixedClock, tmp_path: Path) -> None:
    codes = build(app, clock, tmp_path)
    report = build_report(app, ReportRequest(as_of=date(2026, 9, 20)))
    d = to_dict(report, "zh")
    assert d["totals"] == {
        "tasks": 6,
        "closed": 3,
        "in_progress": 1,
        "submitted": 0,
        "reviewed": 0,
        "overdue": 1,
        "completion_rate": 0.5,
        "on_time_rate": 1.0,
        "closed_with_deadline": 1,  # N1 only: I1 and I2 closed on dates nobody knows
        "closed_on_time": 1,
        "not_started": 2,
        "suspended": 0,
    }
    units = {u["unit"]: u for u in d["units"]}
    assert [u["unit"] for u in d["units"]] == [UNIT, B_UNIT]
    assert (units[UNIT]["tasks"], units[UNIT]["closed"], units[UNIT]["on_time_rate"], units[UNIT]["rank"]) == (
        3,
        2,
        1.0,
        1,
    )
    assert (units[B_UNIT]["closed"], units[B_UNIT]["overdue"], units[B_UNIT]["on_time_rate"]) == (1, 1, None)
    assert (units[B_UNIT]["not_started"], units[B_UNIT]["rank"], units[B_UNIT]["light"]) == (1, 2, "red")
    assert d["closed_in_period"] == []  # the import of a closed task is not its closing
    assert [t["code"] for t in d["new_in_period"]] == [codes[f"I{i}"] for i in range(1, 5)]
    assert {t["on"] for t in d["new_in_period"]} == {"2026-09-16"}
    assert [o["code"] for o in d["overdue_tasks"]] == [codes["I3"]]
    assert d["headline"] == (
        "截至2026年9月20日，共交办整改任务6项，已销号3项，完成率50.0%；未签收2项，整改中1项，待审核0项，"
        "已审核待销号0项，逾期1项；本期新增4项，新销号0项。"
    )
    # The week before saw only N1 and N2: the ledger, imported later, gives no 交办日期 to place its tasks by,
    # and the circular says so.
    assert (d["previous_period"]["totals"]["tasks"], d["previous_period"]["totals"]["closed"]) == (2, 1)
    assert d["imported"] == [{"on": "2026-09-16", "tasks": 0, "undated": 4}]
    assert d["notes"] == []  # the notes it was given; the import's is drawn from `imported` in every format
    assert (
        "导入：2026年9月16日导入的台账另有4项未载交办日期，不计入该日前的数字。"
        in render(report, "markdown", "zh").decode()
    )

    # The Word circular says the same: the headline, and the units table with 未签收 and an unknown rate as —.
    document = docx.Document(io.BytesIO(render(report, "docx", "zh")))
    assert d["headline"] in [p.text for p in document.paragraphs]
    grid = [[c.text for c in row.cells] for row in document.tables[0].rows]
    header = grid[0]
    assert header[:6] == ["排名", "单位", "任务数", "已销号", "未签收", "整改中"]
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in grid[1:]}
    assert (rows[UNIT]["完成率"], rows[UNIT]["按期完成率"], rows[UNIT]["未签收"]) == ("66.7%", "100.0%", "1")
    assert (rows[B_UNIT]["完成率"], rows[B_UNIT]["按期完成率"], rows[B_UNIT]["整改中"]) == ("33.3%", "—", "1")
    assert (rows["合计"]["完成率"], rows["合计"]["按期完成率"], rows["合计"]["未签收"]) == ("50.0%", "100.0%", "2")

    # The workbook holds the same rates as numbers, and the CSV as text.
    wb = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", "zh")))
    ws = wb["各单位进展"]
    sheet = [[c.value for c in row] for row in ws.iter_rows()]
    by_unit = {r[1]: dict(zip(sheet[0], r, strict=True)) for r in sheet[1:]}
    assert by_unit[UNIT]["完成率"] == 0.667 and by_unit[B_UNIT]["按期完成率"] == "—"
    assert by_unit[B_UNIT]["未签收"] == 1 and by_unit["合计"]["未签收"] == 2
    lines = list(csv.reader(io.StringIO(render(report, "csv", "zh").decode("utf-8-sig"))))
    row = [line for line in lines if line[:2] == ["2", B_UNIT]][0]
    assert row[2:11] == ["3", "1", "1", "1", "0", "0", "1", "33.3%", "—"]
