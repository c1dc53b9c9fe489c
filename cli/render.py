"""Turning service views into tables, text or JSON; no engine work happens here."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from duban.engine.domain.text import Bilingual

from .context import Ctx

# Piped output (tests, files, less -S) gets a wide page instead of rich's 80 columns.
console = Console(soft_wrap=False, highlight=False, width=None if sys.stdout.isatty() else 160)


def emit_json(value: Any, tz: ZoneInfo | None = None) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default(tz)) + "\n")


def emit_json_stream(items: Iterable[Any], tz: ZoneInfo | None = None) -> int:
    """A JSON array written item by item, so a million rows never sit in memory at once; returns how many."""
    encode = json.JSONEncoder(ensure_ascii=False, default=_json_default(tz)).encode  # one encoder, not one a row
    out = sys.stdout
    pending: list[str] = []  # written 500 items at a time: one write a row costs as much as encoding it
    n = 0
    out.write("[")
    for item in items:
        pending.append(("," if n else "") + "\n  " + encode(item))
        n += 1
        if len(pending) == 500:
            out.write("".join(pending))
            pending.clear()
    out.write("".join(pending) + ("\n]\n" if n else "]\n"))
    return n


def _json_default(tz: ZoneInfo | None) -> Any:
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return obj.astimezone(tz).isoformat() if tz else obj.isoformat()
        if isinstance(obj, date):
            return obj.isoformat()
        if isinstance(obj, Bilingual):
            return {"zh": obj.zh, "en": obj.en}
        if is_dataclass(obj):
            return asdict(obj)  # type: ignore[arg-type]
        raise TypeError(type(obj).__name__)

    return default


def when(instant: datetime | None, tz: ZoneInfo) -> str:
    return "" if instant is None else instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def table(ctx: Ctx, columns: list[tuple[str, str]], rows: list[list[str]], title: str | None = None) -> None:
    t = Table(title=title, show_lines=False, header_style="bold")
    for i, (zh, en) in enumerate(columns):
        t.add_column(ctx.t(zh, en), overflow="fold", no_wrap=i == 0)
    for row in rows:
        t.add_row(*row)
    console.print(t)


def say(message: str) -> None:
    console.print(message, markup=False)
