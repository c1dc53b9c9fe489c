"""Ledgers in and out (issue 5): import XLSX/CSV all-or-nothing, export safe to open, round trip.

The fixture files are in tests/fixtures/ledger/ (written by make_fixtures.py there);
workbooks are built per test with openpyxl.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from duban.engine.app import App
from duban.engine.domain.errors import BadFile, NotPermitted
from duban.engine.domain.machine import replay
from duban.engine.ledger.cells import numbered, split_measures, split_units
from duban.engine.ledger.headers import Vocabulary
from duban.engine.ledger.rows import LedgerInvalid
from duban.engine.ledger.status import StatusVocabulary
from duban.engine.persistence.models import Event, Task
from duban.engine.services.co_units import co_unit_step
from duban.engine.services.ledger_export import ExportFilter, export_ledger
from duban.engine.services.ledger_import import ImportOptions, import_ledger
from duban.engine.services.queries import show_task
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, ROOT, UNIT, UNIT_HEAD
from tests.fixtures.ledger import make_fixtures as fx
from tests.helpers import check_history, connection_of, new_task, orm_session_of, snapshot, to_submitted

FIX = Path(fx.__file__).parent
CAMPAIGN = fx.CAMPAIGN
ADMIN = "zhouqiang"


def opts(**kw: Any) -> ImportOptions:
    kw.setdefault("campaign", CAMPAIGN)
    return ImportOptions(**kw)


def tasks_of(app: App) -> list[dict[str, Any]]:
    """The tasks as a round trip must keep them, in order."""
    with app.db.engine.connect() as conn:
        codes = list(conn.execute(select(Task.code).order_by(Task.id)).scalars())
    out = []
    for code in codes:
        d = show_task(app, code)
        s = d.summary
        out.append(
            {
                "title": s.title,
                "problem": d.problem,
                "measures": d.measures,
                "unit": s.unit,
                "leader": s.leader,
                "deadline": s.deadline,
                "ongoing": s.deadline is None and (s.deadline_expr or "") == "长期坚持",
                "category": s.category,
                "campaign": s.campaign,
                "priority": s.priority,
                "state": s.state,
                "co_units": sorted(d.co_units),
                "person": d.responsible_person,
                "fields": d.fields,
            }
        )
    return out


def verify_chains(app: App) -> None:
    """The audit chains hold over imported events exactly as over fired ones (engine/domain/audit.py)."""
    from duban.engine.domain.audit import EventFacts, StoredEvent, verify_tasks

    with app.uow(write=False) as uow:
        rows = orm_session_of(uow).execute(select(Task.code, Event).join(Task, Task.id == Event.task_id)).all()
        head = connection_of(uow).execute(text("SELECT seq, hash FROM chain_head")).one()
    stored = [
        StoredEvent(
            EventFacts(
                code,
                e.seq,
                e.trigger,
                e.from_state,
                e.to_state,
                e.actor_id,
                e.operator_id,
                e.comment,
                e.at,
                e.data,
                e.deadline,
                account=e.account,
                row=e.row_facts,
            ),
            e.hash,
            e.chain_seq,
            e.chain_hash,
        )
        for code, e in rows
    ]
    assert verify_tasks(sorted(stored, key=lambda s: (s.facts.task, s.facts.seq))) == []
    # The chain also holds the organisation's records: the whole of it is checked by audit verify.
    from duban.engine.services.audit import verify

    verdict = verify(app)
    assert verdict.ok, verdict.breaks
    assert head.seq >= max(s.chain_seq for s in stored)


@pytest.fixture
def empty_db(tmp_path: Path, sqlite_template: Path) -> str:
    """A second database with the organisation and no tasks: where a round trip lands."""
    target = tmp_path / "empty.db"
    shutil.copy(sqlite_template, target)
    return str(target)


# --- the domain pieces, without a database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "measures"),
    [
        ("1.排查\n2.维修\n3.验收", ["排查", "维修", "验收"]),
        ("1. 投入资金3.5万元 2. 排查2处隐患；3、验收", ["投入资金3.5万元", "排查2处隐患", "验收"]),
        ("（1）排查（2）维修(3)验收", ["排查", "维修", "验收"]),
        ("①排查；②维修；③验收", ["排查", "维修", "验收"]),
        ("一是摸清底数；二是建立档案", ["摸清底数", "建立档案"]),
        ("全面排查\n限期维修", ["全面排查", "限期维修"]),
        ("一次性解决到位", ["一次性解决到位"]),
        ("1.对2.3号楼进行维修", ["对2.3号楼进行维修"]),
        ("", []),
    ],
)
def test_numbered_measures_in_one_cell(cell: str, measures: list[str]) -> None:
    assert split_measures(cell) == measures


def test_measures_written_back_read_the_same() -> None:
    measures = ["排查", "维修\n第二行", "3.5万元到位"]
    assert split_measures(numbered(measures)) == measures
    assert split_units("阳光社区党支部、和平社区党支部，社会事务科") == [
        "阳光社区党支部",
        "和平社区党支部",
        "社会事务科",
    ]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("存在问题", "problem"),
        ("问题\n描述", "problem"),
        ("*反馈问题：", "problem"),
        ("整改举措", "measures"),
        ("分管领导", "leader"),
        ("责任单位（部门）", "unit"),
        ("牵头单位", "unit"),
        ("整改\n时限", "deadline"),
        ("整改期限", "deadline"),
        ("完成情况", "status"),
        ("整改结果", "status"),
        ("类别", "category"),
        ("Responsible unit", "unit"),
        ("Lead leader", "leader"),
        ("NO.", "seq"),
        ("备注", None),
    ],
)
def test_header_variants(header: str, field: str | None) -> None:
    assert Vocabulary().field_of(header) == field


def test_status_vocabulary_and_notes() -> None:
    from duban.engine.domain.registry import WorkflowRegistry

    spec = WorkflowRegistry.from_dirs().spec("rectification")
    vocab = StatusVocabulary.for_states([(k, s.label) for k, s in spec.states.items()])
    for word, state in fx.STATUSES:
        read = vocab.read(word)
        assert read is not None and read[0] == state, word
    assert vocab.read("正在整改，已完成排查60%") == ("in_progress", "正在整改", "已完成排查60%")
    assert vocab.read("已审核")[0] == "reviewed"  # type: ignore[index] - a state's own label (an export)
    assert vocab.read("in progress: note")[0] == "in_progress"  # type: ignore[index]
    for unknown in ("未完成", "已完成80%", "暂缓"):
        assert vocab.read(unknown) is None
    assert vocab.leading_word("未完成，等待资金") == "未完成"


def test_replay_accepts_an_imported_history() -> None:
    from duban.engine.domain.registry import WorkflowRegistry

    spec = WorkflowRegistry.from_dirs().spec("rectification")
    assert replay(spec, [("import", None, "closed")]) == "closed"
    assert replay(spec, [("import", None, "submitted"), ("approve", "submitted", "reviewed")]) == "reviewed"
    with pytest.raises(ValueError, match="not a state"):
        replay(spec, [("import", None, "finished")])
    with pytest.raises(ValueError, match="not in workflow"):
        replay(spec, [("assign", None, "assigned"), ("import", "assigned", "closed")])


def test_committed_fixtures_are_what_the_generator_writes(tmp_path: Path) -> None:
    fx.write_text_fixtures(tmp_path)
    for name in fx.TEXT_FILES:
        assert (tmp_path / name).read_bytes() == (FIX / name).read_bytes(), name


def test_the_ledger_package_needs_no_database_or_cli() -> None:
    code = (
        "import sys\nimport duban.engine.ledger.cells, duban.engine.ledger.headers, duban.engine.ledger.rows, duban.engine.ledger.status, "
        "duban.engine.ledger.reader, duban.engine.ledger.writer\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {'click', 'sqlalchemy', 'psycopg', 'rich'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


# --- import: the good files, on both databases -------------------------------------------------------


def test_csv_utf8_bom_with_every_deadline_and_status(app: App) -> None:
    result = import_ledger(app, PRINCIPAL, FIX / "good-utf8-bom.csv", opts())
    assert (result.header_row, result.rows, result.imported, result.encoding) == (3, 13, 13, "utf-8-sig")
    rows = tasks_of(app)
    assert [r["state"] for r in rows] == [s for _w, s in fx.STATUSES]
    assert [r["deadline"].isoformat() if r["deadline"] else None for r in rows] == [d for _e, d in fx.DEADLINES]
    assert rows[9]["ongoing"] and rows[11]["deadline"] is None and not rows[11]["ongoing"]  # 长期坚持 / none given
    assert rows[0]["measures"] == ["全面排查第1项问题，建立清单", "限期整改，投入资金3.5万元", "建立长效机制"]
    assert rows[1]["measures"] == ["摸清底数", "逐户走访，第2批完成"]
    assert rows[0]["title"] == "问题1：部分小区路灯损坏、夜间照明不足"
    assert rows[1]["leader"] == "lihong" and rows[3]["leader"] == "zhangwei"  # by name or by id
    assert rows[1]["co_units"] == sorted(["东城社区党支部", "综合办公室"]) and rows[1]["person"] == "xuming"
    detail = show_task(app, "ZG-2026-0013")
    first = detail.events[0]
    assert (first.trigger, first.source, first.dest, first.actor) == ("import", None, "in_progress", PRINCIPAL)
    assert first.data == {
        "file": "good-utf8-bom.csv",
        "sheet": "",
        "row": 16,
        "status": "正在整改",
        "note": "已完成排查60%",
    }
    assert len(detail.events) == 1 and detail.summary.version == 1
    check_history(app)  # every imported history replays to its state
    verify_chains(app)


def test_gb18030_csv(sqlite_app: App) -> None:
    result = import_ledger(sqlite_app, PRINCIPAL, FIX / "good-gb18030.csv", opts())
    assert result.encoding == "gb18030" and result.imported == 3
    rows = tasks_of(sqlite_app)
    assert [r["state"] for r in rows] == ["in_progress", "closed", "assigned"]
    assert rows[0]["measures"] == ["开展培训", "建立评价制度"] and rows[1]["measures"] == ["统一模板", "专人归档"]
    assert rows[0]["category"] == "作风问题" and rows[2]["title"] == "“三务公开”更新不及时"


def test_xlsx_with_title_rows_merged_cells_sections_and_multiline_measures(sqlite_app: App, tmp_path: Path) -> None:
    book = fx.build_workbook(tmp_path / "台账.xlsx")
    result = import_ledger(sqlite_app, PRINCIPAL, book, opts())
    assert (result.sheet, result.header_row, result.imported) == ("台账", 3, 5)
    assert result.ignored_columns == ["备注"]
    rows = tasks_of(sqlite_app)
    # 责任单位 and 责任领导 merged over rows 5–7 reach every row they cover
    assert [r["unit"] for r in rows] == ["社会事务科"] * 3 + ["党建办公室"] * 2
    assert [r["leader"] for r in rows] == [DEPUTY] * 3 + [PRINCIPAL] * 2
    # numbering restarts in each section; the section heading is the category
    assert [r["category"] for r in rows] == ["民生问题"] * 3 + ["领导班子问题"] * 2
    assert rows[0]["measures"] == ["全面排查", "限期维修", "建立巡查机制"]
    assert rows[4]["measures"] == ["会前谈心谈话", "会后制定整改清单"]
    assert rows[0]["deadline"] == date(2026, 10, 9)  # a date cell
    assert rows[0]["co_units"] == sorted(["阳光社区党支部", "和平社区党支部"])
    assert [r["state"] for r in rows] == ["in_progress", "in_progress", "closed", "submitted", "assigned"]
    assert show_task(sqlite_app, "ZG-2026-0001").events[0].data == {
        "file": "台账.xlsx",
        "sheet": "台账",
        "row": 5,
        "status": "正在整改",
        "note": "已排查完毕",
    }
    other = import_ledger(sqlite_app, PRINCIPAL, book, opts(sheet="专项整治"))
    assert other.imported == 1 and tasks_of(sqlite_app)[5]["unit"] == "综合办公室"
    with pytest.raises(BadFile, match="no sheet named '附表' \\(sheets: 台账, 专项整治\\)"):
        import_ledger(sqlite_app, PRINCIPAL, book, opts(sheet="附表"))
    check_history(sqlite_app)


def test_imported_tasks_are_watched_like_assigned_ones(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    import_ledger(app, PRINCIPAL, FIX / "good-utf8-bom.csv", opts())
    with app.db.engine.connect() as conn:
        rows = {
            r.code: r
            for r in conn.execute(
                select(Task.code, Task.state, Task.next_action_at, Task.clock_stopped_at, Task.source_key)
            )
        }
    closed, submitted, started = rows["ZG-2026-0001"], rows["ZG-2026-0005"], rows["ZG-2026-0006"]
    assert closed.next_action_at is None and closed.clock_stopped_at is not None
    assert submitted.next_action_at is None and submitted.clock_stopped_at is not None
    assert started.next_action_at is not None and started.clock_stopped_at is None
    assert len({r.source_key for r in rows.values()}) == 13
    clock.advance(timedelta(days=60))  # past most deadlines: the sweep chases the open imported tasks
    assert sweep(app).escalations > 0
    report_progress(app, "liuxia", "ZG-2026-0013", ProgressInput(80, "继续推进"))  # imported tasks move on as usual
    for co_unit_head in ("songjie", "xuming"):  # its co-units (配合单位) report on their parts before it is submitted
        co_unit_step(app, co_unit_head, "ZG-2026-0013", "report", None, "已配合")
    fire(app, "liuxia", "ZG-2026-0013", "submit")
    check_history(app)
    verify_chains(app)


# --- all or nothing -------------------------------------------------------------------------------------


BAD_REPORT = [
    ("row 3, 问题", "the problem is missing"),
    ("row 4, 责任单位", "no unit '社会事物科' in the organisation (did you mean 社会事务科?)"),
    ("row 5, 整改时限", "cannot read '下个月吧'"),
    ("row 6, 整改进展", "unknown status '未完成'"),
    ("row 7, 序号", "No. 1 appears twice (also in row 2)"),
    ("row 8, 责任领导", "no person '张三丰' in the organisation"),
    ("row 9, 责任领导", "冯磊 (fenglei) does not have the leader role"),
]


def test_every_bad_row_is_reported_at_once_and_nothing_is_written(call, sqlite_url: str, sqlite_app: App) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(sqlite_app)
    result = call("--db", sqlite_url, "--as", PRINCIPAL, "import", str(FIX / "bad-rows.csv"), "--campaign", CAMPAIGN)
    assert result.code == 2 and result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == len(BAD_REPORT) + 1
    for line, (where, why) in zip(lines, BAD_REPORT, strict=False):
        assert line.startswith(f"bad-rows.csv: {where}: ") and why in line, line
    assert lines[-1].startswith("duban: error: bad-rows.csv: 7 row(s) invalid (7 problem(s)); nothing was imported")
    assert snapshot(sqlite_app) == before
    zh = call("--db", sqlite_url, "--lang", "zh", "--as", PRINCIPAL, "import", str(FIX / "bad-rows.csv"))
    assert "bad-rows.csv 第 6 行“整改进展”：无法识别的整改状态“未完成”" in zh.err
    assert "组织中没有单位“社会事物科”（是否为 社会事务科？）" in zh.err
    assert zh.err.splitlines()[-1].startswith("duban：错误：bad-rows.csv：7 行有误")


def test_skip_invalid_imports_the_rest_and_writes_the_rejects(
    call, sqlite_url: str, sqlite_app: App, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rejects = tmp_path / "rejects.csv"
    result = call(
        "--db",
        sqlite_url,
        "--as",
        PRINCIPAL,
        "--json",
        "import",
        str(FIX / "bad-rows.csv"),
        "--skip-invalid",
        str(rejects),
    )
    assert result.code == 0, result.err
    out = result.json()
    assert (out["imported"], out["rejected"], out["rows"]) == (2, 7, 9)
    assert out["errors"][0] == {
        "row": 3,
        "column": "问题",
        "reason": {"zh": "缺少问题描述", "en": "the problem is missing"},
    }
    written = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert written[0] == "序号,问题,整改措施,责任领导,责任单位,整改时限,整改进展,Source row,Reason"
    assert len(written) == 8 and written[2].startswith("3,针对垃圾清运不及时的问题,清运,张伟,社会事物科,")
    assert "did you mean 社会事务科" in written[2] and ",4," in written[2]
    assert [t["state"] for t in tasks_of(sqlite_app)] == ["in_progress", "closed"]
    # fix the rejected rows in the rejects file and import it: they come in, the good ones are not doubled
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        rejects.read_text(encoding="utf-8-sig")
        .replace("社会事物科", "社会事务科")
        .replace("下个月吧", "2026-12-31")
        .replace("未完成", "整改中")
        .replace("张三丰", "张伟")
        .replace(",冯磊,", ",陈静,")
        .replace("2,,维修", "2,针对缺漏的问题,维修")
        .replace("\n1,针对路灯损坏的又一问题", "\n9,针对路灯损坏的又一问题"),
        encoding="utf-8",
    )
    again = call("--db", sqlite_url, "--as", PRINCIPAL, "--json", "import", str(fixed))
    assert again.code == 0, again.err
    assert again.json()["imported"] == 7 and len(tasks_of(sqlite_app)) == 9
    check_history(sqlite_app)


def test_dry_run_writes_nothing(call, sqlite_url: str, sqlite_app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(sqlite_app)
    rejects = tmp_path / "rejects.csv"
    result = call(
        "--db",
        sqlite_url,
        "--as",
        PRINCIPAL,
        "import",
        str(FIX / "good-utf8-bom.csv"),
        "--dry-run",
        "--campaign",
        CAMPAIGN,
    )
    assert result.code == 0, result.err
    assert result.out.startswith(
        "dry run, nothing written: good-utf8-bom.csv, header in row 3, 13 rows; would import 13"
    )
    skipping = call(
        "--db",
        sqlite_url,
        "--as",
        PRINCIPAL,
        "--json",
        "import",
        str(FIX / "bad-rows.csv"),
        "--dry-run",
        "--skip-invalid",
        str(rejects),
    )
    assert skipping.code == 0 and skipping.json()["imported"] == 2 and skipping.json()["rejected"] == 7
    units = call(
        "--db",
        sqlite_url,
        "--as",
        PRINCIPAL,
        "import",
        str(FIX / "unusual-headers.csv"),
        "--dry-run",
        "--mapping",
        str(FIX / "mapping.yaml"),
        "--create-units",
    )
    assert units.code == 0 and "would create units: 应急管理站" in units.out
    assert snapshot(sqlite_app) == before and not rejects.exists()


def test_importing_the_same_file_again_adds_nothing(app: App, tmp_path: Path) -> None:
    book = fx.build_workbook(tmp_path / "台账.xlsx")
    assert import_ledger(app, PRINCIPAL, book, opts()).imported == 5
    before = snapshot(app)
    again = import_ledger(app, PRINCIPAL, book, opts())
    assert (again.imported, again.existing) == (0, 5)
    assert snapshot(app) == before
    # the same rows saved again under another file name, within the same campaign, are the same rows
    copy = tmp_path / "台账-副本.xlsx"
    shutil.copy(book, copy)
    assert import_ledger(app, PRINCIPAL, copy, opts()).existing == 5
    # another campaign is another ledger
    assert import_ledger(app, PRINCIPAL, book, opts(campaign="2027年巡察整改")).imported == 5


def test_a_row_key_taken_by_another_problem_is_an_error(sqlite_app: App, tmp_path: Path) -> None:
    import_ledger(sqlite_app, PRINCIPAL, FIX / "good-gb18030.csv", opts())
    changed = tmp_path / "good-gb18030.csv"
    changed.write_bytes(
        (FIX / "good-gb18030.csv")
        .read_bytes()
        .replace("窗口服务态度生硬".encode("gb18030"), "窗口服务效率低".encode("gb18030"))
    )
    with pytest.raises(LedgerInvalid) as info:
        import_ledger(sqlite_app, PRINCIPAL, changed, opts())
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "序号")]
    assert "imported before as ZG-2026-0001 with a different problem" in info.value.errors[0].reason.en


def test_create_units_and_mapping(call, sqlite_url: str, sqlite_app: App) -> None:  # type: ignore[no-untyped-def]
    args = (
        "--db",
        sqlite_url,
        "--as",
        ADMIN,
        "import",
        str(FIX / "unusual-headers.csv"),
        "--mapping",
        str(FIX / "mapping.yaml"),
    )
    refused = call(*args)
    assert refused.code == 2 and "主责单位: no unit '应急管理站'" in refused.err
    made = call(*args, "--create-units")
    assert made.code == 0, made.err
    assert "imported 2 task(s)" in made.out and "created units: 应急管理站" in made.out
    rows = tasks_of(sqlite_app)
    assert [r["unit"] for r in rows] == ["和平社区第一网格", "应急管理站"]
    assert rows[0]["measures"] == ["补充网格员", "开展培训"] and rows[1]["state"] == "assigned"
    assert call(*args, "--create-units").out.startswith("imported 0 task(s)")  # keys from the mapped 编码 column
    # leaders are never created
    bad = FIX / "bad-rows.csv"
    result = call("--db", sqlite_url, "--as", PRINCIPAL, "import", str(bad), "--create-units")
    assert "no person '张三丰'" in result.err
    # a typo of a unit there is never becomes a new unit: the error names the unit meant
    assert "will not create unit '社会事物科': the organisation has 社会事务科" in result.err


def test_who_may_import(sqlite_app: App) -> None:
    with pytest.raises(NotPermitted, match="may not import a ledger"):
        import_ledger(sqlite_app, UNIT_HEAD, FIX / "good-gb18030.csv", opts())
    assert import_ledger(sqlite_app, ADMIN, FIX / "good-gb18030.csv", opts()).imported == 3


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Excel .xls workbook"),
        ("junk.csv", "序号,问题\n1,路灯\n".encode() + b"\xff\xfe\xff", "not text in UTF-8 or GB18030"),
        ("empty.csv", b"", "the sheet is empty"),
        ("notes.csv", "会议纪要\n今天开会\n".encode(), "no header row"),
        ("half.csv", "序号,问题,责任单位\n1,路灯,社会事务科\n".encode(), "no column for 责任领导"),
        ("twice.csv", "问题,存在问题,责任单位,责任领导\n".encode(), "columns '问题' and '存在问题' both read as 问题"),
        ("ledger.pdf", b"%PDF-1.4", "not a ledger format"),
    ],
)
def test_unreadable_files_are_named(
    call, sqlite_url: str, tmp_path: Path, name: str, content: bytes, phrase: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(content)
    result = call("--db", sqlite_url, "--as", PRINCIPAL, "import", str(path))
    assert result.code == 2 and phrase in result.err, result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_a_truncated_workbook(call, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    book = fx.build_workbook(tmp_path / "full.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(book[: len(book) // 2])
    result = call("--db", sqlite_url, "--as", PRINCIPAL, "import", str(cut))
    assert result.code == 2 and "cut.xlsx: is not a readable Excel workbook" in result.err


# --- export ------------------------------------------------------------------------------------------------


def _sheet(path: Path) -> list[list[Any]]:
    wb = load_workbook(path)
    ws = wb.active
    assert ws is not None
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_export_is_formatted_and_in_the_chosen_language(call, sqlite_url: str, sqlite_app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_ledger(sqlite_app, PRINCIPAL, FIX / "good-utf8-bom.csv", opts())
    out = tmp_path / "台账.xlsx"
    result = call(
        "--db",
        sqlite_url,
        "--lang",
        "zh",
        "--json",
        "export",
        "-o",
        str(out),
        "--state",
        "in_progress",
        "--state",
        "assigned",
    )
    assert result.code == 0, result.err
    assert result.json() == {"file": str(out), "format": "xlsx", "rows": 8, "as_of": None}
    wb = load_workbook(out)
    ws = wb.active
    assert ws is not None and ws.freeze_panes == "A2" and ws.title == "整改台账"
    header = [c.value for c in ws[1]]
    assert header[:16] == [
        "序号",
        "问题",
        "整改措施",
        "责任领导",
        "责任单位",
        "配合单位",
        "责任人",
        "整改时限",
        "整改进展",
        "问题类别",
        "编号",
        "状态",
        "灯",
        "逾期天数",
        "最新进展",
        "销号日期",
    ]
    assert ws.column_dimensions["C"].width == 50 and ws["C2"].alignment.wrap_text
    first = {h: c.value for h, c in zip(header, ws[2], strict=True)}
    assert first["整改措施"] == "1. 摸清底数\n2. 逐户走访，第6批完成" and first["状态"] == "整改中"
    assert first["编号"] == "ZG-2026-0006" and first["序号"] == 1 and first["整改时限"] == "第四季度末"
    assert first["完成时限(日期)"].date() == date(2026, 12, 31)  # the date in its own column
    late = tmp_path / "late.csv"
    late.write_text(
        "序号,问题,责任单位,责任领导,整改时限,整改进展\n1,针对迟了的问题,社会事务科,张伟,2026-08-31,整改中\n",
        encoding="utf-8",
    )
    import_ledger(sqlite_app, PRINCIPAL, late, opts())
    call("--db", sqlite_url, "--lang", "zh", "export", "-o", str(out))
    ws = load_workbook(out).active
    assert ws is not None
    red = [r for r in ws.iter_rows(min_row=2) if r[12].value == "红"]
    assert len(red) == 1 and red[0][13].value == 5  # five working days overdue
    assert red and all(c.fill.fgColor.rgb.endswith("FFC7CE") for c in red[0])
    english = call("--db", sqlite_url, "--lang", "en", "export", "-o", str(tmp_path / "l.csv"), "--unit", "社会事务科")
    assert english.code == 0 and english.out.startswith("exported 3 task(s) to")
    lines = (tmp_path / "l.csv").read_bytes()
    assert lines.startswith(b"\xef\xbb\xbfNo.,Problem,Measures,Lead leader,Responsible unit,")


def test_formula_cells_are_neutralised(sqlite_app: App, tmp_path: Path, empty_db: str, make_app) -> None:  # type: ignore[no-untyped-def]
    new_task(
        sqlite_app,
        title='=HYPERLINK("http://evil.example","点我")',
        problem="=1+1",
        measures=["+SUM(1,2)", "@cmd"],
        category="-2+3",
    )
    new_task(sqlite_app, title="@SUM(A1)", problem="\t=cmd|' /C calc'!A0")
    xlsx, csv_file = tmp_path / "x.xlsx", tmp_path / "x.csv"
    export_ledger(sqlite_app, xlsx, ExportFilter())
    export_ledger(sqlite_app, csv_file, ExportFilter())
    with zipfile.ZipFile(xlsx) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere
    wb = load_workbook(xlsx)
    ws = wb.active
    assert ws is not None
    assert ws["B2"].value == "=1+1" and ws["B2"].data_type == "s" and ws["B2"].quotePrefix
    assert ws["J2"].value == "-2+3" and ws["J2"].data_type == "s"
    text_ = csv_file.read_text(encoding="utf-8-sig")
    assert ",'=1+1," in text_ and ",'-2+3," in text_ and "'=cmd|' /C calc'!A0" in text_
    # the apostrophe is the export's, not the task's: importing the CSV gives the text back
    target = make_app(empty_db)
    import_ledger(target, PRINCIPAL, csv_file, opts())
    assert [t["problem"] for t in tasks_of(target)] == ["=1+1", "=cmd|' /C calc'!A0"]
    assert tasks_of(target)[0]["category"] == "-2+3"


def test_round_trip_through_an_export_gives_the_same_tasks(
    app: App, clock, tmp_path: Path, empty_db: str, make_app
) -> None:  # type: ignore[no-untyped-def]
    import_ledger(app, PRINCIPAL, FIX / "good-utf8-bom.csv", opts())
    import_ledger(app, PRINCIPAL, FIX / "good-gb18030.csv", opts())
    made = new_task(
        app, co_units=["阳光社区党支部"], responsible_person="冯磊", priority="高", problem="针对路灯损坏的问题"
    )
    co_unit_step(app, "liuxia", made, "report", None, "已配合")  # 配合单位 report before the lead submits
    to_submitted(app, made)
    fire(app, DEPUTY, made, "approve")
    started = new_task(app, deadline="长期坚持", measures=[])
    fire(app, UNIT_HEAD, started, "start")
    report_progress(app, UNIT_HEAD, started, ProgressInput(30, "已完成摸排"))
    for fmt in ("xlsx", "csv"):
        path = tmp_path / f"ledger.{fmt}"
        assert export_ledger(app, path, ExportFilter(lang="zh" if fmt == "xlsx" else "en")).rows == 18
        fresh = tmp_path / f"empty-{fmt}.db"
        shutil.copy(empty_db, fresh)
        target = make_app(str(fresh))
        result = import_ledger(target, PRINCIPAL, path, opts(campaign=None))
        assert result.imported == 18, fmt
        assert tasks_of(target) == tasks_of(app), fmt
        assert show_task(target, result.codes[-1]).events[0].data["note"] == "已完成摸排"  # type: ignore[index]
        check_history(target)
        verify_chains(target)
    # an export imported back into its own database adds nothing: the tasks are there already
    again = import_ledger(app, PRINCIPAL, tmp_path / "ledger.xlsx", opts(campaign=None))
    assert (again.imported, again.existing) == (0, 18)
    verify_chains(app)  # imported and fired events, interleaved, in one chain


def test_export_as_of_gives_past_states(sqlite_app: App, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = new_task(sqlite_app)  # Monday 2026-09-07
    clock.advance(timedelta(days=1))
    fire(sqlite_app, UNIT_HEAD, code, "start")
    clock.advance(timedelta(days=1))
    report_progress(sqlite_app, UNIT_HEAD, code, ProgressInput(100, "已完成"))
    fire(sqlite_app, UNIT_HEAD, code, "submit")
    fire(sqlite_app, DEPUTY, code, "approve")
    fire(sqlite_app, DEPUTY, code, "close")
    clock.advance(timedelta(days=1))
    later = new_task(sqlite_app)
    assert later

    def states(as_of: date | None) -> list[tuple[Any, ...]]:
        path = tmp_path / f"{as_of}.xlsx"
        export_ledger(sqlite_app, path, ExportFilter(as_of=as_of, lang="en"))
        rows = _sheet(path)
        col = {h: i for i, h in enumerate(rows[0])}
        return [(r[col["Code"]], r[col["State"]], r[col["Last progress note"]], r[col["Closed on"]]) for r in rows[1:]]

    assert states(date(2026, 9, 6)) == []
    assert states(date(2026, 9, 7)) == [(code, "assigned", None, None)]
    assert states(date(2026, 9, 8)) == [(code, "in progress", None, None)]
    closed_day = states(date(2026, 9, 9))
    assert closed_day[0][:3] == (code, "closed", "已完成") and closed_day[0][3].date() == date(2026, 9, 9)
    assert [s[1] for s in states(None)] == ["closed", "assigned"]


def test_imported_closed_tasks_keep_their_closing_date(
    sqlite_app: App, tmp_path: Path, empty_db: str, make_app
) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "closed.csv"
    src.write_text(
        "序号,问题,责任单位,责任领导,整改进展,销号日期\n1,针对窗口问题,社会事务科,张伟,已销号,2026年3月15日\n",
        encoding="utf-8",
    )
    import_ledger(sqlite_app, PRINCIPAL, src, opts())
    out = tmp_path / "out.csv"
    export_ledger(sqlite_app, out, ExportFilter())
    assert ",2026-03-15," in out.read_text(encoding="utf-8-sig")


def test_progress_is_reported_to_the_caller(sqlite_app: App, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    import_ledger(sqlite_app, PRINCIPAL, FIX / "good-utf8-bom.csv", opts(progress=lambda *a: seen.append(a)))
    assert seen[0][0] == "read" and seen[0][1] == seen[0][2] and seen[-1] == ("write", 13, 13)


def test_import_events_are_in_the_history_on_both_databases(app: App) -> None:
    import_ledger(app, PRINCIPAL, FIX / "good-gb18030.csv", opts())
    with app.db.engine.connect() as conn:
        events = conn.execute(select(Event.trigger, Event.seq, Event.from_state, Event.to_state, Event.deadline)).all()
    assert {(e.trigger, e.seq, e.from_state) for e in events} == {("import", 1, None)}
    assert sorted(e.deadline for e in events if e.deadline) == [
        date(2026, 9, 14),
        date(2026, 12, 31),
        date(2026, 12, 31),
    ]
    assert sorted(e.to_state for e in events) == ["assigned", "closed", "in_progress"]


def test_assistance_ledgers_carry_their_fields(sqlite_app: App, tmp_path: Path, empty_db: str, make_app) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "帮扶台账.csv"
    src.write_text(
        "序号,问题,整改措施,责任单位,责任领导,整改时限,帮扶户,户数,人数,帮扶措施\n"
        "1,脱贫监测户一户一策,落实护林员岗位,东城社区党支部,陈静,年底前,东城社区3组 何某某户,1,4,生态护林员、教育帮扶\n"
        "2,低保边缘户帮扶,申请低保,东城社区党支部,陈静,年底前,,1,三,低保兜底\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerInvalid) as info:
        import_ledger(sqlite_app, PRINCIPAL, src, opts(workflow="assistance"))
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "人数"), (3, "帮扶户")]
    assert "'三' is not a whole number" in info.value.errors[0].reason.en
    src.write_text(src.read_text(encoding="utf-8").replace(",,1,三,", ",东城社区5组 林某某户,1,3,"), encoding="utf-8")
    result = import_ledger(sqlite_app, PRINCIPAL, src, opts(workflow="assistance"))
    assert result.codes[0] == "BF-2026-0001" and len(result.codes) == 2
    first = tasks_of(sqlite_app)[0]
    assert first["fields"] == {
        "household": "东城社区3组 何某某户",
        "households": 1,
        "people": 4,
        "assistance_measures": ["生态护林员", "教育帮扶"],
    }
    out = tmp_path / "out.xlsx"
    export_ledger(sqlite_app, out, ExportFilter(workflow="assistance"))
    target = make_app(empty_db)
    import_ledger(target, PRINCIPAL, out, opts(workflow="assistance", campaign=None))
    assert tasks_of(target) == tasks_of(sqlite_app)


def test_read_ledger_checks_without_writing(sqlite_app: App) -> None:
    from duban.engine.services.ledger_import import read_ledger

    before = snapshot(sqlite_app)
    rows = read_ledger(sqlite_app, FIX / "good-gb18030.csv", opts())
    assert [(r.unit, r.leader_id, r.measures) for r in rows][0] == ("社会事务科", DEPUTY, ["开展培训", "建立评价制度"])
    assert snapshot(sqlite_app) == before
    with pytest.raises(LedgerInvalid):
        read_ledger(sqlite_app, FIX / "bad-rows.csv", opts())


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("反馈问题: 问题描述呀\n", "'问题描述呀' is not a field"),
        ("- 1\n", "expected a mapping of ledger headers to fields"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_mapping_files(sqlite_app: App, tmp_path: Path, text: str, phrase: str) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(BadFile, match=phrase):
        import_ledger(sqlite_app, PRINCIPAL, FIX / "good-gb18030.csv", opts(mapping=mapping))


def test_a_mapping_as_csv(sqlite_app: App, tmp_path: Path) -> None:
    mapping = tmp_path / "m.csv"
    mapping.write_text(
        "表头,字段\n编码,seq\n反馈问题内容,problem\n具体举措,measures\n包联领导,leader\n主责单位,unit\n"
        "时间节点,deadline\n推进情况,status\n备注,\n",
        encoding="utf-8",
    )
    result = import_ledger(sqlite_app, PRINCIPAL, FIX / "unusual-headers.csv", opts(mapping=mapping, create_units=True))
    assert result.imported == 2 and result.ignored_columns == []


def test_rejects_file_must_be_a_csv_beside_an_existing_folder(sqlite_app: App, tmp_path: Path) -> None:
    for target, phrase in [
        (tmp_path / "r.xlsx", "ending in .csv"),
        (tmp_path / "nowhere" / "r.csv", "no folder"),
        (FIX / "bad-rows.csv", "is the ledger being imported"),
    ]:
        with pytest.raises(BadFile, match=phrase):
            import_ledger(sqlite_app, PRINCIPAL, FIX / "bad-rows.csv", opts(skip_invalid=target))


def test_the_progress_bar_draws_on_a_terminal_only_for_big_files() -> None:
    import io

    from rich.console import Console

    from duban.cli.context import Ctx
    from duban.cli.ledger import _Bar
    from duban.engine.config.settings import Settings

    def drawn(calls: list[tuple[str, int, int | None]]) -> str:
        bar = _Bar(Ctx(settings=Settings(), lang="en"))
        buffer = io.StringIO()
        bar.console = Console(file=buffer, force_terminal=True, width=80)
        bar.enabled = True
        for call_ in calls:
            bar(*call_)
        bar.stop()
        return buffer.getvalue()

    assert drawn([("read", 300, 300), ("write", 12, 12)]) == ""  # a small file: no bar
    assert "writing" in drawn(
        [("read", 1000, 9000), ("read", 9000, 9000), ("write", 2000, 4000), ("write", 4000, 4000)]
    )


def test_units_by_name_or_id_and_leaders_by_name_or_id(sqlite_app: App, tmp_path: Path) -> None:
    with sqlite_app.uow(write=False) as uow:
        unit_id = uow.org.unit_ids()[UNIT]
    src = tmp_path / "ids.csv"
    src.write_text(f"问题,责任单位,责任领导\n针对甲问题,{unit_id},zhangwei\n针对乙问题,{UNIT},张伟\n", encoding="utf-8")
    import_ledger(sqlite_app, PRINCIPAL, src, opts())
    assert [(t["unit"], t["leader"]) for t in tasks_of(sqlite_app)] == [(UNIT, DEPUTY), (UNIT, DEPUTY)]


def test_a_workbook_whose_first_sheet_is_not_the_ledger(sqlite_app: App, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    notes = wb.active
    assert notes is not None
    notes.title = "填表说明"
    notes.append(["请按模板填写"])
    ledger = wb.create_sheet("台账")
    ledger.append(["序号", "问题", "责任单位", "责任领导"])
    ledger.append([1, "针对甲问题", UNIT, "张伟"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    with pytest.raises(BadFile, match="read sheet '填表说明'; the workbook has 填表说明, 台账: choose with --sheet"):
        import_ledger(sqlite_app, PRINCIPAL, path, opts())
    assert import_ledger(sqlite_app, PRINCIPAL, path, opts(sheet="台账")).imported == 1


def test_import_event_hashes_are_the_audit_chains_own() -> None:
    """The importer assembles each event's canonical text itself, for speed; it must be audit.canonical's."""
    from datetime import UTC, datetime

    from duban.engine.domain.audit import GENESIS, EventFacts, event_hash
    from duban.engine.domain.registry import WorkflowRegistry
    from duban.engine.persistence.importing import ImportEvents, ImportPlan

    spec = WorkflowRegistry.from_dirs().spec("rectification")
    for operator in (None, "zhouqiang"):
        plan = ImportPlan(
            spec.name,
            spec.version,
            "ZG",
            2026,
            PRINCIPAL,
            operator,
            "os:clerk",
            datetime(2026, 9, 7, 1, 0, 0, 5, tzinfo=UTC),
            '台账 "终稿".csv',
            "",
            {},
            lambda s, d: None,
            lambda s: True,
        )
        events = ImportEvents(plan)
        samples = [
            dict(status_word="已完成", note=None, closed_on=None, deadline=date(2026, 10, 9), state="closed"),
            dict(status_word=None, note=None, closed_on=None, deadline=None, state="assigned"),
            dict(status_word="正在整改", note='已完成"排查"\n60%', closed_on=None, deadline=None, state="in_progress"),
            dict(status_word="已销号", note=None, closed_on=date(2026, 3, 15), deadline=None, state="closed"),
            dict(
                status_word="未达到序时进度",
                note=None,
                closed_on=None,
                deadline=None,
                state="in_progress",
                assigned_on=date(2026, 3, 1),
                flags={"behind": True},
            ),
        ]
        for i, sample in enumerate(samples, 1):
            row = fx_row(i, **sample)
            compact, stored = events.data(row)
            facts_row = {"content": f"c{i}", "unit": 1, "leader": DEPUTY, "deadline": None, "deadline_version": 1}
            got = events.hash(f"ZG-2026-{i:04d}", row, compact, stored, facts_row)
            facts = EventFacts(
                f"ZG-2026-{i:04d}",
                1,
                "import",
                None,
                row.state,
                PRINCIPAL,
                operator,
                None,
                plan.now,
                json.loads(stored),
                row.deadline,
                account="os:clerk",
                row=facts_row,
            )
            assert got == event_hash(facts, GENESIS), sample
        assert events.fast is True


def fx_row(n: int, **kw: Any) -> Any:
    from duban.engine.ledger.rows import LedgerRow

    base: dict[str, Any] = dict(
        row=n,
        key=f"k{n}",
        title=None,
        problem="针对问题",
        measures_json="[]",
        category=None,
        campaign=None,
        unit=UNIT,
        co_units=(),
        leader_id=DEPUTY,
        person_id=None,
        deadline=None,
        deadline_expr=None,
        ongoing=False,
        priority=None,
        state="assigned",
        status_word=None,
        note=None,
        closed_on=None,
        fields=None,
        code=None,
    )
    base.update(kw)
    return LedgerRow(**base)
