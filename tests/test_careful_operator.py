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

from .conftest import Result

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

    monkeypatch.setattr("engine.services.workspace.open_workspace", full_disk)
    monkeypatch.setattr("cli.context.open_workspace", full_disk)
    one_line(call("--db", sqlite_url, "list"), 2, "/var/lib/duban/x", "No space left on device")
