"""Injected time.

Deadlines, audit events and the demo's simulated weeks all need "now"; reading
it ad hoc would make them untestable, so every service is handed a Clock.
Instants are timezone-aware UTC; the configured zone is only for showing them
and for turning calendar dates into instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput
from .text import Bilingual

DEFAULT_ZONE = "Asia/Shanghai"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until told to move: for tests and the demo's simulated weeks."""

    instant: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 1, 0, tzinfo=UTC))

    def __post_init__(self) -> None:
        self.instant = ensure_utc(self.instant)

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant += delta

    def set(self, instant: datetime) -> None:
        self.instant = ensure_utc(instant)


def ensure_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: duban keeps only timezone-aware instants")
    return instant.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            what=Bilingual("时区", "time zone"),
            detail=Bilingual(
                f"'{name}' 不是 IANA 时区名；请写作 Asia/Shanghai 这样的名称",
                f"'{name}' is not an IANA zone such as Asia/Shanghai",
            ),
        ) from None


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """An ISO date or date-time from a user; a naive one is read in the configured zone."""
    try:
        value = datetime.fromisoformat(text.strip())
        if not 2000 <= value.year <= 2100:
            raise ValueError
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            what=Bilingual("时间", "time"),
            detail=Bilingual(
                f"'{text}' 不是日期或时间；请写作 2026-06-30 或 2026-06-30T09:00 这样的格式（年份在 2000–2100 之间）",
                f"'{text}' is not an ISO date or time such as 2026-06-30 or 2026-06-30T09:00",
            ),
        ) from None


def parse_date(text: str) -> date:
    """A day between 2000 and 2100: arithmetic on periods and instants near year 1 or 9999 would overflow."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            what=Bilingual("日期", "date"),
            detail=Bilingual(
                f"'{text}' 不是日期；请写作 2026-06-30 这样的格式", f"'{text}' is not a date such as 2026-06-30"
            ),
        ) from None
    if not 2000 <= day.year <= 2100:
        raise InvalidInput(
            what=Bilingual("日期", "date"),
            detail=Bilingual(
                f"'{text}' 不在本系统记录的 2000–2100 年之内",
                f"'{text}' is outside the years 2000–2100 that duban keeps",
            ),
        )
    return day
