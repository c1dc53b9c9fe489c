"""Working days on mainland China's statutory calendar (holidays and 调休 make-up working days).

The statutory calendar comes from the ``chinesecalendar`` package, which knows
the years the State Council has published. For any other year the calendar
falls back to Monday–Friday (less the fixed-date holidays) and records the year, so the edge can warn the
user. A local overrides file adds holidays or working days (a county's own
days off, a Saturday worked for an inspection).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

from .errors import BadFile
from .osreason import os_reason
from .text import Bilingual
from .yamlload import load_yaml

FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})
MAX_SPAN_DAYS = 3660  # a guard against runaway loops: ten years of days


@dataclass
class WorkCalendar:
    holidays: frozenset[date] = frozenset()  # local additions: not working
    workdays: frozenset[date] = frozenset()  # local additions: working
    fallback_years: set[int] = field(default_factory=set)  # years counted Monday–Friday for want of data
    _memo: dict[date, bool] = field(default_factory=dict, repr=False)  # planning asks about the same days often
    _spans: dict[tuple[date, date], int] = field(default_factory=dict, repr=False)
    schedules: dict[object, object] = field(default_factory=dict, repr=False)  # planning's per-deadline memo

    def is_working_day(self, day: date) -> bool:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            # No published calendar for this year: Monday–Friday, less the fixed-date statutory
            # holidays (New Year, Labour Day, National Day); the lunar ones cannot be guessed.
            self.fallback_years.add(day.year)
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

    def on_or_after(self, day: date) -> date:
        """The first working day from ``day`` on."""
        for _ in range(MAX_SPAN_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within ten years after {day}")

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (n=0: ``day`` itself, or the next working day).

        Counted from the day after, so a deadline on a Sunday is one working day
        overdue on the Monday.
        """
        if n < 0:
            return self.subtract_working_days(day, -n)
        if n == 0:
            return self.on_or_after(day)
        for _ in range(n):
            day = self.on_or_after(day + timedelta(days=1))
        return day

    def subtract_working_days(self, day: date, n: int) -> date:
        """The n-th working day before ``day`` (n=0: ``day`` itself, or the working day before)."""
        for _ in range(MAX_SPAN_DAYS):
            if self.is_working_day(day):
                break
            day -= timedelta(days=1)
        for _ in range(n):
            day -= timedelta(days=1)
            while not self.is_working_day(day):
                day -= timedelta(days=1)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days ``end`` is past ``start``; 0 if not past."""
        if end <= start:
            return 0
        key = (start, end)
        known = self._spans.get(key)
        if known is None:  # no cap: a ten-year-old mistyped deadline must not stop the sweep for everyone
            days = (end - start).days + 1
            known = self._spans[key] = sum(1 for i in range(1, days) if self.is_working_day(start + timedelta(days=i)))
        return known


def load_overrides(path: Path) -> WorkCalendar:
    """``holidays: [dates]`` and ``workdays: [dates]`` in YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = os_reason(exc) if isinstance(exc, OSError) else Bilingual("不是 UTF-8 编码的文本", str(exc))
        raise BadFile(
            path,
            Bilingual(f"无法读取（{why.zh}）；请检查 DUBAN_CALENDAR 所指的文件", f"cannot read it ({why.en})"),
        ) from None
    doc = load_yaml(text, path) or {}
    if not isinstance(doc, dict) or set(doc) - {"holidays", "workdays"}:
        raise BadFile(
            path,
            Bilingual(
                "节假日文件应只含 holidays（放假日）和/或 workdays（调休上班日）两个键，各为日期列表",
                "expected a mapping with 'holidays' and/or 'workdays', each a list of dates",
            ),
        )
    return WorkCalendar(
        holidays=frozenset(_dates(path, doc.get("holidays") or [], "holidays")),
        workdays=frozenset(_dates(path, doc.get("workdays") or [], "workdays")),
    )


def _dates(path: Path, values: Iterable[object], key: str) -> list[date]:
    if not isinstance(values, list):
        raise BadFile(path, Bilingual("应为日期列表，如 [2026-10-09]", "expected a list of dates"), key=key)
    out = []
    for i, value in enumerate(values):
        if isinstance(value, date):
            out.append(value)
            continue
        try:
            out.append(date.fromisoformat(str(value)))
        except ValueError:
            raise BadFile(
                path,
                Bilingual(
                    f"'{value}' 不是日期；请写作 2026-10-09 这样的格式", f"'{value}' is not a date such as 2026-10-09"
                ),
                key=f"{key}[{i}]",
            ) from None
    return out
