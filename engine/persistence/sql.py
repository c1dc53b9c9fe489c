"""Prepared SQL for the hot path, written once with :named parameters.

The firing path talks to the DBAPI cursor directly: measured here, SQLAlchemy
Core's per-statement machinery cost more than the SQLite commit itself, which
would have put the engine under half the raw rate. Statements are written in
the sqlite3 named style and translated once for psycopg's pyformat style.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from .codec import encode_instant

_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=256)
def for_dialect(statement: str, dialect: str) -> str:
    if dialect == "sqlite":
        return statement
    if "%" in statement:
        raise ValueError("a literal % in hot-path SQL would need escaping for psycopg")
    return _NAMED.sub(r"%(\1)s", statement)


@lru_cache(maxsize=256)
def positional(statement: str) -> tuple[str, tuple[str, ...]]:
    """The statement with ``?`` for each :name, and the names in order (a name used twice is bound twice)."""
    return _NAMED.sub("?", statement), tuple(_NAMED.findall(statement))


def bound(statement: str, dialect: str, params: dict[str, Any]) -> tuple[str, Any]:
    """The statement and its parameters as the driver binds them fastest.

    sqlite3 binds named parameters one by one, releasing and retaking the GIL and making a string of each
    name as it goes: six microseconds more than by position for an 18-column insert, more than the insert
    itself on tmpfs. On SQLite the :names become ``?`` and the values a tuple in their order (both worked out
    once per statement); psycopg gets its pyformat names, as before.
    """
    if dialect == "sqlite":
        sql, names = positional(statement)
        return sql, tuple([params[n] for n in names])
    return for_dialect(statement, dialect), params


class DriverStatements:
    """A repository that runs hot-path SQL on a cursor of the unit of work's driver connection."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self.conn = conn  # the DBAPI connection (sqlite3 or psycopg)
        self.dialect = dialect

    def _run(self, statement: str, params: dict[str, Any]) -> Any:
        cur = self.conn.cursor()
        cur.execute(*bound(statement, self.dialect, params))
        return cur

    def _at(self, value: datetime | None) -> object:
        return None if value is None else encode_instant(value, self.dialect)
