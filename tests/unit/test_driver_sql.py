"""How hot-path SQL reaches the driver: by position on SQLite, by name on PostgreSQL, the same values bound."""

from __future__ import annotations

import sqlite3

import duban.engine.persistence.db  # noqa: F401  (registers the adapter for None)
from duban.engine.persistence.sql import bound, for_dialect


def test_sqlite_binds_by_position_in_the_order_of_the_names() -> None:
    sql, params = bound(
        "SELECT :b, :a, :b WHERE x = :a_2 AND y::text = 'a' AND z = :c", "sqlite", {"a": 1, "b": 2, "a_2": 3, "c": None}
    )
    assert sql == "SELECT ?, ?, ? WHERE x = ? AND y::text = 'a' AND z = ?"
    assert params == (2, 1, 2, 3, None)


def test_postgresql_keeps_its_names() -> None:
    values = {"a": 1}
    assert bound("SELECT :a", "postgresql", values) == (for_dialect("SELECT :a", "postgresql"), values)
    assert for_dialect("SELECT :a", "postgresql") == "SELECT %(a)s"


def test_the_values_arrive_as_they_did_by_name() -> None:
    conn = sqlite3.connect(":memory:")
    statement = "SELECT :s, :i, :n, :n IS NULL, typeof(:n), :f, :blob"
    values = {"s": "整改", "i": 7, "n": None, "f": 1.5, "blob": b"\x00\x01"}
    assert conn.execute(*bound(statement, "sqlite", values)).fetchone() == conn.execute(statement, values).fetchone()
    assert conn.execute("SELECT ? IS NULL, typeof(?)", (None, None)).fetchone() == (1, "null")
