"""`duban backup` and `duban restore`: a consistent copy taken while others work, and a checked way back."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES


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


# --- restore as a careful operator wants it --------------------------------------------------------------


def _one_line(r, status: int, *phrases: str) -> str:  # type: ignore[no-untyped-def]
    """The documented status and one error line (warnings and notes aside) holding each phrase."""
    assert r.code == status, (r.code, r.err)
    errors = [line for line in r.err.splitlines() if "error" in line or "错误" in line]
    assert len(errors) == 1 and "Traceback" not in r.err, r.err
    for phrase in phrases:
        assert phrase in errors[0], (phrase, errors[0])
    return errors[0]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".duban-restore-") or ".replaced-" in p.name)


def _tamper(db: Path, code: str) -> None:
    """Play the file's owner: take the append-only guard off and edit one event's comment."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_append_only_update")
    conn.execute(
        "UPDATE events SET comment = '改过' WHERE task_id = (SELECT id FROM tasks WHERE code = ?) AND seq = 1", (code,)
    )
    conn.commit()
    conn.close()


def test_a_tampered_backup_is_refused_before_anything_is_replaced(workspace: Path, call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "backup.db"
    assert call("--db", str(workspace), "backup", str(copy)).code == 0
    _tamper(copy, "ZG-2026-0002")
    assert call("--db", str(workspace), "--as", "fenglei", "start", "ZG-2026-0001").code == 0
    before = workspace.read_bytes()
    r = call("--db", str(workspace), "restore", str(copy), "--yes")
    _one_line(r, 8, str(copy), "ZG-2026-0002 #1", "does not verify")
    assert workspace.read_bytes() == before and _leftovers(tmp_path) == []
    zh = call("--lang", "zh", "--db", str(workspace), "restore", str(copy), "--yes")
    _one_line(zh, 8, "历史记录校验不通过", "ZG-2026-0002 #1")


def test_an_older_backup_says_how_many_events_it_drops_and_the_replaced_one_is_kept(  # type: ignore[no-untyped-def]
    workspace: Path, call, tmp_path: Path
) -> None:
    copy = tmp_path / "backup.db"
    assert call("--db", str(workspace), "backup", str(copy)).code == 0
    assert call("--db", str(workspace), "--as", "fenglei", "start", "ZG-2026-0001").code == 0
    assert call("--db", str(workspace), "--as", "fenglei", "start", "ZG-2026-0002").code == 0
    newer = states(workspace)
    r = call("--db", str(workspace), "restore", str(copy))
    _one_line(r, 2, "--yes", "drops the 2 events", "live: 5 events, backup: 3")
    assert states(workspace) == newer and _leftovers(tmp_path) == []
    r = call("--db", str(workspace), "restore", str(copy), "--yes")
    assert r.code == 0, r.err
    assert "warning" in r.err and "drops the 2 events" in r.err
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("w.db.replaced-")]
    assert len(kept) == 1 and str(kept[0].name) in r.out
    assert states(kept[0]) == newer  # the events the restore dropped are not lost: they are in the copy kept
    assert [s for _, s, _ in states(workspace)] == ["assigned"] * 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".duban-restore-")]
    verified = call("--db", str(kept[0]), "audit", "verify", "--json")
    assert verified.code == 0 and verified.json()["events"] == 5


