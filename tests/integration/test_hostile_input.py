"""Inputs a reviewer tried on purpose: each gets one clear line, the right exit status, and no write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.errors import BadFile, DefinitionError, InvalidInput
from duban.engine.domain.org import load_org_file
from duban.engine.domain.workflow import parse_workflow
from duban.engine.services.org import import_org, org_view
from duban.engine.services.queries import show_task
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from duban.workflows import BUILTIN_DIR
from tests.conftest import DEPUTY, OTHER_UNIT_MEMBER, UNIT_HEAD
from tests.helpers import new_task, snapshot

RECT = (BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8")


def test_demo_will_not_wipe_a_real_workspace(call, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    folder = Path(sqlite_url).parent
    before = Path(sqlite_url).read_bytes()
    result = call("demo", "--dir", str(folder))
    assert result.code == 2 and "holds a duban.db that the demo did not make" in result.err
    assert Path(sqlite_url).read_bytes() == before


def test_a_contacts_sheet_updates_only_its_columns(sqlite_app: App, tmp_path: Path) -> None:
    sheet = tmp_path / "contacts.csv"
    sheet.write_text("id,name,phone\nzhouqiang,周强,13900000000\n", encoding="utf-8")
    import_org(sqlite_app, sheet, "zhouqiang")
    me = next(p for p in org_view(sqlite_app).people if p.id == "zhouqiang")
    assert me.roles == ["admin"] and me.unit == "综合办公室" and me.phone == "13900000000"
    import_org(sqlite_app, sheet, "zhouqiang")  # still an admin: not locked out


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.yaml", "units:\n  - name: [1, 2]\n", "units[0].name: expected text, found list"),
        ("b.yaml", "units: 5\n", "units: expected a list, found int"),
        ("c.yaml", "people: {a: 1}\n", "people: expected a list, found dict"),
        ("d.yaml", "units:\n  - name: A\n  - name: B\n    name: C\n", "the key 'name' appears twice"),
        ("e.csv", "name,unit\n张三,社会事务科\n", "a people sheet needs an id column"),
        ("f.csv", "unit,parent,phone\nX,,1\n", "a people sheet needs an id column"),
        ("g.csv", "id,name,parent\nzs,张三,X\n", "column 'parent' does not belong in a people sheet"),
        ("h.csv", "id,name,id\nzs,张三,zs\n", "column 'id' appears twice"),
        ("i.csv", "id,name\nzs,张三,extra\n", "row 2: has 3 cells; the header has 2"),
        ("j.yaml", 'people:\n  - {id: x, name: "a\\x1b[2Jb", roles: [leader]}\n', "control character U+001B"),
        ("k.yaml", "people:\n  - {id: x, name: y, roles: [leader], channels: [pigeon]}\n", "unknown channel 'pigeon'"),
    ],
)
def test_bad_organisation_files(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadFile) as info:
        load_org_file(path)
    assert expected in info.value.render("en")


def test_a_refused_progress_report_stores_no_evidence(sqlite_app: App, tmp_path: Path) -> None:
    code = new_task(sqlite_app)
    fire(sqlite_app, UNIT_HEAD, code, "start")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"jpeg")
    with pytest.raises(Exception):  # noqa: B017 - the point is what is left behind
        report_progress(sqlite_app, OTHER_UNIT_MEMBER, code, ProgressInput(10, "x", (photo,)))
    assert not sqlite_app.evidence.root.exists() or not any(sqlite_app.evidence.root.rglob("*"))


def test_init_with_a_bad_org_file_creates_no_database(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "org.yaml"
    bad.write_text("units: [{name: A, parent: Nowhere}]\n", encoding="utf-8")
    db = tmp_path / "new.db"
    result = call("--db", str(db), "init", "--org", str(bad))
    assert result.code == 2 and not db.exists()


def test_init_on_a_folder(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = call("--db", str(tmp_path), "init")
    assert result.code == 7 and result.err.count("\n") == 1 and "folder" in result.err


@pytest.mark.parametrize(
    "args",
    [
        ["--as", "wangjun", "assign", "--title", "a\x1b[31mred", "--unit", "社会事务科", "--leader", DEPUTY],
        ["--as", "wang\njun", "list", "--mine"],
        [
            "--as",
            "wangjun",
            "assign",
            "--title",
            "x",
            "--unit",
            "社会事务科",
            "--leader",
            DEPUTY,
            "--category",
            "类" * 101,
        ],
        ["--as", "wangjun", "assign", "--title", "x", "--unit", "社\n会", "--leader", DEPUTY],
        [
            "--as",
            "wangjun",
            "assign",
            "--title",
            "x",
            "--unit",
            "社会事务科",
            "--leader",
            DEPUTY,
            "--priority",
            "urgent",
        ],
    ],
)
def test_control_characters_and_sizes_are_refused(call, sqlite_url: str, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    app = App.build(Settings(database_url=sqlite_url))
    before = snapshot(app)
    result = call("--db", sqlite_url, *args)
    assert result.code in (2, 3) and result.err.count("\n") == 1 and "\x1b" not in result.err
    assert snapshot(app) == before
    app.close()


def test_a_removed_workflow_leaves_the_ledger_readable(sqlite_app: App, sqlite_url: str, tmp_path: Path) -> None:
    code = new_task(sqlite_app)
    from duban.engine.domain.registry import WorkflowRegistry

    sqlite_app.registry = WorkflowRegistry([sqlite_app.registry.spec("assistance")])
    detail = show_task(sqlite_app, code)
    assert detail.summary.state_label.en == "assigned" and detail.events[0].trigger == "assign"


def test_show_for_an_unknown_viewer(sqlite_app: App) -> None:
    code = new_task(sqlite_app)
    with pytest.raises(Exception, match="no person 'nobody'"):
        show_task(sqlite_app, code, viewer="nobody")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  zh: 交办\n", "  zh: 交办\n  zh: 派发\n", "the key 'zh' appears twice"),
        (
            "    requires: [reason]\n    who:\n      - {roles: [leader], relation: lead_leader}\n    notify",
            "    requires: [reason, progress_data]\n    who:\n      - {roles: [leader], relation: lead_leader}\n    notify",
            "'progress_data' comes only with the command for progress",
        ),
    ],
)
def test_definition_traps(old: str, new: str, expected: str) -> None:
    assert old in RECT
    with pytest.raises(DefinitionError) as info:
        parse_workflow(RECT.replace(old, new, 1), "wf.yaml")
    assert expected in info.value.render("en")


def test_field_bounds_must_make_sense() -> None:
    text = (
        (BUILTIN_DIR / "assistance.yaml")
        .read_text(encoding="utf-8")
        .replace("    min: 1\n", "    min: 5\n    max: 2\n", 1)
    )
    with pytest.raises(DefinitionError, match=r"fields.households.min: min 5 is above max 2"):
        parse_workflow(text, "a.yaml")


def test_text_checks_are_domain_rules() -> None:
    from duban.engine.domain.textcheck import check_text, printable

    assert check_text("  a\nb ", "note", max_len=10, multiline=True) == "a\nb"
    with pytest.raises(InvalidInput):
        check_text("a\nb", "title", max_len=10)
    assert printable("a\nb\x1b") == "a\\nb\\x1b"
    _ = shutil, yaml


def test_init_will_not_move_into_another_applications_database(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.commit()
    conn.close()
    result = call("--db", str(other), "init")
    assert result.code == 7 and "another application's tables (invoices)" in result.err
    assert result.err.count("\n") == 1
    conn = sqlite3.connect(other)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    conn.close()
    assert tables == ["invoices"]  # nothing of duban's was added
