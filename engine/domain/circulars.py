"""Scheduled circulars (定期通报): when each is issued and what period it covers, as YAML data.

A schedule says when a circular goes out (weekly on Monday 09:00, monthly on
the 1st) and what it reports: the period that ended the day before it is
issued, so Monday's circular covers Monday to Sunday of the week before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .errors import BadFile
from .report import PERIOD_KINDS, add_months
from .text import Bilingual
from .yamlload import load_yaml

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FORMATS = ("docx", "xlsx", "html", "markdown", "csv", "json")
RECIPIENT_WORDS = frozenset({"supervisors", "leaders", "unit_heads"})
MAX_CATCH_UP = 12  # a long outage issues at most this many missed circulars per schedule
_KEYS = {
    "name",
    "every",
    "day",
    "at",
    "campaign",
    "formats",
    "chart",
    "lang",
    "recipients",
    "issuer",
    "signature",
    "cc",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class CircularSchedule:
    name: str
    every: str  # week, month, quarter, year: both how often and the period reported
    on: int  # week: weekday 0 = Monday; otherwise the day of the month (1–28)
    at: time
    campaign: str | None = None
    formats: tuple[str, ...] = ("docx", "xlsx")
    chart: bool = True
    lang: str = "zh"
    recipients: tuple[str, ...] = ("supervisors", "leaders")
    issuer: str | None = None  # the issuing office, in the masthead
    signature: str | None = None  # 落款 at the end; the issuer unless given
    cc: tuple[str, ...] = ()  # 抄送: offices the circular is copied to

    def issue_days(self, after: date, until: date) -> list[date]:
        """Days in (after, until] on which this circular is issued."""
        days: list[date] = []
        day = after + timedelta(days=1)
        while day <= until:
            if self._issues_on(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def _issues_on(self, day: date) -> bool:
        if self.every == "week":
            return day.weekday() == self.on
        if day.day != self.on:
            return False
        step = {"month": 1, "quarter": 3, "year": 12}[self.every]
        return (day.month - 1) % step == 0

    def due(self, now: datetime, tz: ZoneInfo, last_issued: date | None) -> list[date]:
        """As-of dates of the circulars due by ``now``: the latest, and any missed since ``last_issued``.

        A circular issued on a day reports up to the day before; it is due once its hour has passed.
        Without an earlier one only the latest is due: a new schedule does not issue the past.
        """
        local = now.astimezone(tz)
        last_day = local.date() if local.time() >= self.at else local.date() - timedelta(days=1)
        horizon = self._horizon(last_day)
        start = max(last_issued, horizon) if last_issued is not None else horizon
        issues = self.issue_days(start, last_day)
        keep = issues[-MAX_CATCH_UP:] if last_issued is not None else issues[-1:]
        return [day - timedelta(days=1) for day in keep]

    def _horizon(self, today: date) -> date:
        """Far enough back to hold the catch-up window, near enough to walk day by day."""
        months = {"week": 3, "month": 12, "quarter": 36, "year": 144}[self.every]
        return add_months(today, -months)


def load_schedules(path: Path) -> list[CircularSchedule]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadFile(path, Bilingual("文件不存在", "no such file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = Bilingual(
            "不是 UTF-8 编码的文本" if isinstance(exc, UnicodeDecodeError) else "没有读取权限或不是普通文件",
            exc.__class__.__name__,
        )
        raise BadFile(path, Bilingual(f"无法读取（{why.zh}）", f"cannot read it ({why.en})")) from None
    return parse_schedules(load_yaml(text, path), path)


def parse_schedules(doc: Any, source: object) -> list[CircularSchedule]:
    def fail(key: str, detail: Bilingual) -> BadFile:
        return BadFile(source, detail, key=key)

    if not isinstance(doc, dict) or not isinstance(doc.get("circulars"), list):
        raise fail(
            "circulars",
            Bilingual("应在 circulars: 之下列出各项定期通报安排", "expected a list of schedules under 'circulars:'"),
        )
    out: list[CircularSchedule] = []
    names: set[str] = set()
    for i, raw in enumerate(doc["circulars"]):
        k = f"circulars[{i}]"
        if not isinstance(raw, dict):
            raise fail(k, Bilingual("每项安排应为映射（name、every、day、at 等键）", "expected a mapping"))
        unknown = sorted(set(map(str, raw)) - _KEYS)
        if unknown:
            raise fail(
                f"{k}.{unknown[0]}",
                Bilingual(
                    f"无此键（可用：{'、'.join(sorted(_KEYS))}）", f"unknown key (known: {', '.join(sorted(_KEYS))})"
                ),
            )
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise fail(
                f"{k}.name",
                Bilingual(
                    "必须填写，只能用小写英文字母、数字、- 和 _", "is required: lowercase letters, digits, - and _"
                ),
            )
        if name in names:
            raise fail(f"{k}.name", Bilingual(f"'{name}' 重复使用；每项安排的名称须唯一", f"'{name}' is used twice"))
        names.add(name)
        k = f"circulars[{i}] ({name})"
        every = raw.get("every")
        if every not in PERIOD_KINDS:
            raise fail(
                f"{k}.every",
                Bilingual(
                    f"'{every}' 不是可用的周期（可用：{'、'.join(PERIOD_KINDS)}，即每周、每月、每季度、每年）",
                    f"'{every}' is not one of {', '.join(PERIOD_KINDS)}",
                ),
            )
        out.append(
            CircularSchedule(
                name=name,
                every=every,
                on=_on(raw.get("day"), every, f"{k}.day", fail),
                at=_at(raw.get("at", "09:00"), f"{k}.at", fail),
                campaign=_opt_text(raw.get("campaign"), f"{k}.campaign", fail),
                formats=_formats(raw.get("formats", ["docx", "xlsx"]), f"{k}.formats", fail),
                chart=_flag(raw.get("chart", True), f"{k}.chart", fail),
                lang=_lang(raw.get("lang", "zh"), f"{k}.lang", fail),
                recipients=_recipients(raw.get("recipients", ["supervisors", "leaders"]), f"{k}.recipients", fail),
                issuer=_opt_text(raw.get("issuer"), f"{k}.issuer", fail),
                signature=_opt_text(raw.get("signature"), f"{k}.signature", fail),
                cc=_cc(raw.get("cc", []), f"{k}.cc", fail),
            )
        )
    return out


def _on(value: Any, every: str, key: str, fail: Any) -> int:
    if every == "week":
        if value is None:
            return 0
        if isinstance(value, str) and value.lower() in WEEKDAYS:
            return WEEKDAYS.index(value.lower())
        raise fail(
            key,
            Bilingual(
                f"'{value}' 不是星期几；请写 monday（周一）… sunday（周日）",
                f"'{value}' is not a weekday (monday … sunday)",
            ),
        )
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 28:
        return value
    raise fail(
        key,
        Bilingual(f"'{value}' 不是 1 至 28 之间的日子", f"'{value}' is not a day of the month from 1 to 28"),
    )


def _at(value: Any, key: str, fail: Any) -> time:
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hour, minute = map(int, value.strip().split(":"))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise fail(
        key,
        Bilingual(
            f"'{value}' 不是时刻；请写作 \"09:00\"（在 YAML 中须加引号）",
            f"'{value}' is not a time of day such as \"09:00\" (quote it in YAML)",
        ),
    )


def _opt_text(value: Any, key: str, fail: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise fail(key, Bilingual("应为文字", "expected text"))


def _flag(value: Any, key: str, fail: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise fail(key, Bilingual("应为 true（是）或 false（否）", "expected true or false"))


def _lang(value: Any, key: str, fail: Any) -> str:
    if value in ("zh", "en"):
        return str(value)
    raise fail(key, Bilingual(f"'{value}' 不是 zh（中文）或 en（英文）", f"'{value}' is not zh or en"))


def _formats(value: Any, key: str, fail: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise fail(
            key,
            Bilingual(
                f"应为文件格式列表（可用：{'、'.join(FORMATS)}）", f"expected a list of formats ({', '.join(FORMATS)})"
            ),
        )
    for v in items:
        if v not in FORMATS:
            raise fail(
                key,
                Bilingual(
                    f"'{v}' 不是可用的格式（可用：{'、'.join(FORMATS)}）", f"'{v}' is not one of {', '.join(FORMATS)}"
                ),
            )
    return tuple(dict.fromkeys(items))


def _cc(value: Any, key: str, fail: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise fail(
            key,
            Bilingual("应为抄送单位的列表", "expected a list of offices the circular is copied to (抄送)"),
        )
    return tuple(dict.fromkeys(v.strip() for v in items))


def _recipients(value: Any, key: str, fail: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise fail(
            key,
            Bilingual(
                "应为收件人列表：supervisors（督查人员）、leaders（领导）、unit_heads（单位负责人）或人员编号",
                "expected a list: supervisors, leaders, unit_heads or person ids",
            ),
        )
    return tuple(dict.fromkeys(v.strip() for v in items))
