"""Opening a database: URLs, SQLite pragmas, write transactions, schema versions.

SQLite is tuned for a ledger that must survive a power cut: WAL with
synchronous=FULL, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for
every write transaction (in WAL mode a read that later upgrades to a write
fails with "database is locked" whatever the busy timeout; taking the write
lock up front makes writers queue instead).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ..domain.errors import StoreError
from ..domain.text import Bilingual


def sha256_hex(text: str) -> str:
    """The chain's step on SQLite, as PostgreSQL's sha256() computes it."""
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# Keep in step with migrations/versions (a test checks it against Alembic's head).
SCHEMA_HEAD = "0017"
KNOWN_REVISIONS = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0009",
    "0012",
    "0013",
    "0014",
    "0015",
    "0017",
)

BUSY_TIMEOUT_MS = 30_000
CACHE_KIB = 32_768
MMAP_BYTES = 256 * 1024 * 1024
WRITE_OPTION = "duban_write"


def normalise_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain path to a SQLite file."""
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{Path(value).expanduser()}"


class Database:
    def __init__(self, url: str, *, echo: bool = False, connect_args: dict[str, Any] | None = None) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise StoreError(
                db=url, detail=Bilingual("无法识别的数据库地址", "not a database URL or file path")
            ) from None
        self.dialect = parsed.get_backend_name()
        self.display = parsed.render_as_string(hide_password=True)
        if self.dialect == "sqlite":
            self.path: Path | None = Path(parsed.database) if parsed.database else None
            # Every unit of work ends in an explicit commit or rollback, so the pool's own reset is redundant work.
            self.engine = create_engine(self.url, echo=echo, connect_args=connect_args or {}, pool_reset_on_return=None)
            _tune_sqlite(self.engine)
        elif self.dialect == "postgresql":
            self.path = None
            self.engine = create_engine(
                self.url, echo=echo, pool_pre_ping=False, connect_args=connect_args or {}, pool_reset_on_return=None
            )
        else:
            raise StoreError(
                db=url, detail=Bilingual("仅支持 SQLite 与 PostgreSQL", "only SQLite and PostgreSQL are supported")
            )

    def exists(self) -> bool:
        return self.path is None or self.path.exists()

    def path_problem(self) -> Bilingual | None:
        """Why the SQLite file's path can never hold a database, or None when it could.

        SQLite only says "unable to open database file" or "disk I/O error" for
        these, and Python's mkdir says "File exists"; the operator needs to know
        which part of the path is wrong to fix it.
        """
        if self.path is None:
            return None
        path = self.path
        if path.is_dir():
            return Bilingual(
                "这是一个文件夹，不是数据库文件；请指定文件", "is a folder, not a database file; name a file"
            )
        if path.exists() and not path.is_file():
            return Bilingual(
                "不是普通文件（设备或管道），不能作为数据库；请指定普通文件",
                "is not a regular file (a device or a pipe); name a regular file",
            )
        for parent in path.absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    return Bilingual(
                        f"其上级 {parent} 是文件而不是文件夹；请换一个路径",
                        f"{parent} in its path is a file, not a folder; choose another path",
                    )
                break
        return None

    def prepare_file(self) -> None:
        """Make the SQLite file's folder, or refuse with a line naming what is in the way (for init)."""
        if self.path is None:
            return
        problem = self.path_problem()
        if problem is not None:
            raise StoreError(db=self.display, detail=problem)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StoreError(
                db=self.display,
                detail=Bilingual(
                    f"无法创建其所在文件夹 {self.path.parent}（{reason}）；请换一个可写的路径",
                    f"cannot create its folder {self.path.parent} ({reason}); choose a path duban may write to",
                ),
            ) from None

    def schema_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError as exc:
            raise self.unreachable(exc) from None

    def schema_revision_if_any(self) -> str | None:
        """The revision, or None for a database that does not exist yet or was never initialised."""
        if not self.exists() or (self.path is not None and self.path.is_dir()):
            return None
        try:
            return self.schema_revision()
        except StoreError:
            return None

    def check_schema(self) -> None:
        """Refuse to work on a database that is missing, uninitialised, older or newer than this code."""
        problem = self.path_problem()
        if problem is not None:
            raise StoreError(db=self.display, detail=problem)
        if not self.exists():
            raise StoreError(
                db=self.display,
                detail=Bilingual(
                    "文件不存在；先运行 'duban init --org 组织文件'", "no such file; run 'duban init --org FILE' first"
                ),
            )
        rev = self.schema_revision()
        if rev is None:
            raise StoreError(
                db=self.display,
                detail=Bilingual(
                    "尚未初始化；先运行 'duban init --org 组织文件'",
                    "not initialised; run 'duban init --org FILE' first",
                ),
            )
        if rev not in KNOWN_REVISIONS:
            raise StoreError(
                db=self.display,
                detail=Bilingual(
                    f"数据库结构版本 {rev} 比本程序新；请升级 duban",
                    f"its schema (revision {rev}) is newer than this duban knows; upgrade duban",
                ),
            )
        if rev != SCHEMA_HEAD:
            raise StoreError(
                db=self.display,
                detail=Bilingual(
                    f"数据库结构版本 {rev} 较旧；运行 'duban init' 升级",
                    f"schema revision {rev} is older; run 'duban init' to upgrade",
                ),
            )

    def foreign_tables(self) -> list[str]:
        """Tables in a database duban never initialised: adding ours beside them would mix two applications."""
        import sqlite3

        try:
            if self.path is not None:  # read-only: looking must not switch someone else's file to WAL
                if not self.path.exists() or self.path.stat().st_size == 0:
                    return []
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
                try:
                    rows = conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    )
                    return sorted(r[0] for r in rows)
                finally:
                    conn.close()
            with self.engine.connect() as pg:
                return sorted(inspect(pg).get_table_names())
        except Exception:  # noqa: BLE001 - unreadable: the upgrade that follows says why, in its own words
            return []

    def unreachable(self, exc: Exception) -> StoreError:
        problem = self.path_problem()
        if problem is not None:
            return StoreError(db=self.display, detail=problem)
        reason = (
            str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            if str(getattr(exc, "orig", exc)).strip()
            else type(exc).__name__
        )
        advice = _ADVICE.get(reason)
        if advice is not None:
            return StoreError(
                db=self.display,
                detail=Bilingual(f"无法打开（{reason}）；{advice.zh}", f"cannot open it ({reason}); {advice.en}"),
            )
        return StoreError(db=self.display, detail=Bilingual(f"无法打开（{reason}）", f"cannot open it ({reason})"))

    def dispose(self) -> None:
        self.engine.dispose()


# What to do about SQLite's commonest refusals to open a file (the reason is SQLite's own words).
_ADVICE = {
    "file is not a database": Bilingual(
        "这不是 duban 数据库；请检查 --db 或 DUBAN_DATABASE_URL",
        "it is not a duban database; check --db or DUBAN_DATABASE_URL",
    ),
    "database disk image is malformed": Bilingual(
        "数据库文件已损坏；请用 'duban restore 备份文件 --yes' 从备份恢复",
        "the file is damaged; restore a backup with 'duban restore BACKUP --yes'",
    ),
    "database is locked": Bilingual(
        "另一进程长时间占用写锁；请稍后重试，或找出占用它的进程",
        "another process has held its lock too long; try again later, or find that process",
    ),
}


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the sqlite3 module's implicit BEGIN is DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        # Reads of a large workspace (the web's pages at 100,000 tasks) come from memory, not a read() per page:
        # a 32 MB page cache per pooled connection, and the file mapped (reads only; writes still go through WAL).
        cur.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        cur.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        cur.close()
        dbapi_conn.create_function("duban_sha256", 1, sha256_hex, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: SQLAlchemy's statement pipeline here cost a third of a firing.
        write = conn.get_execution_options().get(WRITE_OPTION)
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
