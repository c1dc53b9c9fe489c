"""Corrupt inputs (issue 6): files and databases that are broken, cut short, mis-encoded or malicious.

Each is refused with the documented exit status (2 for a bad file, 7 for a
database duban cannot use) and one line on stderr that names the file, and
the key where there is one, with no traceback. Nothing is written: the
workspace's tables are compared before and after, a database file keeps its
bytes, and ``duban init`` with a bad organisation file creates no database.

The YAML "billion laughs" cases run in a child process under a memory limit
and a time limit, so a loader that expands the aliases fails the test instead
of hanging the suite. The bugs these tests found are fixed; each test now guards its fix.
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from duban.engine.app import App
from duban.workflows import BUILTIN_DIR
from tests.conftest import ORG, ROOT, Result
from tests.integration.test_properties import Desk, delta

Call = Callable[..., Result]
ADMIN = "zhouqiang"
RECT = (BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8")
HEADER = ["序号", "问题", "整改措施", "责任领导", "责任单位", "整改时限"]


@pytest.fixture
def desk(sqlite_url: str, make_app: Callable[[str], App]) -> Desk:
    return Desk(sqlite_url, make_app(sqlite_url), "")


def refused(result: Result, status: int, *phrases: str) -> str:
    """The documented status, one line on stderr naming what it must, nothing else."""
    assert result.code == status, (result.code, result.err)
    assert result.out == "", result.out
    lines = result.err.splitlines()
    assert len(lines) == 1 and result.err.endswith("\n"), result.err
    line = lines[0]
    assert line.startswith("duban: error: "), line
    assert "Traceback" not in line and "\x00" not in line and "\x1b" not in line
    for phrase in phrases:
        assert phrase in line, (phrase, line)
    return line


# --- spreadsheets --------------------------------------------------------------------------------------


def good_workbook(path: Path, rows: int = 40) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    for i in range(1, rows + 1):
        ws.append([i, f"针对第{i}处路灯损坏的问题" * 5, "1.排查 2.维修", "张伟", "社会事务科", "2026-10-09"])
    wb.save(path)
    return path


def rezip(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """The workbook with one part changed (or left out: None); the zip itself stays valid."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            data = change(name, src.read(name))
            if data is not None:
                out.writestr(name, data)
    return target


def _cut(fraction: float) -> Callable[[bytes], bytes]:
    return lambda data: data[: int(len(data) * fraction)]


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (_cut(0.5), "is not a readable Excel workbook"),  # cut in half: the zip's directory is gone
        (_cut(0.0), "is not a readable Excel workbook"),  # zero bytes
        (_cut(0.01), "is not a readable Excel workbook"),  # the first few hundred bytes
        (lambda data: data[: len(data) // 2] + b"\0" * (len(data) // 2), "is not a readable Excel workbook"),
        (lambda data: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + data[8:], "an old Excel .xls workbook or an encrypted one"),
        (lambda data: "序号,问题\n1,路灯\n".encode(), "is not a readable Excel workbook"),  # a CSV named .xlsx
    ],
    ids=["half", "zero-bytes", "first-bytes", "zeroed-tail", "ole-magic", "csv-named-xlsx"],
)
def test_a_broken_workbook_is_refused_and_nothing_is_imported(
    call: Call, desk: Desk, tmp_path: Path, make: Callable[[bytes], bytes], phrase: str
) -> None:
    data = good_workbook(tmp_path / "good.xlsx").read_bytes()
    broken = tmp_path / "台账.xlsx"
    broken.write_bytes(make(data))
    before = desk.snapshot()
    result = call("--db", desk.db, "--as", "wangjun", "import", str(broken))
    refused(result, 2, str(broken), phrase, "save it")
    assert delta(before, desk.snapshot()) == {}


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        (lambda n, d: d[: len(d) // 2] if n == "xl/worksheets/sheet1.xml" else d, "the workbook is damaged"),
        (lambda n, d: d.replace(b'<c r="B2"', b'<c r="B2" r="B2"') if n.endswith("sheet1.xml") else d, "damaged"),
        (lambda n, d: None if n == "[Content_Types].xml" else d, "is not a readable Excel workbook"),
        (lambda n, d: None if n == "xl/workbook.xml" else d, "is not a readable Excel workbook"),
    ],
    ids=["sheet-xml-cut", "sheet-xml-duplicate-attribute", "no-content-types", "no-workbook-part"],
)
def test_a_workbook_damaged_inside_is_refused(
    call: Call, desk: Desk, tmp_path: Path, change: Callable[[str, bytes], bytes | None], phrase: str
) -> None:
    broken = rezip(good_workbook(tmp_path / "good.xlsx"), tmp_path / "damaged.xlsx", change)
    before = desk.snapshot()
    result = call("--db", desk.db, "--as", "wangjun", "import", str(broken))
    refused(result, 2, str(broken), phrase)
    assert delta(before, desk.snapshot()) == {}


