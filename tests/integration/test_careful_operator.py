"""What a careful operator meets at the edges: unusable paths, hostile workbooks, text that hides.

Each case used to end in "internal error" (exit 70), in a workbook read whole
into memory, or in a title nobody could see; each now gets one line with the
documented exit status, and nothing is written.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from duban.engine.app import App
from tests.conftest import Result

Call = Callable[..., Result]


def one_line(r: Result, status: int, *phrases: str) -> str:
    """The documented status and exactly one error line, naming what it must; no traceback."""
    assert r.code == status, (r.code, r.err)
    errors = [line for line in r.err.splitlines() if line.startswith(("duban: error: ", "duban：错误："))]
    assert len(errors) == 1, r.err
    assert "Traceback" not in r.err and "internal error" not in r.err and "内部错误" not in r.err
    for phrase in phrases:
        assert phrase in errors[0], (phrase, errors[0])
    return errors[0]


def count(db: str, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


# --- 1. a database file duban cannot use --------------------------------------------------------------------


def _path_through_a_file(tmp: Path) -> str:
    (tmp / "plain").write_text("x")
    return str(tmp / "plain" / "duban.db")


def _folder(tmp: Path) -> str:
    (tmp / "folder.db").mkdir()
    return str(tmp / "folder.db")


def _fifo(tmp: Path) -> str:
    os.mkfifo(tmp / "pipe.db")
    return str(tmp / "pipe.db")


def _not_sqlite(tmp: Path) -> str:
    (tmp / "notes.db").write_text("序号,问题\n1,路灯\n", encoding="utf-8")
    return str(tmp / "notes.db")


def _truncated(tmp: Path, template: Path) -> str:
    (tmp / "cut.db").write_bytes(template.read_bytes()[:6000])
    return str(tmp / "cut.db")


BAD_DATABASES: dict[str, tuple[Callable[..., str], tuple[str, ...]]] = {
    "a path through a regular file": (_path_through_a_file, ("plain in its path is a file",)),
    "a folder": (_folder, ("is a folder",)),
    "a named pipe": (_fifo, ("not a regular file",)),
    "a text file": (_not_sqlite, ("file is not a database", "check --db")),
    "a cut-short database": (_truncated, ("malformed", "duban restore")),
}


@pytest.mark.parametrize("command", [["list"], ["init"], ["--as", "wangjun", "assign", "--title", "路灯", "--unit",
                                     "社会事务科", "--leader", "zhangwei"]], ids=["list", "init", "assign"])  # fmt: skip
@pytest.mark.parametrize("kind", list(BAD_DATABASES))
def test_a_database_path_duban_cannot_use_gets_status_7_and_one_line(
    call: Call, tmp_path: Path, sqlite_template: Path, kind: str, command: list[str]
) -> None:
    make, phrases = BAD_DATABASES[kind]
    db = make(tmp_path, sqlite_template) if make is _truncated else make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    one_line(call("--db", db, *command), 7, *phrases)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no database, folder or journal was made


def test_init_where_a_folder_cannot_be_made_names_the_folder(call: Call) -> None:
    # /proc refuses new entries even to root: a place nobody may write, whoever runs the tests.
    one_line(call("--db", "/proc/duban-test/sub/duban.db", "init"), 7, "cannot create its folder", "/proc/duban-test")


def test_the_database_errors_speak_chinese_under_lang_zh(call: Call, tmp_path: Path) -> None:
    one_line(call("--lang", "zh", "--db", _path_through_a_file(tmp_path), "init"), 7, "是文件而不是文件夹")


def test_a_database_locked_past_the_busy_timeout_says_what_to_do(tmp_path: Path) -> None:
    """SQLite's own words for a lock held past the 30 s busy timeout, with advice (a real wait would take 30 s)."""
    from duban.engine.persistence.db import Database

    db = Database(str(tmp_path / "w.db"))
    error = db.unreachable(sqlite3.OperationalError("database is locked"))
    assert error.exit_code == 7
    assert "another process has held its lock too long; try again later" in error.render("en")
    assert "另一进程长时间占用写锁" in error.render("zh")
    db.dispose()


