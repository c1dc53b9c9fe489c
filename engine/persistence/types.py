"""Column types that keep the storage rules in one place.

Instants are stored as UTC and come back timezone-aware; JSON is stored as
text so that SQLite and PostgreSQL hold the same bytes. The hot path writes
with the DBAPI directly and uses the same encodings (``encode_instant``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator

SQLITE_INSTANT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's SQLite DATETIME stores


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


def encode_instant(value: datetime, dialect_name: str) -> object:
    value = value.astimezone(UTC)
    if dialect_name == "sqlite":  # the SQLITE_INSTANT_FORMAT layout, without strftime's cost
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def decode_instant(value: object) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encode_date(value: date | None, dialect_name: str) -> object:
    if value is None:
        return None
    return value.isoformat() if dialect_name == "sqlite" else value


def decode_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value)
    assert isinstance(value, date)
    return value


def encode_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


__all__ = [
    "Date",
    "JSONText",
    "UTCDateTime",
    "encode_instant",
    "decode_instant",
    "encode_date",
    "decode_date",
    "encode_json",
]
