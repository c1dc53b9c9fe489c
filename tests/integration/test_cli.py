"""The duban command end to end: some runs through the installed console script, the rest in-process
through the same entry point (``duban.cli.main.run``), which is what the console script calls."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from duban.engine.app import App
from duban.engine.config.settings import Settings
from tests.conftest import DEPUTY, ORG, PRINCIPAL, UNIT, UNIT_HEAD
from tests.helpers import new_task, snapshot

ENV = {**os.environ, "DUBAN_NOW": "2026-09-07T09:00", "LANG": "C.UTF-8", "DUBAN_USER": ""}


def duban(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("duban")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "duban.cli.main"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env or ENV, cwd=cwd, timeout=120)


def test_console_script_lifecycle(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    init = duban("--db", db, "init", "--single-desk", "--org", str(ORG))
    assert init.returncode == 0, init.stderr
    assert "people: 31 added" in init.stdout
    made = duban(
        "--db",
        db,
        "--as",
        PRINCIPAL,
        "--json",
        "assign",
        "--title",
        "路灯损坏",
        "--unit",
        UNIT,
        "--leader",
        "张伟",
        "--deadline",
        "2026-10-09",
        "--measure",
        "排查",
        "--measure",
        "维修",
        "--category",
        "民生问题",
        "--campaign",
        "2026年主题教育整改",
    )
    assert made.returncode == 0, made.stderr
    code = json.loads(made.stdout)["code"]
    assert code == "ZG-2026-0001"
    evidence = tmp_path / "照片.txt"
    evidence.write_text("整改前后对比", encoding="utf-8")
    for args in (
        ["--as", UNIT_HEAD, "start", code],
        ["--as", UNIT_HEAD, "progress", code, "--percent", "100", "--note", "已完成", "--attach", str(evidence)],
        ["--as", UNIT_HEAD, "submit", code],
        ["--as", DEPUTY, "approve", code, "--comment", "整改到位"],
        ["--as", DEPUTY, "close", code],
    ):
        step = duban("--db", db, *args)
        assert step.returncode == 0, (args, step.stderr)
    shown = duban("--db", db, "show", code, "--json")
    detail = json.loads(shown.stdout)
    assert {"code", "title", "state", "unit", "leader", "deadline", "events"} <= set(detail)
    assert detail["state"] == "closed" and detail["deadline"] == "2026-10-09"
    assert [e["trigger"] for e in detail["events"]] == ["assign", "start", "progress", "submit", "approve", "close"]
    assert set(detail["events"][0]) >= {"trigger", "from", "to", "actor", "at", "comment"}
    assert detail["events"][0]["at"] == "2026-09-07T09:00:00+08:00"
    assert detail["progress"][0]["evidence"][0]["name"] == "照片.txt"
    listed = json.loads(duban("--db", db, "list", "--json").stdout)
    assert listed[0]["code"] == code and {"code", "title", "state", "unit", "leader", "deadline"} <= set(listed[0])
    table = duban("--db", db, "--lang", "zh", "list")
    assert "已销号" in table.stdout and "共 1 项" in table.stdout


def test_demo_runs_from_the_console_script(tmp_path: Path, sqlite_template: Path) -> None:
    # An earlier demo's folder (marked as the demo's own) with a task of its own: the demo rebuilds it rather
    # than appending to it (one run of the demo proves both, instead of running it twice).
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / ".duban-demo").write_text("This folder is rebuilt by 'duban demo'.\n", encoding="utf-8")
    shutil.copy(sqlite_template, folder / "duban.db")
    earlier = App.build(Settings(database_url=str(folder / "duban.db")))
    try:
        new_task(earlier, title="上一次演示留下的任务")
    finally:
        earlier.close()
    result = duban("--lang", "zh", "demo", "--dir", str(folder))
    assert result.returncode == 0, result.stderr
    assert "各项任务现状" in result.stdout and "ZG-2026-0020" in result.stdout and "BF-2026-0001" in result.stdout
    for state in ("已销号", "已审核", "整改中", "已撤销"):
        assert state in result.stdout
    assert "考核评分排名" in result.stdout and "问责情况" in result.stdout and "WZ-2026-0001" in result.stdout
    records = json.loads(duban("--db", str(tmp_path / "demo" / "duban.db"), "accountability", "list", "--json").stdout)
    assert [(r["kind"], r["status"]) for r in records] == [("约谈", "open")]
    assert "红色督办单" in result.stdout and list((tmp_path / "demo").glob("红色督办单-*.docx"))
    shown = json.loads(duban("--db", str(tmp_path / "demo" / "duban.db"), "show", "ZG-2026-0003", "--json").stdout)
    assert {e["trigger"] for e in shown["events"]} >= {"assign", "start", "progress", "submit", "reject"}
    # 20 ledger rows, one assistance task and the task turned from the leader's instruction; and the two
    # sub-tasks ZG-2026-0005 was split into for its grids (分解), one closed, one closed out (核销)
    db = str(tmp_path / "demo" / "duban.db")
    assert len(json.loads(duban("--db", db, "list", "--top", "--json").stdout)) == 22
    listed = json.loads(duban("--db", db, "list", "--json").stdout)
    assert [t["code"] for t in listed if t["parent"]] == ["ZG-2026-0005-1", "ZG-2026-0005-2"]
    assert "上一次演示留下的任务" not in {t["title"] for t in listed}  # rebuilt, not appended to
    parent = json.loads(duban("--db", db, "show", "ZG-2026-0005", "--json").stdout)
    assert (parent["roll_up"]["total"], parent["roll_up"]["closed"]) == (2, 2)
    assert [e["trigger"] for e in parent["events"]].count("split") == 2
    closed_out = json.loads(duban("--db", db, "show", "ZG-2026-0005-2", "--json").stdout)
    assert closed_out["events"][-1]["trigger"] == "close_out" and closed_out["parent"] == "ZG-2026-0005"


@pytest.fixture
def workspace(tmp_path: Path, sqlite_template: Path) -> tuple[str, str, str]:
    """A database with one task submitted for review, one in progress; returns (db, submitted, in_progress)."""
    import shutil

    db = str(tmp_path / "duban.db")
    shutil.copy(sqlite_template, db)
    app = App.build(Settings(database_url=db))
    from duban.engine.services.tasks import fire
    from tests.helpers import new_task, to_submitted

    submitted = new_task(app)
    to_submitted(app, submitted)
    working = new_task(app)
    fire(app, UNIT_HEAD, working, "start")
    app.close()
    return db, submitted, working


BAD_INPUTS = [
    # (arguments after --db, expected exit code, a phrase of the one-line message)
    (["--as", "nobody", "approve", "{S}"], 3, "no person 'nobody' in the organisation"),
    (
        ["--as", PRINCIPAL, "assign", "--title", "x", "--unit", "社会事务", "--leader", DEPUTY],
        3,
        "no unit '社会事务' in the organisation (did you mean 社会事务科?)",
    ),
    (["--as", DEPUTY, "approve", "ZG-2026-0999"], 3, "no task with code ZG-2026-0999"),
    (["--as", DEPUTY, "fire", "{S}", "finish"], 3, "has no trigger 'finish'"),
    (["--as", UNIT_HEAD, "approve", "{S}"], 4, "may not approve task"),
    (["--as", DEPUTY, "close", "{S}"], 5, "allowed from submitted: approve, reject, cancel"),
    (["--as", DEPUTY, "reject", "{S}"], 5, "needs a reason: add --comment"),
    (["--as", UNIT_HEAD, "submit", "{W}"], 5, "has no progress report yet"),
    (
        ["--as", PRINCIPAL, "assign", "--title", "x", "--unit", UNIT, "--leader", DEPUTY, "--deadline", "2026-13-40"],
        2,
        "cannot read '2026-13-40'; write it like one of: 2026-06-30, 2026年6月30日",
    ),
    (["--as", UNIT_HEAD, "progress", "{W}", "--percent", "150", "--note", "x"], 2, "150 is not in the range"),
    (
        ["--as", UNIT_HEAD, "progress", "{W}", "--percent", "50", "--note", "x", "--attach", "/no/such/file.pdf"],
        2,
        "'/no/such/file.pdf' does not exist",
    ),
    (["approve", "{S}"], 2, "who is acting? add --as PERSON_ID"),
    (["--as", DEPUTY, "approve", "{S}", "--if-version", "2"], 6, "changed since you read it"),
    (["--as", "zhouqiang", "org", "import", "/no/such/org.yaml"], 2, "does not exist"),
    (["--as", DEPUTY, "aprove", "{S}"], 2, "No such command 'aprove'"),
    (["list", "--state", "open"], 2, "'open' is not a state"),
    (
        ["--as", PRINCIPAL, "assign", "--title", "x", "--unit", UNIT, "--leader", DEPUTY, "--field", "households"],
        2,
        "should be KEY=VALUE",
    ),
]


@pytest.mark.parametrize(
    ("args", "status", "phrase"),
    BAD_INPUTS,
    ids=[" ".join(a[2:4] if a[0] == "--as" else a[:2]) + f"-{i}" for i, (a, _s, _p) in enumerate(BAD_INPUTS)],
)
def test_bad_input_gets_one_line_and_changes_nothing(call, workspace, args, status, phrase) -> None:  # type: ignore[no-untyped-def]
    db, submitted, working = workspace
    args = [a.replace("{S}", submitted).replace("{W}", working) for a in args]
    app = App.build(Settings(database_url=db))
    before = snapshot(app)
    result = call("--db", db, *args)
    assert result.code == status, result.err
    assert phrase in result.err
    assert result.err.startswith("duban: error: ") and result.err.count("\n") == 1
    assert "Traceback" not in result.err and result.out == ""
    assert snapshot(app) == before
    app.close()


def test_errors_speak_chinese_when_asked(call, workspace) -> None:  # type: ignore[no-untyped-def]
    db, submitted, _ = workspace
    result = call("--db", db, "--lang", "zh", "--as", DEPUTY, "close", submitted)
    assert result.code == 5
    assert result.err.startswith("duban：错误：任务 ") and "当前为“待审核”，不能执行“销号”" in result.err


def test_missing_database_is_not_created(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "nowhere.db"
    result = call("--db", str(db), "list")
    assert result.code == 7 and "no such file; run 'duban init --org FILE' first" in result.err
    assert not db.exists()


def test_a_file_that_is_not_a_database(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "notes.db"
    junk.write_text("this is a text file, not a database\n" * 100)
    result = call("--db", str(junk), "list")
    assert result.code == 7 and "cannot open it (file is not a database)" in result.err
    assert result.err.count("\n") == 1


def test_bad_organisation_file_is_named(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "org.yaml"
    bad.write_text("units:\n  - name: A\n    parent: Nowhere\n", encoding="utf-8")
    result = call("--db", str(tmp_path / "x.db"), "init", "--org", str(bad))
    assert result.code == 2
    assert result.err.strip() == f"duban: error: {bad}: units[0].parent: unknown parent unit 'Nowhere'"


def test_workflow_commands(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = call("workflow", "check", str(Path("workflows/rectification.yaml").resolve()))
    assert ok.code == 0 and "9 states, 28 triggers" in ok.out
    broken = tmp_path / "bad.yaml"
    broken.write_text(
        (Path(__file__).parents[2] / "workflows" / "rectification.yaml")
        .read_text(encoding="utf-8")
        .replace("dest: reviewed", "dest: reviwed"),
        encoding="utf-8",
    )
    bad = call("workflow", "check", str(broken))
    assert bad.code == 2 and "transitions[3] (approve).dest: unknown state 'reviwed'" in bad.err
    shown = call("--lang", "zh", "workflow", "show", "rectification")
    assert "已销号" in shown.out and "须为责任领导" in shown.out
    as_json = call("workflow", "show", "assistance", "--json").json()
    assert as_json["name"] == "assistance" and as_json["fields"]["households"]["type"] == "int"
    mermaid = call("workflow", "graph", "rectification")
    assert mermaid.out.startswith("stateDiagram-v2\n") and "submitted --> reviewed: approve" in mermaid.out
    dot = call("--lang", "zh", "workflow", "graph", "rectification", "--format", "dot")
    assert dot.out.startswith("digraph rectification {") and 'submitted -> reviewed [label="审核通过"]' in dot.out
    unknown = call("workflow", "show", "inspection")
    assert unknown.code == 3 and "known: assistance, rectification" in unknown.err


def test_org_show_and_mine(call, workspace) -> None:  # type: ignore[no-untyped-def]
    db, submitted, working = workspace
    org = call("--db", db, "org", "show", "--json").json()
    assert len(org["people"]) == 31 and any(u["name"] == UNIT for u in org["units"])
    mine = call("--db", db, "--as", UNIT_HEAD, "list", "--mine", "--json").json()
    assert {t["code"] for t in mine} == {submitted, working}
    shown = call("--db", db, "--as", DEPUTY, "show", submitted)
    assert "You may: approve, reject, cancel" in shown.out
