"""Backup and restore of a SQLite workspace; PostgreSQL is backed up with its own tools.

SQLite's online backup copies a consistent snapshot while others keep working
(WAL readers and writers are not stopped). A restore copies a checked backup
into the live file the same way, under the write lock, so a process that
opens the database sees either the old ledger or the restored one, never a
mixture. Evidence files are immutable and named by their hash: copying their
folder at any time is consistent.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..app import App
from ..domain.errors import BadFile, InvalidInput, StoreError
from ..domain.osreason import os_reason
from ..domain.text import Bilingual
from ..persistence.db import KNOWN_REVISIONS, SCHEMA_HEAD
from .workspace import init_workspace, open_workspace

PG_GUIDANCE = Bilingual(
    "PostgreSQL 数据库请用其自带工具备份和恢复：pg_dump -Fc -d 数据库名 -f duban.dump；恢复时在空数据库中执行 "
    "pg_restore -d 数据库名 duban.dump（再用 'duban init' 升级，用 'duban audit verify' 校验）",
    "on PostgreSQL use its own tools: pg_dump -Fc -d DBNAME -f duban.dump, and pg_restore -d DBNAME duban.dump "
    "into an empty database (then 'duban init' upgrades it and 'duban audit verify' checks it)",
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
        raise InvalidInput(what=Bilingual("备份", "backup"), detail=PG_GUIDANCE)
    return app.db.path


def _inspect(path: Path) -> BackupInfo:
    """A readable, intact duban database of a schema this code knows; else a clear refusal."""
    if not path.is_file():
        raise BadFile(path, Bilingual("文件不存在", "no such file"))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()
            if not ok or ok[0] != "ok":
                problem = ok[0] if ok else "no answer"
                raise BadFile(
                    path,
                    Bilingual(
                        f"已损坏（完整性检查不通过：“{problem}”）；请换一个备份",
                        f"is damaged ({problem}); use another backup",
                    ),
                )
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if not has_version:
                raise BadFile(
                    path,
                    Bilingual(
                        "是 SQLite 文件，但不是督办系统的数据库；请换一个备份",
                        "is an SQLite file but not a duban database",
                    ),
                )
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            tasks = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
            events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BadFile(
            path,
            Bilingual(f"不是数据库文件，或已损坏（“{exc}”）；请换一个备份", f"is not a database ({exc})"),
        ) from None
    if revision not in KNOWN_REVISIONS:
        raise BadFile(
            path,
            Bilingual(
                f"数据库结构版本为 {revision}，比本系统认识的版本新；请先升级督办系统",
                f"has schema revision {revision}, newer than this duban knows; upgrade duban",
            ),
        )
    return BackupInfo(path, path.stat().st_size, revision, tasks, events)


def backup(app: App, target: Path) -> BackupInfo:
    source = _sqlite_only(app)
    open_workspace(app)
    if target.exists():
        raise BadFile(
            target,
            Bilingual(
                "已存在；请另取文件名（备份从不覆盖已有文件）",
                "exists already; choose a new name (a backup never overwrites)",
            ),
        )
    if not target.parent.is_dir():
        raise BadFile(target, Bilingual("所在文件夹不存在；请先建好文件夹", "its folder does not exist"))
    partial = target.with_name(f".{target.name}.partial")
    try:
        src = sqlite3.connect(source)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        try:
            info = _inspect(partial)
        except BadFile:
            # The copy is page for page the live database: what is wrong with it is wrong with the source.
            raise StoreError(
                db=app.db.display,
                detail=Bilingual(
                    "数据库本身已损坏（完整性检查不通过），未写出备份；请用 'duban restore' 恢复较早的备份",
                    "the database itself is damaged (its integrity check fails), so no backup was written; "
                    "restore an earlier backup with 'duban restore'",
                ),
            ) from None
        partial.replace(target)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            db=app.db.display,
            detail=Bilingual(f"无法读取，未写出备份（{exc}）", f"cannot be read, so no backup was written ({exc})"),
        ) from None
    except sqlite3.Error as exc:
        raise BadFile(target, Bilingual(f"备份失败（“{exc}”）；未写出备份", f"the backup failed ({exc})")) from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(target, info.size, info.revision, info.tasks, info.events)


class TamperedBackup(BadFile):
    """A backup whose hash chains do not verify: restoring it would put a changed history in place."""

    exit_code = 8


@dataclass(frozen=True)
class Head:
    """Where a database's chain stands: its length (events and records), the last chain hash (None before 0004),
    and how many of its entries are events, which is what a person counts."""

    seq: int
    hash: str | None
    events: int = 0


@dataclass
class RestorePlan:
    """A backup checked in a temporary copy (upgraded, verified), ready to be put in place.

    Nothing live has been touched while a plan exists; ``apply_restore`` puts the
    checked copy in place, and ``discard`` removes the copy either way.
    """

    info: BackupInfo
    target: Path
    copy: Path
    backup_head: Head
    live_head: Head | None
    dropped: int  # events in the live ledger the backup does not have
    diverges: bool  # the backup's history is not the beginning of the live one

    @property
    def needs_confirmation(self) -> bool:
        """Replacing anything takes a yes, even a file that is not a database (it is kept beside, but still)."""
        return self.target.exists() and self.target.stat().st_size > 0

    def discard(self) -> None:
        shutil.rmtree(self.copy.parent, ignore_errors=True)

    def warning(self) -> Bilingual | None:
        """What replacing the live ledger with this backup loses, when it loses something."""
        if self.live_head is None:
            return None
        live, backup = self.live_head.events, self.backup_head.events
        if self.diverges:
            return Bilingual(
                f"备份的历史与现有台账不同（现有 {live} 条事件，备份 {backup} 条）；恢复将丢弃现有的全部 {live} 条事件",
                f"the backup's history is not the live ledger's (live: {live} events, backup: {backup}); "
                f"restoring drops all {live} live events",
            )
        if self.dropped > 0 or self.live_head.seq > self.backup_head.seq:
            return Bilingual(
                f"备份比现有台账旧：恢复将丢弃其后的 {self.dropped} 条事件及其他记录"
                f"（现有 {live} 条，备份 {backup} 条）",
                f"the backup is older than the live ledger: restoring drops the {self.dropped} events "
                f"written since, and any other records (live: {live} events, backup: {backup})",
            )
        return None


def _head(path: Path) -> Head | None:
    """The chain head of a SQLite duban database, read-only; None when it cannot be read (missing, empty, damaged)."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            events = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]) if "events" in tables else 0
            table = next((t for t in ("chain_head", "ledger_head") if t in tables), None)  # ledger_head before 0012
            if table is not None:
                row = conn.execute(f"SELECT seq, hash FROM {table} ORDER BY id LIMIT 1").fetchone()
                if row is not None:
                    return Head(int(row[0]), str(row[1]), events)
            if "events" in tables:
                return Head(events, None, events)
            return None
        finally:
            conn.close()
    except sqlite3.Error:
        return None