def test_a_backup_from_another_history_says_it_drops_every_live_event(call, tmp_path: Path, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other.db"
    assert call("--db", str(other), "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    for title in ("甲", "乙", "丙", "丁"):
        assert call("--db", str(other), "--as", "wangjun", "assign", "--title", title, "--unit", "社会事务科",
                    "--leader", "zhangwei").code == 0  # fmt: skip
    copy = tmp_path / "other-backup.db"
    assert call("--db", str(other), "backup", str(copy)).code == 0
    r = call("--db", str(workspace), "restore", str(copy))
    _one_line(r, 2, "is not the live ledger's", "drops all 3 live events")


def test_a_restore_into_a_new_file_needs_no_yes(call, tmp_path: Path, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "backup.db"
    assert call("--db", str(workspace), "backup", str(copy)).code == 0
    fresh = tmp_path / "fresh.db"
    r = call("--db", str(fresh), "restore", str(copy), "--json")
    assert r.code == 0, r.err
    assert r.json()["replaced_kept_at"] is None and states(fresh) == states(workspace)


def test_a_backup_of_an_older_schema_is_upgraded_and_verified_in_a_copy(call, tmp_path: Path, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from duban.engine.persistence.db import SCHEMA_HEAD, Database
    from duban.engine.persistence.migrate import alembic_config

    old = tmp_path / "old.db"
    db = Database(str(old))
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    db.dispose()
    before = old.read_bytes()
    r = call("--db", str(workspace), "restore", str(old), "--yes")
    assert r.code == 0, r.err
    assert old.read_bytes() == before  # the backup itself is never upgraded in place
    live = sqlite3.connect(workspace)
    assert live.execute("SELECT version_num FROM alembic_version").fetchone()[0] == SCHEMA_HEAD
    live.close()
    from duban.engine.app import App
    from duban.engine.config.settings import Settings
    from duban.engine.services.audit import verify

    restored = App.build(Settings(database_url=str(workspace)))
    try:
        assert verify(restored).ok  # (an empty old workspace has nobody who may run 'audit verify' by hand)
    finally:
        restored.close()


class _Terminal:
    """A stdin that says it is a terminal and answers the prompt."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def isatty(self) -> bool:
        return True

    def readline(self, *_: object) -> str:
        return self.answer

    def read(self, *_: object) -> str:
        return self.answer


@pytest.mark.parametrize("answer", ["n\n", "y\n"])
def test_on_a_terminal_restore_asks_before_dropping_events(  # type: ignore[no-untyped-def]
    workspace: Path, call, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    copy = tmp_path / "backup.db"
    assert call("--db", str(workspace), "backup", str(copy)).code == 0
    assert call("--db", str(workspace), "--as", "fenglei", "start", "ZG-2026-0001").code == 0
    newer = states(workspace)
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    monkeypatch.setattr("click.termui.visible_prompt_func", lambda _prompt="": answer.strip())
    r = call("--db", str(workspace), "restore", str(copy))
    assert "drops the 1 events" in r.err
    if answer.startswith("n"):
        assert r.code == 1 and states(workspace) == newer
    else:
        assert r.code == 0, r.err and states(workspace) != newer


def test_backup_of_a_damaged_database_names_the_database(call, tmp_path: Path, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(workspace)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    conn.close()
    data = bytearray(workspace.read_bytes())
    data[(root - 1) * size : (root - 1) * size + 8] = b"\xff" * 8
    workspace.write_bytes(bytes(data))
    r = call("--db", str(workspace), "backup", str(tmp_path / "b.db"))
    _one_line(r, 7, str(workspace), "damaged", "no backup was written")
    assert not (tmp_path / "b.db").exists()


@pytest.mark.parametrize("live", ["text", "damaged page"])
def test_a_backup_restores_over_a_live_file_that_is_not_a_usable_database(  # type: ignore[no-untyped-def]
    workspace: Path, call, tmp_path: Path, live: str
) -> None:
    """The case restore exists for: the live file is garbage or damaged; it is kept as it was, and replaced."""
    copy = tmp_path / "backup.db"
    assert call("--db", str(workspace), "backup", str(copy)).code == 0
    good = states(workspace)
    conn = sqlite3.connect(workspace)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    conn.close()
    if live == "text":
        workspace.write_text("not a database any more", encoding="utf-8")
    else:
        data = bytearray(workspace.read_bytes())
        data[(root - 1) * size : (root - 1) * size + 8] = b"\xff" * 8
        workspace.write_bytes(bytes(data))
    broken = workspace.read_bytes()
    assert call("--db", str(workspace), "restore", str(copy)).code == 2  # replacing anything takes --yes
    r = call("--db", str(workspace), "restore", str(copy), "--yes")
    assert r.code == 0, r.err
    assert states(workspace) == good
    [kept] = [p for p in tmp_path.iterdir() if p.name.startswith("w.db.replaced-") and not p.name.endswith("-wal")]
    assert kept.read_bytes() == broken or live == "damaged page"
    assert call("--db", str(workspace), "audit", "verify").code == 0
