"""Real ledgers come in faithfully: dates, targets, other columns, status words, unit abbreviations, rejects.

Every import here is followed by ``audit verify``: what an import keeps is bound into the history.
The ledgers are written by the tests, in the shapes offices send them.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from duban.engine.app import App
from duban.engine.persistence.models import Event, Task
from duban.engine.services.audit import verify
from duban.engine.services.ledger_export import ExportFilter, export_ledger
from duban.engine.services.ledger_import import ImportOptions, import_ledger
from duban.engine.services.org import import_org
from tests.conftest import PRINCIPAL

CAMPAIGN = "2026年主题教育整改"
ADMIN = "zhouqiang"


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def tasks(app: App) -> list[Any]:
    with app.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    Task.code,
                    Task.problem,
                    Task.state,
                    Task.deadline,
                    Task.deadline_expr,
                    Task.assigned_on,
                    Task.closed_on,
                    Task.target,
                    Task.ledger_columns,
                ).order_by(Task.id)
            )
        )


def import_data(app: App) -> list[dict[str, Any]]:
    with app.db.engine.connect() as conn:
        return [
            d or {}
            for d in conn.execute(select(Event.data).where(Event.trigger == "import").order_by(Event.task_id)).scalars()
        ]


def assert_verified(app: App) -> None:
    verdict = verify(app)
    assert verdict.ok, verdict.breaks


HISTORY = [
    [
        "序号",
        "存在问题",
        "整改措施",
        "责任单位",
        "责任领导",
        "交办日期",
        "整改时限",
        "整改进展",
        "销号日期",
        "整改目标",
        "备注",
        "督办人",
    ],
    [
        "1",
        "路灯损坏",
        "1. 排查 2. 更换",
        "社会事务科",
        "张伟",
        "2026-03-02",
        "立行立改",
        "已完成",
        "2026年3月6日",
        "全部亮灯",
        "市委巡察反馈",
        "黄涛",
    ],
    ["2", "台账不全", "补齐台账", "社会事务科", "张伟", "2026/3/2", "2026-02-27", "已完成", "", "台账齐全", "", ""],
    [
        "3",
        "垃圾清运不及时",
        "加密清运",
        "综合办公室",
        "张伟",
        "2026-03-02",
        "2026-11-14",
        "正在整改",
        "",
        "",
        "群众反映",
        "",
    ],
    ["4", "公示不及时", "按月公示", "综合办公室", "张伟", "", "2025年12月31日", "正在整改", "", "", "", ""],
]


def test_import_keeps_the_dates_the_target_and_the_other_columns(sqlite_app: App, tmp_path: Path) -> None:
    ledger = write_csv(tmp_path / "台账.csv", HISTORY)
    result = import_ledger(sqlite_app, PRINCIPAL, ledger, ImportOptions(campaign=CAMPAIGN))
    assert result.imported == 4 and result.errors == []
    t = tasks(sqlite_app)
    # 交办日期 read (both spellings); 立行立改 counts five working days from it, not from the import day
    assert [r.assigned_on for r in t[:3]] == [date(2026, 3, 2)] * 3 and t[3].assigned_on is None
    assert t[0].deadline == date(2026, 3, 9) and t[0].deadline_expr == "立行立改"
    # 销号日期 kept; a closed row without one stays unknown
    assert t[0].closed_on == date(2026, 3, 6) and t[1].state == "closed" and t[1].closed_on is None
    assert t[0].target == "全部亮灯" and t[2].target is None
    assert t[0].ledger_columns == [["备注", "市委巡察反馈"], ["督办人", "黄涛"]]
    assert t[1].ledger_columns is None and t[2].ledger_columns == [["备注", "群众反映"]]
    data = import_data(sqlite_app)
    assert data[0]["assigned_on"] == "2026-03-02" and data[0]["closed_on"] == "2026-03-06"
    # warnings, not errors: before the assignment, on a Saturday, in a year before the campaign's
    warned = {(w.row, w.reason.en) for w in result.warnings}
    assert (3, "the deadline 2026-02-27 is before the assignment date 2026-03-02") in warned
    assert (4, "the deadline 2026-11-14 falls on a weekend or holiday") in warned
    assert any(r == 5 and "in a year before the campaign" in en for r, en in warned)
    assert_verified(sqlite_app)


def test_assigned_on_from_the_command_line_and_shown_warnings(
    call, sqlite_url: str, sqlite_app: App, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rows = [[c for i, c in enumerate(r) if i != 5] for r in HISTORY]  # no 交办日期 column
    ledger = write_csv(tmp_path / "台账.csv", rows)
    args = ("--db", sqlite_url, "--as", PRINCIPAL, "import", str(ledger), "--campaign", CAMPAIGN)
    bad = call(*args, "--assigned-on", "3月2日")
    assert bad.code == 2 and bad.err.count("\n") == 1
    done = call(*args, "--assigned-on", "2026-03-02")
    assert done.code == 0, done.err
    assert "warning: 台账.csv: row 3, 整改时限: the deadline 2026-02-27 is before the assignment date" in done.out
    t = tasks(sqlite_app)
    assert {r.assigned_on for r in t} == {date(2026, 3, 2)} and t[0].deadline == date(2026, 3, 9)
    assert_verified(sqlite_app)


def test_the_campaign_dates_stand_in_for_a_missing_assignment_date(
    call, sqlite_url: str, sqlite_app: App, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    add = ("--db", sqlite_url, "--as", PRINCIPAL, "campaign", "add", CAMPAIGN, "--feedback-date", "2026-04-01")
    assert call(*add, "--source", "县委第二巡察组").code == 0
    again = call(*add)
    assert again.code == 2 and "exists already" in again.err and again.err.count("\n") == 1
    refused = call("--db", sqlite_url, "--as", "fenglei", "campaign", "add", "另一个", "--feedback-date", "2026-04-01")
    assert refused.code == 4
    listed = call("--db", sqlite_url, "--json", "campaign", "list")
    assert listed.json() == [
        {"name": CAMPAIGN, "feedback_on": "2026-04-01", "source": "县委第二巡察组", "started_on": None}
    ]
    ledger = write_csv(
        tmp_path / "l.csv",
        [["序号", "问题", "责任单位", "责任领导", "整改时限"], ["1", "路灯", "社会事务科", "张伟", "立行立改"]],
    )
    import_ledger(sqlite_app, PRINCIPAL, ledger, ImportOptions(campaign=CAMPAIGN))
    (t,) = tasks(sqlite_app)
    assert t.assigned_on == date(2026, 4, 1) and t.deadline == date(2026, 4, 9)  # 4–6 April is 清明
    assert_verified(sqlite_app)  # the campaign is on record


def test_status_words_offices_write(call, sqlite_url: str, sqlite_app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    words = [
        ("达到序时进度", "in_progress", {}),
        ("序时推进", "in_progress", {}),
        ("未达到序时进度", "in_progress", {"behind": True}),
        ("已完成，长期坚持", "closed", {"ongoing_measures": True}),
        ("正在推进", "in_progress", {}),
        ("进行中", "in_progress", {}),
        ("整改完毕", "closed", {}),
        ("已完成80%", "in_progress", {"percent_done": 80}),
        ("未完成", "in_progress", {}),  # from the mapping file
    ]
    rows = [["序号", "问题", "责任单位", "责任领导", "整改进展"]]
    rows += [[str(i), f"问题{i}", "社会事务科", "张伟", w] for i, (w, _s, _f) in enumerate(words, 1)]
    ledger = write_csv(tmp_path / "l.csv", rows)
    args = ("--db", sqlite_url, "--as", PRINCIPAL, "import", str(ledger), "--campaign", CAMPAIGN)
    refused = call(*args)
    assert refused.code == 2 and "row 10, 整改进展: unknown status '未完成'" in refused.err
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text("status:\n  未完成: unfinished\n", encoding="utf-8")
    wrong = call(*args, "--mapping", str(bad_map))
    assert wrong.code == 2 and "'unfinished' is not a state of rectification" in wrong.err
    assert wrong.err.count("\n") == 1
    mapping = tmp_path / "map.yaml"
    mapping.write_text("status:\n  未完成: in_progress\n", encoding="utf-8")
    done = call(*args, "--mapping", str(mapping))
    assert done.code == 0, done.err
    assert [r.state for r in tasks(sqlite_app)] == [s for _w, s, _f in words]
    for data, (_w, _s, flags) in zip(import_data(sqlite_app), words, strict=True):
        assert {k: data[k] for k in flags} == flags
    assert_verified(sqlite_app)


ORG_WITH_ALIASES = """
units:
  - name: 县住房和城乡建设局
    aliases: [县住建局, 住建局]
  - name: 县财政局
