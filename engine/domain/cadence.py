"""Periodic reporting duties (定期填报): a progress report due on a cadence, whatever the deadline.

A workflow (or one campaign of it) asks for a report every Friday (每周五), on the
25th of each month (每月25日, the month's last day where it is shorter) or every
N working days (每10个工作日, counted from the task's first day of work). Each due
day is a *duty*: a report made between the duty before and its due instant
satisfies it on time (按时); the first report after it, before the next duty
falls due, makes it late (迟报); none by then, or none yet on the as-of date,
makes it missed (漏报). A due day that is not a working day moves to the next
working day; moved to within a few days of the next due day (a Friday in the
National Day holiday), it merges into that one.

Duties run only while a report can be made (the states the report step fires
from): a task awaiting review, suspended or closed owes nothing. Everything is
computed from the task's history (its steps up to an instant), so the same date
replays the same duties next year. Pure: no database, the calendar and the zone
are handed in.
"""

from __future__ import annotations

import calendar as _cal
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from .calendar import WorkCalendar
from .policy import RECIPIENTS, Escalation
from .text import Bilingual

Kind = Literal["weekday", "month_day", "working_days"]
Status = Literal["on_time", "late", "missed", "open"]
Applies = Literal["all", "ongoing"]

WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAY_WORDS = {
    **{c: i + 1 for i, c in enumerate(WEEKDAYS_ZH)},
    "天": 7,
    **{
        name: i + 1
        for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
}
MAX_WORKING_DAYS = 250  # about a year of working days: a longer cadence would hardly ever fire
MERGE_WITHIN_DAYS = 4  # a due day moved off a holiday this close to the next one is merged into it
MAX_DUTIES = 5000  # a guard: a task reporting weekly for a century still computes in bounded time
EXAMPLES = "每周五, 每月25日, 每月末, 每10个工作日, {weekday: 5}, {month_day: 25}, {working_days: 10}"


@dataclass(frozen=True, slots=True)
class Cadence:
    """When a report falls due: ``value`` is the ISO weekday (1–7), the day of the month (1–31) or N working days."""

    kind: Kind
    value: int

    def label(self) -> Bilingual:
        if self.kind == "weekday":
            names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
            return Bilingual(f"每周{WEEKDAYS_ZH[self.value - 1]}", f"every {names[self.value - 1]}")
        if self.kind == "month_day":
            if self.value >= 31:
                return Bilingual("每月末", "the last day of each month")
            return Bilingual(f"每月{self.value}日", f"the {_ordinal(self.value)} of each month")
        return Bilingual(f"每{self.value}个工作日", f"every {self.value} working days")

    def due_days(self, anchor: date, after: date, until: date, calendar: WorkCalendar) -> list[date]:
        """The due days in (after, until], a non-working day moved to the next working day.

        ``anchor`` is the day the count of working days starts from (the task's first day of work). Worked
        out once per cadence, origin and end, kept with the calendar: a sweep or a circular asks the same of
        every task assigned the same day (working days) or in the same five years (weekdays, days of a month).
        """
        five_years = date(after.year - after.year % 5, 1, 1) - timedelta(days=1)
        origin = anchor if self.kind == "working_days" else five_years
        memo = calendar.schedules
        key = ("due_days", self, origin, until)
        days = memo.get(key)
        if days is None:
            if len(memo) > 10_000:
                memo.clear()
            days = memo[key] = self._due_days(anchor, origin, until, calendar)
        found = cast(list[date], days)
        return found[bisect_right(found, after) :]

    def _due_days(self, anchor: date, after: date, until: date, calendar: WorkCalendar) -> list[date]:
        out: list[date] = []
        if self.kind == "working_days":
            day = anchor
            for _ in range(MAX_DUTIES * 10):
                day = calendar.add_working_days(day, self.value)
                if day > until:
                    break
                if day > after:
                    out.append(day)
            return out
        if self.kind == "weekday":
            first = after + timedelta(days=(self.value - after.isoweekday()) % 7 or 7)
            # one week more than asked: whether a day moved off a holiday runs into the next one is known at the end too
            raw = [first + timedelta(weeks=n) for n in range(0, max(0, (until - first).days // 7 + 2))]
        else:
            raw = []
            year, month = after.year, after.month
            while True:
                day = date(year, month, min(self.value, _cal.monthrange(year, month)[1]))
                if day > until + timedelta(days=31):
                    break
                raw.append(day)
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        for n, day in enumerate(raw):
            moved = calendar.on_or_after(day)
            if moved != day and n + 1 < len(raw) and (raw[n + 1] - moved).days < MERGE_WITHIN_DAYS:
                continue  # a holiday pushed it into the next week's: one report, on the next due day
            if after < moved <= until and (not out or out[-1] != moved):
                out.append(moved)
        return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True, slots=True)
class ReportingPolicy:
    """The ``reporting:`` block of a workflow: the cadence, its due time, reminders and its own escalation ladder."""

    every: Cadence
    due_at: time = time(17, 0)  # the due instant on a due day, in the configured zone
    tasks: Applies = "all"  # all: every task of the workflow; ongoing: 长期坚持 tasks only
    trigger: str = "progress"  # the step that counts as a report
    remind_before_working_days: tuple[int, ...] = (1, 0)
    remind_at: time = time(9, 0)
    remind_notify: tuple[str, ...] = ("unit_head", "responsible_person")
    escalation: tuple[Escalation, ...] = ()  # after a missed due day, level by level, until a report comes
    campaigns: tuple[tuple[str, Cadence], ...] = ()  # a campaign's own cadence

    def cadence_for(self, campaign: str | None, ongoing: bool) -> Cadence | None:
        """The cadence a task owes reports on, or None when the block does not apply to it."""
        if self.tasks == "ongoing" and not ongoing:
            return None
        return dict(self.campaigns).get(campaign or "", self.every)


# --- reading the YAML -----------------------------------------------------------------------------------

Fail = Callable[[str, str], Exception]
_KEYS = {"every", "at", "tasks", "trigger", "remind", "escalate", "campaigns"}


def parse_cadence(raw: Any, key: str, fail: Fail) -> Cadence:
    """每周五 / 每月25日 / 每月末 / 每10个工作日, or a mapping {weekday: 5} / {month_day: 25} / {working_days: 10}."""
    if isinstance(raw, dict):
        if len(raw) != 1:
            raise fail(key, f"expected one of weekday, month_day, working_days, e.g. {EXAMPLES}")
        ((kind, value),) = raw.items()
        kind = str(kind)
        if kind == "weekday" and isinstance(value, str):
            value = _WEEKDAY_WORDS.get(value.strip().lower(), value)
        if kind not in ("weekday", "month_day", "working_days"):
            raise fail(f"{key}.{kind}", "unknown key (allowed: month_day, weekday, working_days)")
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"{key}.{kind}", f"expected a whole number, found {value!r}")
        return _checked(Cadence(kind, value), f"{key}.{kind}", fail)  # type: ignore[arg-type]
    if not isinstance(raw, str) or not raw.strip():
        raise fail(key, f"expected a cadence such as {EXAMPLES}")
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).lower()
    if m := re.fullmatch(r"(?:每周|每星期|每礼拜|every)(.+?)", text):
        day = _WEEKDAY_WORDS.get(m[1])
        if day is None:
            raise fail(key, f"'{raw}': '{m[1]}' is not a day of the week (一 … 日)")
        return Cadence("weekday", day)
    if re.fullmatch(r"每月(?:末|底|最后一天)", text):
        return Cadence("month_day", 31)
    if m := re.fullmatch(r"每月(\d{1,3})[日号]", text):
        return _checked(Cadence("month_day", int(m[1])), key, fail)
    if m := re.fullmatch(r"每(\d{1,4})个?工作日", text):
        return _checked(Cadence("working_days", int(m[1])), key, fail)
    raise fail(key, f"cannot read '{raw}'; write it like one of: {EXAMPLES}")


def _checked(c: Cadence, key: str, fail: Fail) -> Cadence:
    """A cadence that never fires (day 0 or 32 of a month, weekday 8, every 0 working days) is refused."""
    if c.kind == "weekday" and not 1 <= c.value <= 7:
        raise fail(key, f"weekday {c.value} never comes: write 1 (Monday) to 7 (Sunday); the cadence would never fire")
    if c.kind == "month_day" and not 1 <= c.value <= 31:
        raise fail(key, f"day {c.value} of a month never comes: write 1 to 31; the cadence would never fire")
    if c.kind == "working_days" and not 1 <= c.value <= MAX_WORKING_DAYS:
        raise fail(
            key,
            f"every {c.value} working days would never fire (or hardly ever): write 1 to {MAX_WORKING_DAYS}",
        )
    return c


def parse_reporting(raw: Any, fail: Fail) -> ReportingPolicy | None:
    """The ``reporting:`` block, or None when the workflow asks for no periodic reports."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise fail("reporting", "expected a mapping with every, at, tasks, remind, escalate (e.g. every: 每周五)")
    extra = sorted(set(map(str, raw)) - _KEYS)
    if extra:
        raise fail(f"reporting.{extra[0]}", f"unknown key (allowed: {', '.join(sorted(_KEYS))})")
    if "every" not in raw:
        raise fail("reporting.every", f"is required: when a report falls due, e.g. {EXAMPLES}")
    every = parse_cadence(raw["every"], "reporting.every", fail)
    due_at = _time(raw.get("at", "17:00"), "reporting.at", fail)
    tasks = raw.get("tasks", "all")
    if tasks not in ("all", "ongoing"):
        raise fail("reporting.tasks", f"'{tasks}' is not all or ongoing (长期坚持 tasks only)")
    trigger = raw.get("trigger", "progress")
    if not isinstance(trigger, str) or not trigger.strip():
        raise fail("reporting.trigger", "expected the trigger that counts as a report, e.g. progress")
    remind = raw.get("remind") or {}
    if not isinstance(remind, dict) or set(map(str, remind)) - {"before_working_days", "at", "notify"}:
        raise fail("reporting.remind", "expected a mapping with before_working_days, at, notify")
    before = remind.get("before_working_days", [1, 0])
    if not isinstance(before, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in before
    ):
        raise fail("reporting.remind.before_working_days", "expected a list of whole numbers ≥ 0, e.g. [1, 0]")
    notify = remind.get("notify", ["unit_head", "responsible_person"])
    notify = [notify] if isinstance(notify, str) else notify
    if not isinstance(notify, list) or not notify or any(r not in RECIPIENTS for r in notify):
        raise fail("reporting.remind.notify", f"expected a list of recipients among {', '.join(sorted(RECIPIENTS))}")
    campaigns_raw = raw.get("campaigns") or {}
    if not isinstance(campaigns_raw, dict):
        raise fail("reporting.campaigns", "expected a mapping of campaign names to cadences, e.g. {2026年专项: 每周五}")
    campaigns = tuple(
        (str(name), parse_cadence(value, f"reporting.campaigns.{name}", fail)) for name, value in campaigns_raw.items()
    )
    return ReportingPolicy(
        every=every,
        due_at=due_at,
        tasks=tasks,
        trigger=trigger.strip(),
        remind_before_working_days=tuple(sorted(set(before), reverse=True)),
        remind_at=_time(remind.get("at", "09:00"), "reporting.remind.at", fail),
        remind_notify=tuple(notify),
        escalation=_ladder(raw.get("escalate"), "reporting.escalate", fail),
        campaigns=campaigns,
    )


def _ladder(raw: Any, where: str, fail: Fail) -> tuple[Escalation, ...]:
    """Levels 1, 2, 3 … each later than the one before, counted in working days after the missed due day."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail(where, "expected a list of levels, e.g. [{level: 1, after_working_days: 1, notify: [unit_head]}]")
    out: list[Escalation] = []
    for i, item in enumerate(raw):
        key = f"{where}[{i}]"
        if not isinstance(item, dict) or set(map(str, item)) - {"level", "after_working_days", "notify"}:
            raise fail(key, "expected {after_working_days, level, notify}")
        level, after = item.get("level"), item.get("after_working_days")
        for name, value in (("level", level), ("after_working_days", after)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise fail(f"{key}.{name}", f"expected a whole number ≥ 1, found {value!r}")
        assert isinstance(level, int) and isinstance(after, int)
        if level != i + 1:
            raise fail(f"{key}.level", f"levels go 1, 2, 3 … in order; expected {i + 1}, found {level}")
        if out and after <= out[-1].after_working_days:
            raise fail(f"{key}.after_working_days", "each level comes later than the one before")
        notify = item.get("notify", ["unit_head"])
        notify = [notify] if isinstance(notify, str) else notify
        if not isinstance(notify, list) or not notify or any(r not in RECIPIENTS for r in notify):
            raise fail(f"{key}.notify", f"expected a list of recipients among {', '.join(sorted(RECIPIENTS))}")
        out.append(Escalation(level, after, tuple(notify)))
    return tuple(out)


def _time(value: Any, key: str, fail: Fail) -> time:
    text = str(value)
    if isinstance(value, int) and not isinstance(value, bool):  # YAML reads 17:00 unquoted as 1020 minutes
        text = f"{value // 60:02d}:{value % 60:02d}"
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise fail(key, f"'{value}' is not a time of day such as \"17:00\"")
    hour, minute = map(int, text.split(":"))
    return time(hour, minute)


# --- a task's duties, replayed from its steps -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a task: when, which trigger, the state after it, the responsible unit after it."""

    at: datetime
    trigger: str
    state: str
    unit: int | None = None


@dataclass(frozen=True, slots=True)
class Duty:
    day: date  # the due day, in the configured zone
    due: datetime  # the due instant (UTC)
    status: Status
    reported_at: datetime | None  # the report that settled it (on time or late)
    unit: int | None  # the unit in charge when it fell due

    @property
    def counted(self) -> bool:
        """Late or missed: what a circular and a score count against the unit."""
        return self.status in ("late", "missed")


@dataclass(frozen=True, slots=True)
class History:
    """What duties are computed from: when reports could be made, and when they were."""

    spans: tuple[tuple[datetime, datetime | None], ...]  # reporting possible in [start, end); None: still
    reports: tuple[datetime, ...]
    units: tuple[tuple[datetime, int | None], ...]  # the unit in charge from each instant on


def history(steps: Iterable[Step], reporting_states: frozenset[str], trigger: str, until: datetime) -> History:
    """The spans a task spent in states a report can be made from, and its reports, up to ``until``."""
    spans: list[tuple[datetime, datetime | None]] = []
    reports: list[datetime] = []
    units: list[tuple[datetime, int | None]] = []
    open_since: datetime | None = None
    for s in sorted(steps, key=lambda s: s.at):
        if s.at > until:
            break
        if s.trigger == trigger:
            reports.append(s.at)
        if s.unit is not None and (not units or units[-1][1] != s.unit):
            units.append((s.at, s.unit))
        running = s.state in reporting_states
        if running and open_since is None:
            open_since = s.at
        elif not running and open_since is not None:
            spans.append((open_since, s.at))
            open_since = None
    if open_since is not None:
        spans.append((open_since, None))
    return History(tuple(spans), tuple(reports), tuple(units))


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tz).astimezone(UTC)


def duties(
    cadence: Cadence, due_at: time, h: History, as_of: datetime, calendar: WorkCalendar, tz: ZoneInfo
) -> list[Duty]:
    """Every duty that fell due by ``as_of``, settled or missed, then the next one if the task still owes reports."""
    if not h.spans:
        return []
    anchor = h.spans[0][0].astimezone(tz).date()
    dues: list[tuple[date, datetime, datetime]] = []  # (day, due instant, start of its window)
    horizon = as_of.astimezone(tz).date() + timedelta(
        days=max(40, cadence.value * 2 if cadence.kind == "working_days" else 0)
    )
    for start, end in h.spans:
        first = start.astimezone(tz).date()
        last = min(end, as_of).astimezone(tz).date() if end is not None else horizon
        window = start
        for day in cadence.due_days(anchor, first - timedelta(days=1), last, calendar):
            due = _instant(day, due_at, tz)
            if due <= start or (end is not None and due >= end):
                continue
            dues.append((day, due, window))
            window = due
            if len(dues) >= MAX_DUTIES:
                break
    out: list[Duty] = []
    reports = [r for r in h.reports if r <= as_of]
    i = 0
    for n, (day, due, window) in enumerate(dues):
        if due > as_of:
            if h.spans[-1][1] is None:
                early = next((r for r in reports[i:] if window < r), None)  # already reported for it
                out.append(Duty(day, due, "open", early, _unit_at(h, due)))
            break
        nxt = dues[n + 1][1] if n + 1 < len(dues) else None
        while i < len(reports) and reports[i] <= window:
            i += 1  # reports before the window were for earlier duties
        if i < len(reports) and reports[i] <= due:
            settled = reports[i]
            while i < len(reports) and reports[i] <= due:
                i += 1  # several reports in one window settle one duty
            out.append(Duty(day, due, "on_time", settled, _unit_at(h, due)))
        elif i < len(reports) and (nxt is None or reports[i] <= nxt):
            out.append(Duty(day, due, "late", reports[i], _unit_at(h, due)))
            i += 1
        else:
            out.append(Duty(day, due, "missed", None, _unit_at(h, due)))
    return out


def _unit_at(h: History, at: datetime) -> int | None:
    unit = None
    for since, u in h.units:
        if since > at:
            break
        unit = u
    return unit


@dataclass(frozen=True, slots=True)
class Tally:
    """A task's or a unit's duties as of a date: how many fell due, and how they were met."""

    due: int = 0
    on_time: int = 0
    late: int = 0  # 迟报
    missed: int = 0  # 漏报

    def add(self, d: Duty) -> Tally:
        if d.status == "open":
            return self
        return Tally(
            self.due + 1,
            self.on_time + (d.status == "on_time"),
            self.late + (d.status == "late"),
            self.missed + (d.status == "missed"),
        )


def tally(found: Iterable[Duty]) -> Tally:
    t = Tally()
    for d in found:
        t = t.add(d)
    return t


# --- reminders and escalation: what the sweep sends -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DutyAction:
    rule: Literal["report_remind", "report_escalate"]
    level: int  # remind: working days before the due day; escalate: the level
    at: datetime
    day: date  # the duty's due day: part of the dedup key, so each duty is reminded and escalated once
    notify: tuple[str, ...]

    def key(self, task_id: int) -> str:
        return f"{task_id}:{self.rule}:{self.level}:{self.day.isoformat()}"


def duty_actions(
    policy: ReportingPolicy,
    found: Sequence[Duty],
    reports: Sequence[datetime],
    now: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> list[DutyAction]:
    """What is due by ``now`` for the latest duties: reminders before a due day not yet reported for, and the
    highest escalation level a missed duty has reached without any report since its due instant.

    Only the last duty that fell due and the next one are looked at: a duty superseded by a later one is
    chased no more (the later one is), so a first sweep over old tasks does not replay their past.
    """
    past = [d for d in found if d.status != "open" and d.due <= now]
    coming = [d for d in found if d.due > now]
    out: list[DutyAction] = []
    for d in past[-1:] + coming[:1]:
        if d.due > now and d.reported_at is None:  # a report since the duty before already settles it
            for n in policy.remind_before_working_days:
                at = _instant(calendar.subtract_working_days(d.day, n), policy.remind_at, tz)
                if at <= now:
                    out.append(DutyAction("report_remind", n, at, d.day, policy.remind_notify))
        if d.due <= now and not any(d.due < r <= now for r in reports) and d.status == "missed":
            reached = [
                e
                for e in policy.escalation
                if _instant(calendar.add_working_days(d.day, e.after_working_days), policy.remind_at, tz) <= now
            ]
            if reached:
                top = reached[-1]
                at = _instant(calendar.add_working_days(d.day, top.after_working_days), policy.remind_at, tz)
                out.append(DutyAction("report_escalate", top.level, at, d.day, top.notify))
    # only the reminder nearest the due day matters once several have fallen due
    reminders = [a for a in out if a.rule == "report_remind"]
    others = [a for a in out if a.rule != "report_remind"]
    return sorted(others + sorted(reminders, key=lambda a: a.at)[-1:], key=lambda a: (a.at, a.rule, a.level))
