"""Opening a database: URLs, SQLite pragmas, write transactions, schema versions.

SQLite is tuned for a ledger that must survive a power cut: WAL with
synchronous=FULL, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for
every write transaction (in WAL mode a read that later upgrades to a write
fails with "database is locked" whatever the busy timeout; taking the write
lock up front makes writers queue instead).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote

from ..domain.errors import StoreError
from ..domain.text import Bilingual

if TYPE_CHECKING:  # SQLAlchemy loads only for the paths that use it (migrations, Core and ORM reads)
    from sqlalchemy import Connection, Engine


def sha256_hex(text: str) -> str:
    """The chain's step on SQLite, as PostgreSQL's sha256() computes it."""
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# Keep in step with migrations/versions (a test checks it against Alembic's head).
SCHEMA_HEAD = "0019"
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
    "0018",
    "0019",
)

BUSY_TIMEOUT_MS = 30_000
CACHE_KIB = 32_768
MMAP_BYTES = 256 * 1024 * 1024
WRITE_OPTION = "duban_write"
IDLE_CONNECTIONS = 5  # kept open between units of work, as SQLAlchemy's pool_size did


def normalise_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain path to a SQLite file."""
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def _plain_sqlite(url: str) -> str | None:
    """The file of a plain ``sqlite:///FILE`` URL, read as SQLAlchemy's make_url reads it; None for any other URL."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    return unquote(url[len("sqlite:///") :])


class Database:
    """One database: its settings, a small pool of driver connections, and SQLAlchemy only when asked for.

    A unit of work runs on a driver connection (``sqlite3`` or ``psycopg``) opened here with the same
    settings the SQLAlchemy engine gives its own (``_tune_connection``); a path that needs SQLAlchemy Core
    or the ORM gets a ``Connection`` on that very driver connection and transaction (``bound``). The engine
    (``engine``) is made on first use, for migrations, tests and tools that open their own connections.
    """

    def __init__(self, url: str, *, echo: bool = False, connect_args: dict[str, Any] | None = None) -> None:
        self.url = normalise_url(url)
        self._echo = echo
        self._connect_args = dict(connect_args or {})
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._local = threading.local()
        self._handoff: Any = None
        self._sa_conns: dict[int, Connection] = {}
        database = _plain_sqlite(self.url)
        if database is not None:
            self.dialect = "sqlite"
            self.display = "sqlite:///" + quote(database, safe=" +/")
            self.path: Path | None = Path(database) if database else None
            self._memory = database in ("", ":memory:")
            self._sqlite_file: str | None = ":memory:" if self._memory else os.path.abspath(database)
            return
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise StoreError(
                db=url, detail=Bilingual("无法识别的数据库地址", "not a database URL or file path")
            ) from None
        self.dialect = parsed.get_backend_name()
        self.display = parsed.render_as_string(hide_password=True)
        if self.dialect == "sqlite":
            self.path = Path(parsed.database) if parsed.database else None
            self._memory = parsed.database in (None, "", ":memory:")
            self._sqlite_file = None  # an unusual SQLite URL: the engine's dialect works out its arguments
        elif self.dialect == "postgresql":
            self.path = None
            self._memory = False
        else:
            raise StoreError(
                db=url, detail=Bilingual("仅支持 SQLite 与 PostgreSQL", "only SQLite and PostgreSQL are supported")
            )

    @cached_property
    def engine(self) -> Engine:
        """SQLAlchemy's engine, with its own pool, for migrations and for tools that open their own connections."""
        from sqlalchemy import create_engine

        if self.dialect == "sqlite":
            # An in-memory database exists once per connection: the engine works on the thread's own one.
            shared: dict[str, Any] = {"creator": lambda: _Shared(self.checkout())} if self._memory else {}
            # Every unit of work ends in an explicit commit or rollback, so the pool's own reset is redundant work.
            engine = create_engine(
                self.url, echo=self._echo, connect_args=self._connect_args, pool_reset_on_return=None, **shared
            )
            _tune_sqlite(engine)
            return engine
        return create_engine(
            self.url, echo=self._echo, pool_pre_ping=False, connect_args=self._connect_args, pool_reset_on_return=None
        )

    @cached_property
    def driver_error(self) -> type[Exception]:
        """The driver's base error class: what the hot path's statements raise."""
        if self.dialect == "sqlite":
            return sqlite3.Error
        import psycopg

        return psycopg.Error

    # --- driver connections: the units of work's own pool ---------------------------------------------------

    def _open(self) -> Any:
        """A new driver connection with every connect-time setting of the engine's connections."""
        if self.dialect == "sqlite" and self._sqlite_file is not None:
            # SQLAlchemy's pysqlite dialect passes a file database's absolute path, check_same_thread=False.
            args = {"check_same_thread": self._memory, **self._connect_args}
            conn = sqlite3.connect(self._sqlite_file, **args)
        else:
            dialect = self.engine.dialect
            cargs, cparams = dialect.create_connect_args(self.engine.url)
            conn = dialect.connect(*cargs, **{**cparams, **self._connect_args})
            hook = dialect.on_connect()
            if hook is not None and self.dialect == "postgresql":  # SQLite's own hook registers functions ours need not
                hook(conn)
        if self.dialect == "sqlite":
            try:
                _tune_connection(conn)
            except BaseException:
                conn.close()  # a file that is not a database: closing removes the -wal and -shm just made
                raise
        return conn

    def checkout(self) -> Any:
        """A driver connection for one unit of work (an in-memory database: the thread's only one)."""
        if self._memory:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._open()
            return conn
        with self._lock:
            if self._pid != os.getpid():  # a forked child must not share its parent's connections
                self._idle, self._sa_conns, self._pid = [], {}, os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._open()

    def checkin(self, conn: Any, *, broken: bool = False) -> None:
        """Back to the pool after its transaction ended, or closed when broken or the pool is full."""
        if self._memory and not broken:
            return
        if not broken and self.dialect == "postgresql" and (conn.closed or conn.broken):
            broken = True
        with self._lock:
            if not broken and len(self._idle) < IDLE_CONNECTIONS and self._pid == os.getpid():
                self._idle.append(conn)
                return
            bound = self._sa_conns.pop(id(conn), None)
        if self._memory:
            self._local.conn = None
        _close_quietly(bound, conn)

    def begin(self, conn: Any, *, write: bool) -> None:
        """Open the unit's transaction: SQLite's ``BEGIN IMMEDIATE`` for a writer (writers queue for the lock
        instead of failing when a read would upgrade), ``BEGIN`` for a reader; psycopg begins on its own."""
        if self.dialect == "sqlite":
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def bound(self, conn: Any) -> Connection:
        """A SQLAlchemy ``Connection`` on this driver connection, inside the transaction the unit began.

        One per driver connection, kept with it: SQLAlchemy never commits, rolls back or closes the driver
        connection (``_Held`` makes those no-ops); the unit of work ends the transaction on the driver.
        """
        found = self._sa_conns.get(id(conn))
        if found is None:
            with self._lock:
                self._handoff = _Held(conn)
                try:
                    found = self._bound_engine.connect()
                finally:
                    self._handoff = None
                self._sa_conns[id(conn)] = found
        return found

    def release_bound(self, conn: Any) -> bool:
        """End SQLAlchemy's view of the transaction (the driver's was ended by the unit); False: drop the connection."""
        found = self._sa_conns.get(id(conn))
        if found is None:
            return True
        if found.invalidated:
            return False
        found.rollback()  # a no-op on the driver: only SQLAlchemy's transaction state is reset
        if found.get_execution_options():  # set in place (yield_per: a server-side cursor): not for the next unit
            with self._lock:
                self._sa_conns.pop(id(conn), None)
            found.close()
        return True

    @cached_property
    def _bound_engine(self) -> Engine:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        # No hstore (duban's schema has none): looking it up needs psycopg's own Connection class, not a lent one.
        extra: dict[str, Any] = {"use_native_hstore": False} if self.dialect == "postgresql" else {}
        return create_engine(
            self.url,
            echo=self._echo,
            creator=lambda: self._handoff,
            poolclass=NullPool,
            pool_reset_on_return=None,
            **extra,
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
        """The Alembic revision the schema is at (None: never initialised), read on a pooled driver connection."""
        try:
            conn = self.checkout()
        except Exception as exc:
            if isinstance(exc, self.driver_error) or _is_sqlalchemy_error(exc):
                raise self.unreachable(exc) from None
            raise
        try:
            cur = conn.cursor()
            if self.dialect == "sqlite":
                cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
            else:  # as SQLAlchemy's has_table looks: in the schemas of the search path
                cur.execute("SELECT to_regclass('alembic_version')")
            found = cur.fetchone()
            if found is None or found[0] is None:
                revision = None
            else:
                cur.execute("SELECT version_num FROM alembic_version")
                row = cur.fetchone()
                revision = None if row is None else row[0]
            cur.close()
            conn.rollback()
        except Exception as exc:
            self.checkin(conn, broken=True)
            if isinstance(exc, self.driver_error):
                raise self.unreachable(exc) from None
            raise
        self.checkin(conn)
        return revision

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
            from sqlalchemy import inspect

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
        """Close every idle connection (a restore replaces the file under them) and the engine's pool."""
        with self._lock:
            idle, self._idle = self._idle, []
            bound = [self._sa_conns.pop(id(c), None) for c in idle]
        for b, conn in zip(bound, idle, strict=True):
            _close_quietly(b, conn)
        if self._memory and getattr(self._local, "conn", None) is not None:
            _close_quietly(self._sa_conns.pop(id(self._local.conn), None), self._local.conn)
            self._local.conn = None
        if "engine" in self.__dict__:
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


# sqlite3 binds str, int, float and bytes at once but sends None through its adapter lookup, which fails twice
# (two AttributeErrors formatted and dropped) before binding NULL: about a twentieth of a firing's CPU went
# there. An adapter registered for None is found at the first lookup and gives None back, which binds NULL as
# before; ``{}.get`` is a C callable that returns None for any key, so no Python frame runs per parameter.
sqlite3.register_adapter(type(None), cast(Callable[[None], None], {}.get))


def _tune_connection(dbapi_conn: Any) -> None:
    """What every SQLite connection is set to, whoever opens it (the units of work's pool or the engine)."""
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
    # Registered once per connection: registering a function expires the connection's prepared statements.
    dbapi_conn.create_function("duban_sha256", 1, sha256_hex, deterministic=True)


def _tune_sqlite(engine: Engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        _tune_connection(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: SQLAlchemy's statement pipeline here cost a third of a firing.
        write = conn.get_execution_options().get(WRITE_OPTION)
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


class _Held:
    """A driver connection lent to SQLAlchemy: the unit of work, not SQLAlchemy, ends its transaction and its life."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        object.__setattr__(self, "_conn", conn)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn, name, value)


class _Shared(_Held):
    """An in-memory database's only connection, lent to the engine: its transactions are the engine's own."""

    __slots__ = ()

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()


def _close_quietly(bound: Any, conn: Any) -> None:
    """Let a connection go: its SQLAlchemy view first (a no-op on the driver), then the driver connection."""
    for close in ((bound.close if bound is not None else None), conn.close):
        if close is not None:
            with contextlib.suppress(Exception):  # closing what is already broken: nothing more to do
                close()


def _is_sqlalchemy_error(exc: BaseException) -> bool:
    """A SQLAlchemy database error, looked up only if SQLAlchemy is already loaded."""
    import sys

    sa = sys.modules.get("sqlalchemy.exc")
    return sa is not None and isinstance(exc, sa.DBAPIError)