def test_a_workbook_with_malformed_xml_is_refused(call: Call, desk: Desk, tmp_path: Path) -> None:
    broken = rezip(
        good_workbook(tmp_path / "good.xlsx"),
        tmp_path / "badxml.xlsx",
        lambda n, d: b"<not xml" if n == "xl/workbook.xml" else d,
    )
    before = desk.snapshot()
    result = call("--db", desk.db, "--as", "wangjun", "import", str(broken))
    refused(result, 2, str(broken))
    assert delta(before, desk.snapshot()) == {}


# --- CSV in the wrong encoding -------------------------------------------------------------------------

CSV_ZH = "序号,问题,整改措施,责任领导,责任单位\n1,针对路灯损坏的问题,排查,张伟,社会事务科\n"


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        (
            "No.,Problem,Measures,Leader,Unit\n1,Caf\xe9 ferm\xe9 , r\xe9parations,zhangwei,\xc9cole\n".encode(
                "latin-1"
            ),
            "is not text in UTF-8 or GB18030",
        ),
        (CSV_ZH.encode("utf-16-be"), "is not text in UTF-8 or GB18030"),  # UTF-16 without its BOM
        (CSV_ZH.encode("utf-16-le"), "no header row"),  # reads as GB18030, as nonsense: no header in it
        ("No.,Problem,Unit\n1,lights,x\n".encode("utf-16-le"), "no header row"),  # ASCII with NULs between
        (("\ufeff" + CSV_ZH).encode() + b"\xff\xfe\n", "starts like UTF-8 but is not valid UTF-8 throughout"),
        (CSV_ZH.encode()[:-30] + b"\xe4\xb8", "is not text in UTF-8 or GB18030"),  # cut inside a character
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "is not text in UTF-8 or GB18030"),
    ],
    ids=["latin-1", "utf-16-be-no-bom", "utf-16-le-no-bom", "utf-16-ascii", "bom-then-bad-bytes", "cut-utf-8", "png"],
)
def test_a_csv_in_the_wrong_encoding_is_refused(
    call: Call, desk: Desk, tmp_path: Path, raw: bytes, phrase: str
) -> None:
    path = tmp_path / "台账.csv"
    path.write_bytes(raw)
    before = desk.snapshot()
    result = call("--db", desk.db, "--as", "wangjun", "import", str(path))
    refused(result, 2, str(path), phrase)
    assert delta(before, desk.snapshot()) == {}


# --- workflow definitions ------------------------------------------------------------------------------

LOOP = """\
name: loop
zh: 循环
en: loop
code_prefix: LP
initial: a
create: {trigger: open, zh: 开, en: open, who: [{roles: [leader]}]}
states:
  - {key: a, zh: 甲, en: a}
  - {key: b, zh: 乙, en: b}
  - {key: done, zh: 完, en: done, final: true}
transitions:
  - {trigger: go, source: a, dest: b, zh: 去, en: go, who: [{roles: [leader]}]}
  - {trigger: back, source: b, dest: a, zh: 回, en: back, who: [{roles: [leader]}]}
"""
FINISH = "  - {trigger: finish, source: b, dest: done, zh: 完, en: finish, who: [{roles: [leader]}]}\n"


def bomb(levels: int = 9) -> str:
    """'Billion laughs': nine levels of nine aliases, 9**9 strings once expanded, 1 KB as written."""
    parts = ["&a0 [" + ",".join(['"lol"'] * 9) + "]"]
    parts += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


