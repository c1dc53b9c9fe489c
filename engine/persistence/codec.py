"""The storage rules of instants, days and JSON, for SQL run on the driver (no SQLAlchemy here).

Instants are stored as UTC (on SQLite as SQLAlchemy's DATETIME text, naive); days as ISO dates; JSON as
text with sorted keys, so SQLite and PostgreSQL hold the same bytes. ``types`` applies the same rules to
the SQLAlchemy columns.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from ..domain.instants import utc_text
from ..domain.jsontext import spaced


def encode_instant(value: datetime, dialect_name: str) -> object:
    if dialect_name == "sqlite":  # the SQLITE_INSTANT_FORMAT layout: the UTC isoformat without its "+00:00"
        return utc_text(value)
    return value.astimezone(UTC)


def decode_instant(value: object) -> datetime:
    if isinstance(value, str):
        if len(value) == 26 and value[19] == "." and value[20:].isdigit():
            # the layout SQLite holds (naive UTC): read as UTC at once, cheaper than reading it then replacing
            return datetime.fromisoformat(value + "+00:00")
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
    """``json.dumps(value, ensure_ascii=False, sort_keys=True)``, written the faster way (``jsontext.spaced``)."""
    return None if value is None else spaced(value)


def decode_json(value: Any) -> Any:
    """A JSON column as the driver hands it back (text), as ``JSONText`` would read it."""
    return json.loads(value) if isinstance(value, str) else value