people:
  - id: zhujian
    name: 朱建
    unit: 县住房和城乡建设局
    roles: [unit_head]
"""


def test_units_by_abbreviation_and_co_units_kept_as_text(
    call, sqlite_url: str, sqlite_app: App, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    org = tmp_path / "org.yaml"
    org.write_text(ORG_WITH_ALIASES, encoding="utf-8")
    import_org(sqlite_app, org, ADMIN)
    with sqlite_app.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT aliases FROM units WHERE name = '县住房和城乡建设局'")).scalar_one()
    assert json.loads(stored) == ["县住建局", "住建局"]
    rows = [
        ["序号", "问题", "责任单位", "配合单位", "责任领导"],
        ["1", "违建", "住建局", "县财政局、各乡镇、县某局", "张伟"],
        ["2", "危房", "县住建局", "各有关单位", "张伟"],
    ]
    ledger = write_csv(tmp_path / "l.csv", rows)
    result = import_ledger(sqlite_app, PRINCIPAL, ledger, ImportOptions(campaign=CAMPAIGN))
    assert result.imported == 2 and result.created_units == []
    t = tasks(sqlite_app)
    assert t[0].ledger_columns == [["配合单位(未匹配)", "各乡镇、县某局"]]
    assert t[1].ledger_columns == [["配合单位(未匹配)", "各有关单位"]]
    # only a unit that is neither in the organisation nor a collective name is worth a warning
    assert [(w.row, w.reason.en) for w in result.warnings] == [
        (2, "co-unit '县某局' is not in the organisation; kept as text")
    ]
    with sqlite_app.db.engine.connect() as conn:
        units = (
            conn.execute(text("SELECT DISTINCT u.name FROM tasks t JOIN units u ON u.id = t.unit_id")).scalars().all()
        )
        co = conn.execute(text("SELECT u.name FROM task_co_units c JOIN units u ON u.id = c.unit_id")).scalars().all()
    assert units == ["县住房和城乡建设局"] and co == ["县财政局"]
    # --create-units will not create a near twin of a unit there is: it says which one is meant
    near = write_csv(
        tmp_path / "near.csv",
        [
            ["序号", "问题", "责任单位", "责任领导"],
            ["1", "欠薪", "县住建委", "张伟"],
            ["2", "防汛", "县应急局", "张伟"],
        ],
    )
    args = ("--db", sqlite_url, "--as", PRINCIPAL, "import", str(near), "--campaign", CAMPAIGN, "--create-units")
    refused = call(*args)
    assert refused.code == 2
    assert "row 2, 责任单位: will not create unit '县住建委': the organisation has 县住房和城乡建设局" in refused.err
    assert "县应急局" not in refused.err  # nothing like it: that one may be created
    # suggestions rank by the distinctive part, not by a shared 县…局
    unknown = write_csv(
        tmp_path / "unknown.csv", [["序号", "问题", "责任单位", "责任领导"], ["1", "欠薪", "县财政所", "张伟"]]
    )
    hint = call("--db", sqlite_url, "--as", PRINCIPAL, "import", str(unknown), "--campaign", CAMPAIGN)
    assert hint.code == 2 and "no unit '县财政所' in the organisation (did you mean 县财政局?)" in hint.err
    # a collective name as the responsible unit is many units: --create-units does not make it one
    many = write_csv(
        tmp_path / "many.csv", [["序号", "问题", "责任单位", "责任领导"], ["1", "秸秆禁烧", "各乡镇", "张伟"]]
    )
    whole = call("--db", sqlite_url, "--lang", "zh", "--as", PRINCIPAL, "import", str(many), "--create-units")
    assert whole.code == 2
    assert "第 2 行“责任单位”：责任单位“各乡镇”是统称，不是一个单位：请按单位拆成多行，或写明牵头单位" in whole.err
    with sqlite_app.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM units WHERE name = '各乡镇'")).scalar() == 0
    assert_verified(sqlite_app)


def test_export_writes_the_ledger_back_and_a_round_trip_keeps_it(
    sqlite_app: App,
    tmp_path: Path,
    make_app,
    sqlite_template: Path,  # type: ignore[no-untyped-def]
) -> None:
    import_ledger(sqlite_app, PRINCIPAL, write_csv(tmp_path / "台账.csv", HISTORY), ImportOptions(campaign=CAMPAIGN))
    out = tmp_path / "out.csv"
    export_ledger(sqlite_app, out, ExportFilter(lang="zh"))
    with out.open(encoding="utf-8-sig", newline="") as fh:
        exported = list(csv.DictReader(fh))
    first = exported[0]
    assert first["整改时限"] == "立行立改" and first["完成时限(日期)"] == "2026-03-09"
    assert first["交办日期"] == "2026-03-02" and first["整改目标"] == "全部亮灯"
    assert first["备注"] == "市委巡察反馈" and first["督办人"] == "黄涛"
    # into an empty database, on another day: the same deadlines, dates and columns
    import shutil

    empty = tmp_path / "empty.db"
    shutil.copy(sqlite_template, empty)
    other = make_app(str(empty))
    result = import_ledger(other, PRINCIPAL, out, ImportOptions())
    assert result.imported == 4 and result.errors == []

    def strip(rows: list[Any]) -> list[tuple[Any, ...]]:
        return [
            (r.problem, r.state, r.deadline, r.deadline_expr, r.assigned_on, r.target, r.ledger_columns) for r in rows
        ]

    assert strip(tasks(other)) == strip(tasks(sqlite_app))
    assert_verified(other)


def test_a_fixed_reject_imports_with_nothing_lost(sqlite_app: App, tmp_path: Path) -> None:
    rows = [
        ["序号", "存在问题", "责任单位", "责任领导", "整改进展", "备注"],
        ["一、民生问题（2个）", "", "", "", "", ""],
        ["1", "路灯损坏", "社会事务科", "张伟", "正在整改", "巡察反馈"],
        ["2", "井盖缺失", "社会事务科", "张伟", "差不多了", "群众来信"],
    ]
    ledger = write_csv(tmp_path / "台账.csv", rows)
    rejects = tmp_path / "拒收.csv"
    result = import_ledger(
        sqlite_app, PRINCIPAL, ledger, ImportOptions(campaign=CAMPAIGN, skip_invalid=rejects, lang="zh")
    )
    assert result.imported == 1 and result.rejected == 1
    with rejects.open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == ["序号", "存在问题", "责任单位", "责任领导", "整改进展", "备注", "问题类别", "原行号", "错误原因"]
    assert got[1][:7] == ["2", "井盖缺失", "社会事务科", "张伟", "差不多了", "群众来信", "民生问题"]
    got[1][4] = "正在整改"  # the clerk fixes the status and imports the rejects file itself
    write_csv(rejects, got)
    again = import_ledger(sqlite_app, PRINCIPAL, rejects, ImportOptions(campaign=CAMPAIGN))
    assert again.imported == 1 and again.errors == []
    t = tasks(sqlite_app)
    assert t[1].problem == "井盖缺失" and t[1].ledger_columns == [["备注", "群众来信"]]
    with sqlite_app.db.engine.connect() as conn:
        categories = conn.execute(select(Task.category).order_by(Task.id)).scalars().all()
    assert categories == ["民生问题", "民生问题"]
    assert_verified(sqlite_app)


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _cache(path: Path, ref: str, value: str) -> None:
    """Give formula cell ``ref`` the value Excel saves with it (openpyxl writes none)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    start = xml.index(f'<c r="{ref}"')
    end = xml.index("</c>", start)
    parts["xl/worksheets/sheet1.xml"] = (
        xml[:start] + xml[start:end].replace("<v></v>", f"<v>{value}</v>") + xml[end:]
    ).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)