BAD_DEFINITIONS = [
    ("loop-without-exit", LOOP, "states[2] (done): unreachable from the initial state 'a'"),
    (
        "dangling-dest",
        LOOP.replace("dest: a, zh: 回", "dest: c, zh: 回"),
        "transitions[1] (back).dest: unknown state 'c'",
    ),
    (
        "source-names-its-trigger",
        LOOP.replace("source: b, dest: a", "source: [b, back], dest: a"),
        "transitions[1] (back).source: unknown state 'back'",
    ),
    ("initial-nowhere", LOOP.replace("initial: a", "initial: z"), "initial: unknown state 'z'"),
    ("no-final-state", LOOP.replace(", final: true", "") + FINISH, "states: no state is final"),
    (
        "trigger-twice-from-a-state",
        LOOP + "  - {trigger: go, source: [b, a], dest: done, zh: 去, en: go, who: [{roles: [leader]}]}\n",
        "transitions[2] (go).source: trigger 'go' is already defined from state 'a' in transitions[0]",
    ),
    (
        "dest-is-the-create-trigger",
        LOOP + "  - {trigger: open, source: b, dest: done, zh: 开, en: open, who: [{roles: [leader]}]}\n",
        "transitions[2] (open).trigger: 'open' is the create trigger",
    ),
    ("recursive-alias", RECT.replace("name: rectification", "name: &r [*r]", 1), "aliases (*name) are not allowed"),
    ("bomb-under-an-unknown-key", f"lol: {bomb()}\n{RECT}", "aliases (*name) are not allowed"),
    ("not-yaml", LOOP.replace("states:\n", "states: [\n", 1), "not valid YAML"),
    ("tab-indented", LOOP.replace("  - {key: a", "\t- {key: a"), "line 8, column 1: not valid YAML"),
    ("empty", "", "the file is empty"),
]


@pytest.mark.parametrize(("text", "phrase"), [c[1:] for c in BAD_DEFINITIONS], ids=[c[0] for c in BAD_DEFINITIONS])
def test_a_bad_workflow_definition_is_refused_with_file_and_key(
    call: Call, tmp_path: Path, text: str, phrase: str
) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.process_time()
    result = call("workflow", "check", str(path))
    assert time.process_time() - started < 5  # CPU, not wall: a busy machine must not fail it
    refused(result, 2, f"{path}: ", phrase)


def test_the_loop_with_an_exit_is_a_good_definition(call: Call, tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(LOOP + FINISH, encoding="utf-8")
    result = call("workflow", "check", str(path))
    assert result.code == 0 and "ok — workflow loop" in result.out


def test_a_definition_that_is_not_utf8_is_refused(call: Call, tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(LOOP.encode("gb18030"))
    refused(call("workflow", "check", str(path)), 2, str(path), "cannot read it")


def test_a_bad_definition_on_the_workflow_path_stops_every_command(
    call: Call, desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "loop.yaml").write_text(LOOP.replace("dest: a, zh: 回", "dest: c, zh: 回"), encoding="utf-8")
    monkeypatch.setenv("DUBAN_WORKFLOW_PATH", str(folder))
    before = desk.snapshot()
    for args in (["list"], ["--as", "wangjun", "assign", "--title", "x", "--unit", "社会事务科", "--leader", "张伟"]):
        refused(call("--db", desk.db, *args), 2, str(folder / "loop.yaml"), "transitions[1] (back).dest")
    assert delta(before, desk.snapshot()) == {}


def test_a_trap_cycle_without_a_way_out_is_refused(call: Call, tmp_path: Path) -> None:
    text = (LOOP + FINISH).replace("  - {key: done", "  - {key: pit, zh: 坑, en: pit}\n  - {key: done")
    text += "  - {trigger: fall, source: a, dest: pit, zh: 坠, en: fall, who: [{roles: [leader]}]}\n"
    text += "  - {trigger: stay, source: pit, dest: pit, zh: 留, en: stay, who: [{roles: [leader]}]}\n"
    path = tmp_path / "trap.yaml"
    path.write_text(text, encoding="utf-8")
    refused(call("workflow", "check", str(path)), 2, str(path), "pit")


# --- the billion laughs, in a child process that cannot hang the suite ---------------------------------

CHILD_SECONDS = 300  # wall time, only so a hang cannot stall the suite; the bound that matters is CPU below
CHILD_CPU_SECONDS = 10
CHILD_MEMORY = 768 << 20


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS + 5, CHILD_CPU_SECONDS + 5))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(*args: str, env: dict[str, str] | None = None) -> tuple[Result, float]:
    """`duban ARGS` in a child process under memory and CPU limits; (result, CPU seconds it used).

    CPU time, not wall time: a busy machine (two test workers, other jobs) stretches the wall clock but not the
    work a refused bomb costs, so "refused quickly" stays a bound on the work rather than a timed test.
    """
    before = _children_cpu()
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from duban.cli.main import run; run()", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CHILD_SECONDS,
            preexec_fn=_limit_child,
            env={**os.environ, "DUBAN_NOW": "2026-09-07T09:00", "LANG": "C.UTF-8", **(env or {})},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"duban {' '.join(args)} still ran after {CHILD_SECONDS} s")
    return Result(done.returncode, done.stdout, done.stderr), _children_cpu() - before


