"""`duban backup` and `duban restore`: a consistent copy taken while others work, and a checked way back."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from .conftest import EXAMPLES


@pytest.fixture
def workspace(tmp_path: Path, call) -> Path:  # type: ignore[no-untyped-def]
    db = tmp_path / "w.db"
    assert call("--db", str(db), "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    for i in range(3):
        r = call("--db", str(db), "--as", "wangjun", "assign", "--title", f"问题{i}", "--unit", "社会事务科",
                 "--leader", "zhangwei", "--deadline", "2026-12-31")  # fmt: skip
        assert r.code == 0, r.err
    return db


def states(db: Path) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT code, state, version FROM tasks ORDER BY code").fetchall()
    finally:
        conn.close()


def test_backup_then_restore_brings_the_ledger_back(workspace: Path, call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = states(workspace)
    copy = tmp_path / "backup.db"
    r = call("--db", str(workspace), "backup", str(copy), "--json")
    assert r.code == 0, r.err and r.json()["tasks"] == 3
    assert call("--db", str(workspace), "--as", "fenglei", "start", "ZG-2026-0001").code == 0
    assert states(workspace) != before
    refused = call("--db", str(workspace), "restore", str(copy))
    assert refused.code == 2 and "--yes" in refused.err
    r = call("--db", str(workspace), "restore", str(copy), "--yes")
    assert r.code == 0, r.err
    assert states(workspace) == before
    assert call("--db", str(workspace), "show", "ZG-2026-0001", "--json").json()["state"] == "assigned"
    verified = call("--db", str(workspace), "audit", "verify", "--json")
    assert verified.code == 0 and verified.json()["ok"] is True and verified.json()["events"] == 3


def test_a_backup_taken_while_another_process_writes_is_consistent(workspace: Path, tmp_path: Path, call) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(workspace, timeout=30)
        conn.isolation_level = None
        n = 0
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE tasks SET title = ? WHERE code = 'ZG-2026-0002'", (f"改{n}",))
            conn.execute("COMMIT")
            n += 1
        conn.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        for i in range(3):
            assert call("--db", str(workspace), "backup", str(tmp_path / f"b{i}.db")).code == 0
    finally:
        stop.set()
        t.join()
    for i in range(3):
        conn = sqlite3.connect(tmp_path / f"b{i}.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


@pytest.mark.parametrize("kind", ["missing", "text", "truncated", "other sqlite", "newer"])
def test_a_bad_backup_is_refused_and_nothing_changes(workspace: Path, call, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.db"
    if kind == "text":
        bad.write_text("序号,问题\n1,路灯\n", encoding="utf-8")
    elif kind == "truncated":
        assert call("--db", str(workspace), "backup", str(tmp_path / "full.db")).code == 0
        bad.write_bytes((tmp_path / "full.db").read_bytes()[:6000])
    elif kind == "other sqlite":
        sqlite3.connect(bad).execute("CREATE TABLE x (y)").connection.commit()
    elif kind == "newer":
        assert call("--db", str(workspace), "backup", str(bad)).code == 0
        conn = sqlite3.connect(bad)
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
        conn.commit()
        conn.close()
    before = states(workspace)
    r = call("--db", str(workspace), "restore", str(bad), "--yes")
    assert r.code == 2, r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert states(workspace) == before


def test_backup_never_overwrites(workspace: Path, call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    existing = tmp_path / "keep.db"
    existing.write_bytes(b"precious")
    r = call("--db", str(workspace), "backup", str(existing))
    assert r.code == 2 and "exists" in r.err and existing.read_bytes() == b"precious"


def test_postgres_is_pointed_to_pg_dump(call, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    r = call("--db", pg_url, "backup", "x.db")
    assert r.code == 2 and "pg_dump" in r.err
