"""A circular that reads as an official document: rounding, ranks, cut titles, 期号, 落款 and 抄送."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time

import docx
import openpyxl
import pytest
from sqlalchemy import select

from duban.engine.app import App
from duban.engine.domain.circulars import CircularSchedule, parse_schedules
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import BadFile
from duban.engine.domain.report import Counts, Period, Previous, Report, delta_points, pct, rank_units, to_dict
from duban.engine.persistence.models import Circular
from duban.engine.reporting import render
from duban.engine.reporting.letterhead import Letterhead
from duban.engine.reporting.tables import short_title
from duban.engine.services.circulars import circular_file, issue_due, list_circulars
from tests.integration.test_report import at, build_ledger


def test_rates_round_half_up() -> None:
    assert pct(9 / 16) == "56.3%"  # 56.25: Python's own formatting gives 56.2
    assert pct(1 / 8) == "12.5%" and pct(1 / 16) == "6.3%" and pct(2 / 3) == "66.7%" and pct(None) == "—"
    assert delta_points(9 / 16, 1 / 2) == 6.3  # 6.25 points


def _report(units: dict[str, Counts]) -> Report:
    totals = sum(units.values(), Counts())
    period = Period("month", date(2026, 11, 1), date(2026, 11, 30))
    return Report(
        as_of=period.end,
        period=period,
        totals=totals,
        units=rank_units(units, totals),
        overdue_tasks=[],
        overdue_omitted=0,
        new_in_period=[],
        closed_in_period=[],
        extensions_in_period=[],
        by_category={},
        by_campaign={},
        previous=Previous(Period("month", date(2026, 10, 1), date(2026, 10, 31)), Counts(), {}),
        generated_at=datetime(2026, 12, 1, 1, 0),
    )


# 16 tasks, 9 closed: 56.25 %. Units A and B tie; C has an on-time rate nobody can compute; D closed nothing.
UNITS = {
    "甲单位": Counts(tasks=16, closed=9, in_progress=7, closed_with_deadline=9, closed_on_time=9),
    "乙单位": Counts(tasks=16, closed=9, in_progress=7, closed_with_deadline=9, closed_on_time=9),
    "丙单位": Counts(tasks=16, closed=9, in_progress=7),  # closed at dates nobody knows: on time —
    "丁单位": Counts(tasks=4, closed=0, in_progress=2, not_started=2),
    "戊单位": Counts(tasks=8, closed=0, not_started=8, overdue=1),
}


def test_ranks_share_ties_and_put_undefined_rates_last_in_every_format() -> None:
    report = _report(UNITS)
    assert [(u.unit, u.rank) for u in report.units] == [
        ("乙单位", 1),
        ("甲单位", 1),
        ("丙单位", 3),  # the same completion as 甲 and 乙, but no on-time rate: after them, not tied with 0 %
        ("丁单位", 4),
        ("戊单位", 5),  # something overdue ranks last of all
    ]
    assert [u["rank"] for u in to_dict(report)["units"]] == [1, 1, 3, 4, 5]
    # The same ranks, rates and — in the Word table, the workbook and the CSV.
    grid = [
        [c.text for c in row.cells] for row in docx.Document(io.BytesIO(render(report, "docx", "zh"))).tables[0].rows
    ]
    assert [(r[0], r[1], r[9], r[10]) for r in grid[1:4]] == [
        ("1", "乙单位", "56.3%", "100.0%"),
        ("1", "甲单位", "56.3%", "100.0%"),
        ("3", "丙单位", "56.3%", "—"),
    ]
    ws = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", "zh")))["各单位进展"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=4)]
    assert [(r[0], r[9], r[10]) for r in rows] == [(1, 0.563, 1.0), (1, 0.563, 1.0), (3, 0.563, "—")]
    assert ws.cell(row=2, column=10).number_format == "0.0%"
    lines = list(csv.reader(io.StringIO(render(report, "csv", "zh").decode("utf-8-sig"))))
    assert [line[:2] + line[9:11] for line in lines if line[1:2] == ["丙单位"]][0] == ["3", "丙单位", "56.3%", "—"]
    total = 9 * 3 / (16 * 3 + 12)  # 27 of 60: 45.0 %
    assert f"完成率{pct(total)}" in render(report, "markdown", "zh").decode() and pct(total) == "45.0%"
    assert json.loads(render(report, "json", "zh"))["units"][0]["completion_rate"] == 0.5625


def test_long_titles_are_cut_at_punctuation_with_an_ellipsis() -> None:
    long = "关于老旧小区加装电梯工作推进缓慢，群众反映强烈，部分楼栋至今未完成意见征集的问题"
    assert short_title(long) == "关于老旧小区加装电梯工作推进缓慢，群众反映强烈…"
    plain = "无标点的" + "很长" * 13 + "的标题啊"  # 34 characters, nowhere to cut: cut at 29 and mark it
    assert short_title(plain) == plain[:29] + "…" and len(short_title(plain)) == 30
    assert short_title("短标题") == "短标题"


def test_the_word_circular_has_its_number_office_date_signature_and_copies() -> None:
    report = _report(UNITS)
    head = Letterhead(
        issuer="县社区管理服务中心督查室", issue_no=3, signature="县委督查室（代章）", cc=("县委办", "县政府办")
    )
    document = docx.Document(io.BytesIO(render(report, "docx", "zh", letterhead=head)))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[:4] == [
        "第3期",
        "县社区管理服务中心督查室　　2026年12月1日",
        "整改任务进展情况通报（2026年11月1日至2026年11月30日）",
        "统计时段：2026年11月1日至2026年11月30日",
    ]
    headings = [t for t in texts if t[:2] in ("一、", "二、", "三、", "四、")]
    assert headings == ["一、总体情况", "二、各单位进展", "三、逾期任务点名通报", "四、本期销号"]
    assert texts[4] == "一、总体情况" and texts[5].startswith("截至2026年11月30日，共交办整改任务60项，")
    assert texts[-3:] == ["县委督查室（代章）", "2026年12月1日", "抄送：县委办，县政府办。"]
    html = render(report, "html", "zh", letterhead=head).decode()
    order = ["第3期", "县社区管理服务中心督查室　　2026年12月1日", "<h1>", "一、总体情况", "二、各单位进展"]
    order += ["县委督查室（代章）", "抄送：县委办，县政府办。"]
    positions = [html.index(part) for part in order]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("extra", "key"),
    [({"cc": [""]}, r"circulars\[0\] \(w\)\.cc"), ({"signature": 3}, r"circulars\[0\] \(w\)\.signature")],
)
def test_bad_letterhead_keys_name_the_key(extra: dict[str, object], key: str) -> None:
    with pytest.raises(BadFile, match=key):
        parse_schedules({"circulars": [{"name": "w", "every": "week", **extra}]}, "circulars.yaml")


def test_schedules_number_their_circulars(app: App, clock: FixedClock) -> None:
    build_ledger(app, clock)
    weekly = parse_schedules(
        {
            "circulars": [
                {
                    "name": "weekly",
                    "every": "week",
                    "formats": ["docx"],
                    "chart": False,
                    "issuer": "县社区管理服务中心督查室",
                    "cc": ["县委办"],
                }
            ]
        },
        "circulars.yaml",
    )
    assert weekly[0] == CircularSchedule(
        name="weekly", every="week", on=0, at=time(9, 0), formats=("docx",), chart=False,
        issuer="县社区管理服务中心督查室", cc=("县委办",),
    )  # fmt: skip
    at(clock, "2026-09-21T09:05")
    first = issue_due(app, weekly)
    at(clock, "2026-09-28T09:05")
    second = issue_due(app, weekly)
    assert len(first) == len(second) == 1
    for circular_id, number in ((first[0], "第1期"), (second[0], "第2期")):
        stored = circular_file(app, circular_id, ".docx")
        assert stored is not None
        texts = [p.text for p in docx.Document(io.BytesIO(stored.content)).paragraphs if p.text]
        assert texts[0] == number and texts[-1] == "抄送：县委办。"
    assert sorted(c.id for c in list_circulars(app, "weekly")) == sorted(first + second)
    with app.db.engine.connect() as conn:
        assert sorted(conn.execute(select(Circular.issue_no)).scalars()) == [1, 2]


def test_demo_needs_no_chinese_font_and_its_last_circular_shows_the_product_working(  # type: ignore[no-untyped-def]
    call, tmp_path, monkeypatch
) -> None:
    """On a bare server (no CJK font) the demo warns of nothing: its charts are drawn natively (Word, SVG).

    Its closing circular, for the last week, names an overdue task, marks a unit lagging and lists a closure.
    """
    from duban.engine.reporting import chart

    monkeypatch.delenv("DUBAN_CJK_FONT", raising=False)
    monkeypatch.setattr(chart, "_installed_cjk_font", lambda: None)
    folder = tmp_path / "demo"
    result = call("--lang", "zh", "demo", "--dir", str(folder))
    assert result.code == 0, result.err
    assert chart.NO_CJK_FONT.zh not in result.err and "字体" not in result.err
    assert [line for line in result.err.splitlines() if "提示" in line] == [
        "duban：提示：单机模式——操作人按 --as 记录，未核对系统账号"
    ]

    shown = call("--db", str(folder / "duban.db"), "circulars", "list", "--json")
    weekly = [c for c in json.loads(shown.out) if c["schedule"] == "weekly"]
    last = max(weekly, key=lambda c: c["period"]["to"])
    d = json.loads(call("--db", str(folder / "duban.db"), "circulars", "show", str(last["id"]), "--json").out)
    assert (d["period"]["from"], d["period"]["to"]) == ("2026-10-19", "2026-10-25")
    overdue = {o["code"]: o for o in d["overdue_tasks"]}
    assert "ZG-2026-0017" in overdue and overdue["ZG-2026-0017"]["days_overdue"] > 0  # named, and escalated
    assert overdue["ZG-2026-0017"]["escalation_level"] >= 1
    lagging = [u["unit"] for u in d["units"] if u["lagging"]]
    assert "综合办公室" in lagging and all(u["light"] == "red" for u in d["units"] if u["lagging"])
    assert d["closed_in_period"] and d["period_counts"]["closed"] == len(d["closed_in_period"]) >= 1
    assert all("2026-10-19" <= t["on"] <= "2026-10-25" for t in d["closed_in_period"])

    # The same in the Word document the demo leaves: the task named, 滞后 marked, the closure listed, the chart.
    document = docx.Document(str(folder / "整改进展通报-2026-10-19-2026-10-25.docx"))
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert {"ZG-2026-0017", "滞后", d["closed_in_period"][0]["code"]} <= cells
    assert any(t._tbl.xpath("./w:tblPr/w:tblCaption") for t in document.tables)
    svg = (folder / "整改进展通报-2026-10-19-2026-10-25.svg").read_text(encoding="utf-8")
    assert ">综合办公室</text>" in svg


def test_assistance_tasks_have_their_own_section(app: App, clock: FixedClock) -> None:
    """A 帮扶 task is not a 整改任务: the headline and the unit ranking leave it out; its own section counts it."""
    from duban.engine.services.report import ReportRequest, build_report
    from duban.engine.services.tasks import NewTask, assign, fire
    from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD

    build_ledger(app, clock)  # five 整改任务 counted, T6 cancelled (see test_report.py)
    at(clock, "2026-09-23T10:00")
    fields = {"household": "何某某户", "households": "1", "people": "4", "assistance_measures": "教育帮扶"}
    for n in range(2):
        code = assign(
            app,
            PRINCIPAL,
            NewTask(
                title=f"一户一策{n}", unit=UNIT, leader=DEPUTY, workflow="assistance", deadline=date(2026, 12, 31),
                fields=fields,
            ),
        )  # fmt: skip
    fire(app, UNIT_HEAD, code, "start")
    at(clock, "2026-11-25T10:00")
    report = build_report(app, ReportRequest(as_of=date(2026, 9, 25)))
    d = to_dict(report, "zh")
    assert d["totals"]["tasks"] == 5 and d["headline"].startswith("截至2026年9月25日，共交办整改任务5项，")
    assert "本期新增0项" in d["headline"]  # the two 帮扶 tasks assigned this week are not new 整改任务
    assert sum(u["tasks"] for u in d["units"]) == 5
    assert d["other_workflows"]["帮扶任务"]["totals"]["tasks"] == 2
    assert d["other_workflows"]["帮扶任务"]["units"][UNIT]["not_started"] == 1
    assert d["other_workflows"]["帮扶任务"]["units"][UNIT]["in_progress"] == 1
    document = docx.Document(io.BytesIO(render(report, "docx", "zh")))
    texts = [p.text for p in document.paragraphs]
    assert "十、帮扶任务进展情况" in texts
    grid = [[c.text for c in row.cells] for row in document.tables[-1].rows]
    assert grid[1][:5] == [UNIT, "2", "0", "1", "1"] and grid[-1][:2] == ["合计", "2"]
    from duban.engine.domain.report import from_dict

    assert from_dict(d) == report