def test_a_bomb_under_an_unknown_org_key_is_refused_quickly(tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(f"lol: {bomb()}\nunits: []\n", encoding="utf-8")
    db = tmp_path / "new.db"
    result, seconds = run_child("--db", str(db), "init", "--org", str(org))
    refused(result, 2, str(org), "aliases (*name) are not allowed")
    assert seconds < CHILD_CPU_SECONDS and not db.exists()


BOMBS = [
    (
        "workflow-name",
        "workflow.yaml",
        RECT.replace("name: rectification", f"name: {bomb()}", 1),
        ("workflow", "check"),
    ),
    (
        "workflow-remind-at",
        "workflow.yaml",
        RECT.replace('    at: "09:00"', f"    at: {bomb()}", 1),
        ("workflow", "check"),
    ),
    (
        "workflow-count",
        "workflow.yaml",
        RECT.replace("at_once_working_days: 5", f"at_once_working_days: {bomb()}"),
        ("workflow", "check"),
    ),
    ("org-unit-name", "org.yaml", f"units:\n  - name: {bomb()}\n", ("init", "--org")),
    ("import-mapping", "mapping.yaml", f"问题描述: {bomb()}\n", ("import", "--mapping")),
]


@pytest.mark.parametrize(("name", "text", "command"), [b[1:] for b in BOMBS], ids=[b[0] for b in BOMBS])
def test_a_billion_laughs_file_is_refused_quickly(
    desk: Desk, tmp_path: Path, name: str, text: str, command: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    if command[0] == "workflow":
        args: list[str] = [*command, str(path)]
    elif command[0] == "init":
        args = ["--db", str(tmp_path / "new.db"), "init", "--org", str(path)]
    else:
        ledger = tmp_path / "台账.csv"
        ledger.write_text("序号,问题描述,责任领导,责任单位\n1,路灯损坏,张伟,社会事务科\n", encoding="utf-8")
        args = ["--db", desk.db, "--as", "wangjun", "import", str(ledger), "--mapping", str(path)]
    before = desk.snapshot()
    result, seconds = run_child(*args)
    assert seconds < CHILD_CPU_SECONDS, seconds
    refused(result, 2, str(path))
    assert delta(before, desk.snapshot()) == {} and not (tmp_path / "new.db").exists()


# --- organisation files --------------------------------------------------------------------------------

BAD_ORGS = [
    (
        "duplicate-ids.yaml",
        "units:\n  - name: A\npeople:\n  - {id: p, name: 张三, unit: A, roles: [leader]}\n"
        "  - {id: p, name: 李四, unit: A, roles: [unit_head]}\n",
        "people[1].id: person id 'p' is used twice (also people[0])",
    ),
    (
        "duplicate-ids.csv",
        "id,name,roles\np,张三,leader\nq,王五,leader\np,李四,unit_head\n",
        "people[2].id: person id 'p' is used twice (also people[0])",
    ),
    (
        "duplicate-units.yaml",
        "units:\n  - name: A\n  - name: B\n  - name: A\n",
        "units[2].name: unit 'A' is defined twice",
    ),
    (
        "parent-cycle.yaml",
        "units:\n  - {name: A, parent: B}\n  - {name: B, parent: A}\n",
        "units[0].parent: unit 'A' is its own ancestor (a cycle of parents)",
    ),
    (
        "long-parent-cycle.yaml",
        "units:\n  - {name: R}\n  - {name: A, parent: C}\n  - {name: B, parent: A}\n  - {name: C, parent: B}\n",
        "units[1].parent: unit 'A' is its own ancestor",
    ),
    ("own-parent.yaml", "units:\n  - {name: A, parent: A}\n", "units[0].parent: unit 'A' is its own ancestor"),
    ("recursive-alias.yaml", "units:\n  - &u {name: A, parent: *u}\n", "aliases (*name) are not allowed"),
    ("not-text.yaml", "units:\n  - name: A\n", "not text in UTF-8 or GB18030"),
]


@pytest.mark.parametrize(("name", "text", "phrase"), BAD_ORGS, ids=[o[0] for o in BAD_ORGS])
def test_init_with_a_bad_organisation_creates_no_database(
    call: Call, tmp_path: Path, name: str, text: str, phrase: str
) -> None:
    path = tmp_path / name
    if name == "not-text.yaml":
        path.write_bytes(text.encode() + b"  - name: \xff\xfe\x80\n")
    else:
        path.write_text(text, encoding="utf-8")
    db = tmp_path / "new.db"
    refused(call("--db", str(db), "init", "--single-desk", "--org", str(path)), 2, str(path), phrase)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no database, no -wal, no -shm


@pytest.mark.parametrize(("name", "text", "phrase"), BAD_ORGS[:6], ids=[o[0] for o in BAD_ORGS[:6]])
def test_org_import_of_a_bad_file_changes_nothing(
    call: Call, desk: Desk, tmp_path: Path, name: str, text: str, phrase: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    before = desk.snapshot()
    refused(call("--db", desk.db, "--as", ADMIN, "org", "import", str(path)), 2, str(path), phrase)
    assert delta(before, desk.snapshot()) == {}


def test_org_import_that_closes_a_parent_cycle_with_the_database_is_refused(
    call: Call, desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text("units:\n  - {name: 县社区管理服务中心, parent: 社会事务科}\n", encoding="utf-8")
    before = desk.snapshot()
    refused(call("--db", desk.db, "--as", ADMIN, "org", "import", str(path)), 2, str(path), "units[0].parent")
    assert delta(before, desk.snapshot()) == {}


# --- databases -----------------------------------------------------------------------------------------


def set_revision(db: str, revision: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    conn.close()


def rows_of(db: Path | str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a SQLite file, read without duban."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"'), key=repr) for n in names}
    finally:
        conn.close()


NEWER_COMMANDS = [
    ["list"],
    ["--as", "wangjun", "assign", "--title", "路灯", "--unit", "社会事务科", "--leader", "张伟"],
    ["--as", "wangjun", "import", str(ROOT / "examples" / "ledger.csv"), "--campaign", "X"],
    ["--as", ADMIN, "org", "import", str(ORG)],
    ["report"],
    ["audit", "verify"],
    ["backup", "{tmp}/copy.db"],
]


@pytest.mark.parametrize(
    "args", NEWER_COMMANDS, ids=[" ".join(a[2:3] if a[0] == "--as" else a[:1]) for a in NEWER_COMMANDS]
)
def test_a_database_from_a_newer_schema_is_refused(
    call: Call, sqlite_url: str, tmp_path: Path, args: list[str]
) -> None:
    set_revision(sqlite_url, "0099")
    before_bytes, before_rows = Path(sqlite_url).read_bytes(), rows_of(sqlite_url)
    result = call("--db", sqlite_url, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    refused(result, 7, sqlite_url, "its schema (revision 0099) is newer than this duban knows; upgrade duban")
    assert Path(sqlite_url).read_bytes() == before_bytes and rows_of(sqlite_url) == before_rows
    assert not (tmp_path / "copy.db").exists()


def test_init_refuses_a_database_from_a_newer_schema(call: Call, sqlite_url: str) -> None:
    set_revision(sqlite_url, "0099")
    before = Path(sqlite_url).read_bytes()
    refused(call("--db", sqlite_url, "init"), 7, sqlite_url, "newer than this duban knows")
    assert Path(sqlite_url).read_bytes() == before


def _text_file(path: Path) -> None:
    path.write_text("这不是数据库 this is not a database\n" * 200, encoding="utf-8")


def _truncated(path: Path, source: Path) -> None:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _first_page(path: Path, source: Path) -> None:
    path.write_bytes(source.read_bytes()[:100])


NOT_DATABASES = [
    ("text", lambda p, s: _text_file(p), "cannot open it (file is not a database)"),
    ("truncated", _truncated, "cannot open it (database disk image is malformed)"),
    ("header-only", _first_page, "cannot open it (database disk image is malformed)"),
]
OPENING_COMMANDS = [
    ["list"],
    ["init", "--single-desk", "--org", str(ORG)],
    ["--as", "wangjun", "assign", "--title", "路灯", "--unit", "社会事务科", "--leader", "张伟"],
    ["--as", "wangjun", "import", str(ROOT / "examples" / "ledger.csv")],
    ["backup", "{tmp}/copy.db"],
]


@pytest.mark.parametrize("args", OPENING_COMMANDS, ids=["list", "init", "assign", "import", "backup"])
@pytest.mark.parametrize(("kind", "make", "phrase"), NOT_DATABASES, ids=[n[0] for n in NOT_DATABASES])
def test_a_file_that_is_not_a_database_is_refused_and_kept(
    call: Call,
    sqlite_template: Path,
    tmp_path: Path,
    kind: str,
    make: Callable[[Path, Path], None],
    phrase: str,
    args: list[str],
) -> None:
    db = tmp_path / "duban.db"
    make(db, sqlite_template)
    before = db.read_bytes()
    result = call("--db", str(db), *[a.replace("{tmp}", str(tmp_path)) for a in args])
    refused(result, 7, str(db), phrase)
    assert db.read_bytes() == before
    assert not (tmp_path / "copy.db").exists()


# --- restore -------------------------------------------------------------------------------------------


def _foreign(path: Path, _source: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()


def _newer(path: Path, source: Path) -> None:
    shutil.copy(source, path)
    set_revision(str(path), "0099")


def _damaged_page(path: Path, source: Path) -> None:
    """The backup with the header of the tasks table's root page overwritten: the file opens, the table does not."""
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    conn.close()
    data = bytearray(source.read_bytes())
    at = (root - 1) * size
    data[at : at + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


BAD_BACKUPS = [
    ("text", lambda p, s: _text_file(p), "is not a database (file is not a database)"),
    ("truncated", _truncated, "is not a database (database disk image is malformed)"),
    ("header-only", _first_page, "is not a database"),
    ("zero-bytes", lambda p, s: p.write_bytes(b""), "is an SQLite file but not a duban database"),
    ("foreign-sqlite", _foreign, "is an SQLite file but not a duban database"),
    ("newer-schema", _newer, "has schema revision 0099, newer than this duban knows; upgrade duban"),
    ("missing", lambda p, s: None, "no such file"),
]


@pytest.mark.parametrize(("kind", "make", "phrase"), BAD_BACKUPS, ids=[b[0] for b in BAD_BACKUPS])
def test_restore_of_a_corrupt_backup_is_refused_and_the_database_kept(
    call: Call,
    desk: Desk,
    sqlite_template: Path,
    tmp_path: Path,
    kind: str,
    make: Callable[[Path, Path], None],
    phrase: str,
) -> None:
    backup = tmp_path / "backups" / "duban-backup.db"
    backup.parent.mkdir()
    make(backup, sqlite_template)
    live = Path(desk.db)
    before_bytes, before = live.read_bytes(), desk.snapshot()
    result = call("--db", desk.db, "restore", str(backup), "--yes")
    refused(result, 2, str(backup), phrase)
    assert live.read_bytes() == before_bytes and delta(before, desk.snapshot()) == {}


def test_restore_of_a_backup_with_a_damaged_page_is_refused(
    call: Call, desk: Desk, sqlite_template: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "damaged.db"
    _damaged_page(backup, sqlite_template)
    live = Path(desk.db)
    before_bytes = live.read_bytes()
    result = call("--db", desk.db, "restore", str(backup), "--yes")
    refused(result, 2, str(backup), "database disk image is malformed")
    assert live.read_bytes() == before_bytes
