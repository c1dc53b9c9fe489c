"""Column types that keep the storage rules in one place.

Instants are stored as UTC and come back timezone-aware; JSON is stored as
text so that SQLite and PostgreSQL hold the same bytes. The hot path writes
with the DBAPI directly and uses the same encodings (``encode_instant``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator

from .codec import decode_date, decode_instant, decode_json, encode_date, encode_instant, encode_json

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


__all__ = [
    "Date",
    "JSONText",
    "UTCDateTime",
    "encode_instant",
    "decode_instant",
    "encode_date",
    "decode_date",
    "encode_json",
    "decode_json",
]