# --- 1. an evidence folder duban cannot use -----------------------------------------------------------------


@pytest.mark.parametrize(
    "where,phrase",
    [("file", "it is a file, not a folder"), ("under a file", "Not a directory"), ("/proc", "No such file")],
)
def test_an_unusable_evidence_folder_is_refused_and_no_report_is_recorded(
    call: Call, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, phrase: str
) -> None:
    (tmp_path / "plain").write_text("x")
    folder = {"file": tmp_path / "plain", "under a file": tmp_path / "plain" / "ev", "/proc": Path("/proc/duban-ev")}
    monkeypatch.setenv("DUBAN_EVIDENCE_DIR", str(folder[where]))
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"\xff\xd8 not really a photo")
    db = ["--db", sqlite_url]
    assert (
        call(*db, "--as", "wangjun", "assign", "--title", "路灯", "--unit", "社会事务科", "--leader", "zhangwei").code
        == 0
    )
    assert call(*db, "--as", "fenglei", "start", "ZG-2026-0001").code == 0
    events, reports = count(sqlite_url, "events"), count(sqlite_url, "progress_reports")
    r = call(
        *db, "--as", "fenglei", "progress", "ZG-2026-0001", "--percent", "50", "--note", "排查", "--attach", str(photo)
    )
    one_line(r, 2, str(folder[where]), phrase, "DUBAN_EVIDENCE_DIR")
    assert (count(sqlite_url, "events"), count(sqlite_url, "progress_reports")) == (events, reports)
    assert count(sqlite_url, "evidence_files") == 0
    zh = call("--lang", "zh", *db, "--as", "fenglei", "progress", "ZG-2026-0001", "--percent", "50", "--note", "排查",
              "--attach", str(photo))  # fmt: skip
    one_line(zh, 2, "佐证材料文件夹无法使用", "DUBAN_EVIDENCE_DIR")


