"""An instant as UTC text to the microsecond: how the store and the event chain write it.

``datetime.isoformat`` and ``strftime`` were the dearest calls left on the firing path after the statements:
each formats its pieces through ``PyUnicode_FromFormat`` and works out the zone's offset again. One firing
writes the same instant (its ``now``) four or five times, so the last one written is kept, and the text is
formatted directly from the fields. The layout is exactly ``isoformat(" ", "microseconds")`` of the instant
in UTC without its offset (tests hold the two together).
"""

from __future__ import annotations

from datetime import UTC, datetime

_LAYOUT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
_last: tuple[datetime | None, str] = (None, "")


def utc_text(at: datetime) -> str:
    """``at`` in UTC as ``YYYY-MM-DD HH:MM:SS.ffffff`` (a naive instant is taken as local time, as astimezone does)."""
    global _last
    last = _last  # one read: another thread may replace it, never half of it
    if at is last[0]:
        return last[1]
    u = at if at.tzinfo is UTC else at.astimezone(UTC)
    text = _LAYOUT % (u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond)
    _last = (at, text)
    return text
