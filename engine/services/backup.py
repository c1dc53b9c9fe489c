"""Backup and restore of a SQLite workspace; PostgreSQL is backed up with its own tools.

SQLite's online backup copies a consistent snapshot while others keep working
(WAL readers and writers are not stopped). A restore copies a checked backup
into the live file the same way, under the write lock, so a process that
opens the database sees either the old ledger or the restored one, never a
mixture. Evidence files are immutable and named by their hash: copying their
folder at any time is consistent.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..app import App
from ..domain.errors import BadFile, InvalidInput
from ..persistence.db import KNOWN_REVISIONS, SCHEMA_HEAD
from .workspace import init_workspace, open_workspace

PG_GUIDANCE = (
    "on PostgreSQL use its own tools: pg_dump -Fc -d DBNAME -f duban.dump, and pg_restore -d DBNAME duban.dump "
    "into an empty database (then 'duban init' upgrades it and 'duban audit verify' checks it)"
)


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    revision: str
    tasks: int
    events: int


def _sqlite_only(app: App) -> Path:
    if app.db.dialect != "sqlite" or app.db.path is None:
        raise InvalidInput(what="backup", detail=PG_GUIDANCE)
    return app.db.path


def _inspect(path: Path) -> BackupInfo:
    """A readable, intact duban database of a schema this code knows; else a clear refusal."""
    if not path.is_file():
        raise BadFile(path, "no such file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()
            if not ok or ok[0] != "ok":
                raise BadFile(path, f"is damaged ({ok[0] if ok else 'no answer'}); use another backup")
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if not has_version:
                raise BadFile(path, "is an SQLite file but not a duban database")
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            tasks = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
            events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BadFile(path, f"is not a database ({exc})") from None
    if revision not in KNOWN_REVISIONS:
        raise BadFile(path, f"has schema revision {revision}, newer than this duban knows; upgrade duban")
    return BackupInfo(path, path.stat().st_size, revision, tasks, events)


def backup(app: App, target: Path) -> BackupInfo:
    source = _sqlite_only(app)
    open_workspace(app)
    if target.exists():
        raise BadFile(target, "exists already; choose a new name (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BadFile(target, "its folder does not exist")
    partial = target.with_name(f".{target.name}.partial")
    try:
        src = sqlite3.connect(source)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        info = _inspect(partial)
        partial.replace(target)
    except sqlite3.Error as exc:
        raise BadFile(target, f"the backup failed ({exc})") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(target, info.size, info.revision, info.tasks, info.events)


def restore(app: App, backup_file: Path, *, replace: bool) -> BackupInfo:
    """Copy a checked backup over the workspace's database, then bring its schema up to this code's."""
    target = _sqlite_only(app)
    info = _inspect(backup_file)
    if backup_file.resolve() == target.resolve():
        raise InvalidInput(what="restore", detail="the backup is the database itself")
    if target.exists() and target.stat().st_size > 0 and not replace:
        raise InvalidInput(
            what="restore", detail=f"{target} exists; add --yes to replace it with the backup ({info.tasks} tasks)"
        )
    app.db.dispose()
    try:
        src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        raise BadFile(target, f"the restore failed ({exc}); the database is as it was") from None
    if info.revision != SCHEMA_HEAD:
        init_workspace(app)
    open_workspace(app)
    return info