def test_an_os_error_no_service_foresaw_is_one_line_not_internal_error(
    call: Call, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence: a refusal of the operating system names the path, with bad input's status."""

    def full_disk(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device", "/var/lib/duban/x")

    monkeypatch.setattr("duban.engine.services.workspace.open_workspace", full_disk)
    one_line(call("--db", sqlite_url, "list"), 2, "/var/lib/duban/x", "No space left on device")


# --- 4. text that hides --------------------------------------------------------------------------------------

INVISIBLE_TITLES = {
    "zero-width space": "\u200b",
    "zero-width non-joiner and joiner": "\u200c\u200d",
    "word joiner": "\u2060\u2060",
    "byte-order mark": "\ufeff",
    "Hangul filler": "\u3164",
    "Hangul choseong filler": "\u115f",
    "braille blank": "\u2800\u2800",
    "no-break spaces": "\u00a0\u00a0",
    "ideographic spaces": "\u3000\u3000",
    "a mixture": " \u200b\u3164\u00a0\u2800\ufeff\u3000 ",
}
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
        "\u061c"]  # fmt: skip
ASSIGN = ["--as", "wangjun", "assign", "--unit", "社会事务科", "--leader", "zhangwei"]


@pytest.mark.parametrize("title", list(INVISIBLE_TITLES.values()), ids=list(INVISIBLE_TITLES))
def test_a_title_of_only_invisible_characters_is_refused_as_empty(call: Call, sqlite_url: str, title: str) -> None:
    r = call("--db", sqlite_url, *ASSIGN, "--title", title)
    one_line(r, 2, "a task needs a title")
    assert count(sqlite_url, "tasks") == 0 and count(sqlite_url, "events") == 0


def test_invisible_characters_at_the_ends_of_a_title_are_trimmed_like_spaces(call: Call, sqlite_url: str) -> None:
    r = call("--db", sqlite_url, *ASSIGN, "--title", "\u200b\u3164路灯损坏\u2800\ufeff")
    assert r.code == 0, r.err
    assert call("--db", sqlite_url, "show", r.out.strip(), "--json").json()["title"] == "路灯损坏"


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_a_bidi_control_in_a_title_is_refused_naming_the_code_point(call: Call, sqlite_url: str, char: str) -> None:
    r = call("--db", sqlite_url, *ASSIGN, "--title", f"路灯{char}已修复")
    one_line(r, 2, "title", f"U+{ord(char):04X}", "bidirectional")
    assert count(sqlite_url, "tasks") == 0


@pytest.mark.parametrize(
    "field,args",
    [
        ("measure", [*ASSIGN, "--title", "路灯", "--measure", "排查\u202e修复"]),
        ("problem", [*ASSIGN, "--title", "路灯", "--problem", "路灯\u2067坏了"]),
        ("category", [*ASSIGN, "--title", "路灯", "--category", "民生\u200f问题"]),
        ("field", [*ASSIGN, "--title", "路灯", "--field", "note=\u2066x"]),
    ],
)
def test_a_bidi_control_in_any_assign_field_is_refused(
    call: Call, sqlite_url: str, field: str, args: list[str]
) -> None:
    one_line(call("--db", sqlite_url, *args), 2, field, "bidirectional")
    assert count(sqlite_url, "tasks") == 0


def test_a_bidi_control_in_a_note_or_a_comment_changes_nothing(call: Call, sqlite_url: str) -> None:
    db = ["--db", sqlite_url]
    assert call(*db, *ASSIGN, "--title", "路灯").code == 0
    assert call(*db, "--as", "fenglei", "start", "ZG-2026-0001").code == 0
    events = count(sqlite_url, "events")
    r = call(*db, "--as", "fenglei", "progress", "ZG-2026-0001", "--percent", "10", "--note", "已\u202e完成")
    one_line(r, 2, "note", "U+202E")
    r = call(*db, "--as", "wangjun", "cancel", "ZG-2026-0001", "-m", "重复\u2069交办")
    one_line(r, 2, "comment", "U+2069")
    zh = call("--lang", "zh", *db, "--as", "fenglei", "progress", "ZG-2026-0001", "--percent", "10", "--note", "\u202e")
    one_line(zh, 2, "进展说明", "双向文本控制字符 U+202E")
    assert count(sqlite_url, "events") == events and count(sqlite_url, "progress_reports") == 0


def _ledger_rows(problems: list[tuple[str, str]]) -> list[list[str]]:
    header = ["序号", "问题", "整改措施", "责任领导", "责任单位", "整改时限"]
    return [header] + [[str(i), p, m, "张伟", "社会事务科", "2026-12-31"] for i, (p, m) in enumerate(problems, 1)]


def _write(path: Path, rows: list[list[str]]) -> Path:
    if path.suffix == ".csv":
        import csv

        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_imported_problem_of_only_invisible_characters_is_missing_not_a_blank_task(
    call: Call, sqlite_url: str, tmp_path: Path, suffix: str
) -> None:
    ledger = _write(tmp_path / f"台账{suffix}", _ledger_rows([("\u200b\u3164\u2800", "排查"), ("路灯损坏", "维修")]))
    r = call("--db", sqlite_url, "--as", "wangjun", "import", str(ledger))
    one_line(r, 2, "1 row(s) invalid", "nothing was imported")
    assert "row 2" in r.err and "the problem is missing" in r.err
    assert count(sqlite_url, "tasks") == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_imported_bidi_control_is_refused_with_the_row_field_and_code_point(
    call: Call, sqlite_url: str, tmp_path: Path, suffix: str
) -> None:
    ledger = _write(
        tmp_path / f"台账{suffix}",
        _ledger_rows([("路灯\u202e损坏", "排查"), ("井盖缺失", "1.排查\u2066 2.维修"), ("正常问题", "整改")]),
    )
    r = call("--db", sqlite_url, "--as", "wangjun", "import", str(ledger), "--dry-run")
    one_line(r, 2, "2 row(s) invalid")
    assert "row 2" in r.err and "U+202E" in r.err and "row 3" in r.err and "U+2066" in r.err
    assert count(sqlite_url, "tasks") == 0


def test_echoed_input_never_carries_a_live_bidi_control() -> None:
    from duban.engine.domain.textcheck import printable

    assert printable("a\u202eb\u2066c") == "a\\u202eb\\u2066c"


# --- 3. a workbook that unpacks past the cap ------------------------------------------------------------------


def _workbook(path: Path, rows: int = 3) -> Path:
    return _write(path, _ledger_rows([(f"问题{i}", "排查") for i in range(rows)]))


SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
SST_REL = (
    b'<Relationship Id="rId99" Target="sharedStrings.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
)


def _bomb(path: Path, unpacked_mb: int, *, part: str = "xl/sharedStrings.xml", lie_to: int | None = None) -> Path:
    """A real small workbook with one part replaced by ``unpacked_mb`` MB of XML (a few KB packed).

    With ``lie_to``, the zip's headers declare that part ``lie_to`` bytes long: its real size is only found by
    decompressing it.
    """
    import zipfile

    plain = _workbook(path.with_name("plain.xlsx"))
    item = b"<si><t>" + b"A" * 100 + b"</t></si>"  # many shared strings: openpyxl keeps each one in memory
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":  # openpyxl wrote inline strings: declare the table
                data = data.replace(b"</Types>", SST_TYPE + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", SST_REL + b"</Relationships>")
            if info.filename != part:
                dst.writestr(info, data)
        with dst.open(part, "w", force_zip64=True) as out:
            out.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            block = item * ((1 << 20) // len(item))
            for _ in range(unpacked_mb):
                out.write(block)
            out.write(b"</sst>")
    if lie_to is not None:
        packed = bytearray(path.read_bytes())
        name = part.encode()
        for signature, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central and local headers
            at = packed.find(signature)
            while at != -1:
                name_at = at + (46 if signature == b"PK\x01\x02" else 30)
                if packed[name_at : name_at + len(name)] == name:
                    packed[at + size_at : at + size_at + 4] = lie_to.to_bytes(4, "little")
                at = packed.find(signature, at + 4)
        path.write_bytes(bytes(packed))
    return path


def test_a_workbook_that_unpacks_past_the_cap_is_refused_before_parsing(
    call: Call, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_IMPORT_MAX_UNPACKED_MB", "1")
    bomb = _bomb(tmp_path / "台账.xlsx", 5)
    assert bomb.stat().st_size < 100_000
    r = call("--db", sqlite_url, "--as", "wangjun", "import", str(bomb), "--dry-run")
    one_line(r, 2, str(bomb), "unpacks to 5 MB", "1 MB allowed", "DUBAN_IMPORT_MAX_UNPACKED_MB")
    zh = call("--lang", "zh", "--db", sqlite_url, "--as", "wangjun", "import", str(bomb))
    one_line(zh, 2, "超过上限 1 MB", "DUBAN_IMPORT_MAX_UNPACKED_MB")
    assert count(sqlite_url, "tasks") == 0
    # Under the cap, the same kind of file is read as usual.
    monkeypatch.setenv("DUBAN_IMPORT_MAX_UNPACKED_MB", "50")
    ok = call("--db", sqlite_url, "--as", "wangjun", "import", str(_workbook(tmp_path / "ok.xlsx")), "--dry-run")
    assert ok.code == 0, ok.err


def test_a_workbook_whose_zip_lies_about_its_sizes_is_refused_too(
    call: Call, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_IMPORT_MAX_UNPACKED_MB", "1")
    liar = _bomb(tmp_path / "台账.xlsx", 5, part="xl/worksheets/sheet1.xml", lie_to=2_000)
    import zipfile

    with zipfile.ZipFile(liar) as archive:
        assert sum(i.file_size for i in archive.infolist()) < 1 << 20  # the declared sizes pass the cap
    r = call("--db", sqlite_url, "--as", "wangjun", "import", str(liar), "--dry-run")
    one_line(r, 2, str(liar))
    assert count(sqlite_url, "tasks") == 0


def test_the_bounded_stream_stops_a_part_that_unpacks_past_what_it_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line of defence on its own: a reader of zips that trusted no declared size is still stopped."""
    import copy
    import zipfile

    from duban.engine.domain.errors import BadFile
    from duban.engine.ledger.reader import check_unpacked_size

    bomb = _bomb(tmp_path / "台账.xlsx", 5)
    infolist, open_part = zipfile.ZipFile.infolist, zipfile.ZipFile.open

    def understated(self: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
        lies = [copy.copy(info) for info in infolist(self)]
        for info in lies:
            info.file_size = 0
        return lies

    def by_name(self: zipfile.ZipFile, name: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        return open_part(self, name.filename if isinstance(name, zipfile.ZipInfo) else name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "infolist", understated)
    monkeypatch.setattr(zipfile.ZipFile, "open", by_name)
    with pytest.raises(BadFile) as refused:
        check_unpacked_size(bomb, 1 << 20)
    assert "unpacks to more than the 1 MB allowed (its zip headers understate it)" in refused.value.render("en")


def test_a_default_cap_bomb_is_refused_in_little_memory_and_time(
    call: Call, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    import tracemalloc

    monkeypatch.delenv("DUBAN_IMPORT_MAX_UNPACKED_MB", raising=False)
    bomb = _bomb(tmp_path / "台账.xlsx", 260)
    tracemalloc.start()
    started = time.process_time()
    try:
        r = call("--db", sqlite_url, "--as", "wangjun", "import", str(bomb), "--dry-run")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_line(r, 2, "unpacks to 260 MB", "200 MB allowed")
    assert peak < 40 << 20, peak
    assert time.process_time() - started < 20  # CPU, not wall: a busy machine must not fail it


@pytest.mark.parametrize("value", ["lots", "0", "-5"])
def test_a_bad_cap_setting_is_refused_with_its_name(
    call: Call, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DUBAN_IMPORT_MAX_UNPACKED_MB", value)
    r = call("--db", sqlite_url, "--as", "wangjun", "import", str(_workbook(tmp_path / "ok.xlsx")), "--dry-run")
    one_line(r, 2, "DUBAN_IMPORT_MAX_UNPACKED_MB", "positive number of megabytes")


def test_a_dry_run_over_a_big_workbook_reports_progress_and_writes_nothing(
    sqlite_app: App, sqlite_url: str, tmp_path: Path
) -> None:
    """The dry run streams the rows with the same progress reports as an import; an unsized sheet counts rows."""
    import io

    from openpyxl import Workbook
    from rich.console import Console

    from duban.cli.context import Ctx
    from duban.cli.ledger import _Bar
    from duban.engine.config.settings import Settings
    from duban.engine.services.ledger_import import ImportOptions, import_ledger

    path = tmp_path / "大台账.xlsx"
    wb = Workbook(write_only=True)  # records no sheet size, as some exporters do
    ws = wb.create_sheet("台账")
    for row in _ledger_rows([(f"第{i}号问题", "排查") for i in range(1, 2001)]):
        ws.append(row)
    wb.save(path)
    bar = _Bar(Ctx(settings=Settings(database_url=sqlite_url), lang="en"))
    bar.console, bar.enabled = Console(file=io.StringIO(), force_terminal=True, width=120), True
    calls: list[tuple[str, int, int | None]] = []
    descriptions: list[str] = []

    def progress(phase: str, done: int, total: int | None) -> None:
        calls.append((phase, done, total))
        bar(phase, done, total)
        if bar.progress is not None:
            descriptions.extend(t.description for t in bar.progress.tasks)

    try:
        result = import_ledger(sqlite_app, "wangjun", path, ImportOptions(dry_run=True, progress=progress))
    finally:
        bar.stop()
    assert result.dry_run and result.imported == 2000 and count(sqlite_url, "tasks") == 0
    reads = [done for phase, done, _ in calls if phase == "read"]
    assert len(reads) >= 4 and reads == sorted(reads) and reads[0] < reads[-1]
    assert not [c for c in calls if c[0] == "write"]
    assert any("rows so far" in d for d in descriptions), descriptions