# The chain's columns were called ledger_seq/ledger_hash before schema 0012; a backup may be older.
_HASH_AT = {
    True: (
        "SELECT chain_hash FROM events WHERE chain_seq = ?",
        "SELECT chain_hash FROM records WHERE chain_seq = ?",
    ),
    False: (
        "SELECT ledger_hash FROM events WHERE ledger_seq = ?",
        "SELECT ledger_hash FROM records WHERE ledger_seq = ?",
    ),
}


def _hash_at(path: Path, chain_seq: int) -> str | None:
    """A database's chain hash after entry ``chain_seq`` (an event or a record), to tell an older copy of it from
    another history."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            in_events, in_records = _HASH_AT["chain_head" in tables]
            row = conn.execute(in_events, (chain_seq,)).fetchone()
            if row is None and "records" in tables:
                row = conn.execute(in_records, (chain_seq,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def prepare_restore(app: App, backup_file: Path) -> RestorePlan:
    """Check a backup without touching the live database.

    The backup is copied into a temporary folder beside the database, upgraded
    there if its schema is older, and its hash chains verified; a restore that
    put an edited history in place would make the chains' promise worthless.
    The two ledger heads say how many live events the backup would drop.
    """
    from . import audit  # the audit service imports much; only restore needs it here

    target = _sqlite_only(app)
    info = _inspect(backup_file)
    if target.exists() and backup_file.resolve() == target.resolve():
        raise InvalidInput(
            what=Bilingual("恢复", "restore"),
            detail=Bilingual("所给备份就是当前数据库本身；请给出另一个备份文件", "the backup is the database itself"),
        )
    try:
        folder = Path(tempfile.mkdtemp(prefix=".duban-restore-", dir=target.parent if target.parent.is_dir() else None))
    except OSError as exc:
        problem = os_reason(exc)
        raise BadFile(
            target.parent,
            Bilingual(
                f"无法在此建立临时副本（{problem.zh}）；请检查文件夹权限和磁盘空间",
                f"cannot make a temporary copy there ({problem.en})",
            ),
        ) from None
    copy = folder / "backup.db"
    try:
        try:
            src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
            dst = sqlite3.connect(copy)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        except sqlite3.Error as exc:
            raise BadFile(
                backup_file,
                Bilingual(f"无法复制出来校验（“{exc}”）；请换一个备份", f"cannot be copied for checking ({exc})"),
            ) from None
        checked = App.build(
            dataclasses.replace(app.settings, database_url=str(copy), evidence_dir=folder), clock=app.clock
        )
        try:
            if info.revision != SCHEMA_HEAD:
                init_workspace(checked)
            verdict = audit.verify(checked)
        finally:
            checked.close()
        if not verdict.ok:
            first = verdict.breaks[0]
            where = (f"{first.code} #{first.seq}" if first.code else "") + (
                f" (chain #{first.chain_seq})" if first.chain_seq else ""
            )
            where_zh = (f"{first.code} #{first.seq}" if first.code else "") + (
                f"（哈希链第 {first.chain_seq} 条）" if first.chain_seq else ""
            )
            more = len(verdict.breaks) - 1
            raise TamperedBackup(
                backup_file,
                Bilingual(
                    f"历史记录校验不通过，首处断点 {where_zh.strip()}：{first.said('zh')}"
                    + (f"（另有 {more} 处）" if more else "")
                    + "；未恢复，现有数据库未改动；请换一个备份",
                    f"its history does not verify; first break at {where.strip()}: {first.what}"
                    + (f" (and {more} more)" if more else "")
                    + "; nothing was restored and the database is as it was; use another backup",
                ),
            )
        backup_head = _head(copy) or Head(0, None)
        live_head = _head(target)
        dropped, diverges = 0, False
        if live_head is not None:
            dropped = max(live_head.events - backup_head.events, 0)
            common = min(live_head.seq, backup_head.seq)  # both chains must agree up to the shorter one's end
            if common > 0 and live_head.hash is not None:
                at_live, at_backup = _hash_at(target, common), _hash_at(copy, common)
                diverges = at_live is not None and at_backup is not None and at_live != at_backup
            if diverges:
                dropped = live_head.events
        return RestorePlan(info, target, copy, backup_head, live_head, dropped, diverges)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _replaced_name(app: App, target: Path) -> Path:
    """``duban.db.replaced-20261201T221500`` beside the database, never an existing name."""
    stamp = app.clock.now().astimezone(app.tz).strftime("%Y%m%dT%H%M%S")
    candidate = target.with_name(f"{target.name}.replaced-{stamp}")
    n = 2
    while candidate.exists():
        candidate = target.with_name(f"{target.name}.replaced-{stamp}-{n}")
        n += 1
    return candidate


def apply_restore(app: App, plan: RestorePlan) -> Path | None:
    """Keep the live database beside it, then copy the checked backup in under the write lock.

    Returns where the replaced database was kept (None when there was none).
    The copy kept is taken with SQLite's backup API, so it holds every
    committed write, the WAL's included; commands that commit between that
    copy and the restore (a few milliseconds) are in neither, so stop the
    beat and workers before restoring a busy workspace.
    """
    target = plan.target
    app.db.dispose()
    kept: Path | None = None
    live_is_a_database = True
    if target.exists() and target.stat().st_size > 0:
        kept = _replaced_name(app, target)
        try:
            live = sqlite3.connect(f"file:{target}?mode=ro", uri=True, timeout=30)
            out = sqlite3.connect(kept)
            try:
                live.backup(out)
            finally:
                out.close()
                live.close()
        except sqlite3.DatabaseError:
            # Not a database (or too damaged to read): restoring is what it needs; keep its bytes as they are.
            live_is_a_database = False
            kept.unlink(missing_ok=True)
            try:
                for suffix in ("", "-wal"):
                    if Path(f"{target}{suffix}").exists():
                        shutil.copy2(f"{target}{suffix}", f"{kept}{suffix}")
            except OSError as exc:
                problem = os_reason(exc)
                raise BadFile(
                    target,
                    Bilingual(
                        f"恢复前无法留存其副本（{problem.zh}）；未恢复，现有数据库未改动",
                        f"cannot keep a copy of it before the restore ({problem.en}); nothing was restored",
                    ),
                ) from None
        except sqlite3.Error as exc:
            kept.unlink(missing_ok=True)
            raise BadFile(
                target,
                Bilingual(
                    f"恢复前无法留存其副本（“{exc}”）；未恢复，现有数据库未改动",
                    f"cannot keep a copy of it before the restore ({exc}); nothing was restored",
                ),
            ) from None
    try:
        if live_is_a_database:
            src = sqlite3.connect(f"file:{plan.copy}?mode=ro", uri=True)
            dst = sqlite3.connect(target, timeout=30)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:  # nobody can be using a file that is not a database: put the checked copy in its place whole
            incoming = target.with_name(f".{target.name}.restoring")
            src = sqlite3.connect(f"file:{plan.copy}?mode=ro", uri=True)
            dst = sqlite3.connect(incoming)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
            for suffix in ("-wal", "-shm"):  # they belonged to the file being replaced (kept beside it)
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            incoming.replace(target)
    except (sqlite3.Error, OSError) as exc:
        raise BadFile(
            target,
            Bilingual(
                f"恢复失败（“{exc}”）；现有数据库未改动", f"the restore failed ({exc}); the database is as it was"
            ),
        ) from None
    finally:
        plan.discard()
    open_workspace(app)
    return kept