def test_excel_dates_serials_and_formulas(call, sqlite_url: str, sqlite_app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header = ["序号", "问题", "责任单位", "责任领导", "交办日期", "整改时限"]
    serial = tmp_path / "serial.xlsx"
    # 46022 is 2025-12-31, 46203 is 2026-06-30: numbers in date columns, as a pasted sheet has them
    _workbook(
        serial,
        [
            header,
            [1, "路灯", "社会事务科", "张伟", 46022, 46203],
            [2, "井盖", "社会事务科", "张伟", None, "=DATE(2026,9,30)"],
        ],
    )
    _cache(serial, "F3", "46295")  # Excel saved the formula's value: 2026-09-30
    result = import_ledger(sqlite_app, PRINCIPAL, serial, ImportOptions(campaign=CAMPAIGN))
    assert result.imported == 2 and result.errors == []
    t = tasks(sqlite_app)
    assert t[0].assigned_on == date(2025, 12, 31) and t[0].deadline == date(2026, 6, 30)
    assert t[1].deadline == date(2026, 9, 30)
    assert_verified(sqlite_app)
    # a formula never calculated: its value is unknown, and the clerk is told which cell and what to do
    raw = _workbook(tmp_path / "raw.xlsx", [header, [1, "路灯", "社会事务科", "张伟", None, "=TODAY()+30"]])
    refused = call("--db", sqlite_url, "--as", PRINCIPAL, "import", str(raw), "--campaign", "另一批")
    assert refused.code == 2 and refused.err.count("\n") == 1
    assert "cell F2 holds a formula that was never calculated" in refused.err and "Excel or WPS" in refused.err
    assert len(tasks(sqlite_app)) == 2  # nothing written


def test_show_gives_the_target_the_dates_and_the_ledgers_own_columns(call, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What the ledger said is read back where people look: `show`, in text and JSON."""
    ledger = write_csv(tmp_path / "台账.csv", HISTORY)
    assert call("--db", sqlite_url, "--as", PRINCIPAL, "import", str(ledger), "--campaign", CAMPAIGN).code == 0
    shown = call("--db", sqlite_url, "show", "ZG-2026-0001", "--json").json()
    assert shown["target"] == "全部亮灯" and shown["assigned_on"] == "2026-03-02" and shown["closed_on"] == "2026-03-06"
    assert shown["ledger_columns"] == [["备注", "市委巡察反馈"], ["督办人", "黄涛"]]
    text = call("--db", sqlite_url, "--lang", "zh", "show", "ZG-2026-0001").out
    assert "整改目标" in text and "全部亮灯" in text and "市委巡察反馈" in text and "交办日期" in text
