"""What a task's deadline asks for, and when: reminders, escalation levels, stale-progress chasing.

Pure arithmetic over a task's deadline facts, the workflow's policy and the
working-day calendar. The sweep writes what is due now and stores the next
instant anything will be due (``next_action_at``), so it never scans tasks
that need nothing. Every action has a stable identity (rule, level, deadline
version), which becomes the outbox dedup key: planning the same task twice,
or in two sweeps at once, cannot send anything twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, cast
from zoneinfo import ZoneInfo

from .calendar import WorkCalendar
from .policy import DeadlinePolicy

Light = Literal["green", "yellow", "red"]
Rule = Literal["remind", "escalate", "stale", "sign_remind", "sign_escalate"]

MAX_STALE_PERIODS = 1000  # a guard: a task silent for years still plans in bounded time


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineClock:
    """A task's deadline clock: the one record the firing path, the sweep and the import read and write.

    It is stored on the task row as it stands here; the planning below works on it directly, so no
    layer keeps a copy of its own with a converter in between.
    """

    deadline: date | None  # the effective deadline; None: ongoing (长期坚持)
    deadline_version: int = 1  # moves with every extension, resumption or reassignment: the dedup keys follow it
    watch_from: datetime  # actions at or before this instant were already handled
    created_at: datetime
    next_action_at: datetime | None = None  # when the sweep must look next (None: nothing to look at)
    last_progress_at: datetime | None = None
    clock_stopped_at: datetime | None = None  # set while the task is in a state whose clock stops
    escalation_level: int = 0  # the level already reached and told
    sign_by: date | None = None  # 签收时限: the day the unit must sign for by (None: no limit)
    signed_at: datetime | None = None  # 签收时间: when it first left the state awaiting signing for

    @classmethod
    def started(cls, *, deadline: date | None, at: datetime, sign_by: date | None = None) -> DeadlineClock:
        """The clock of a task assigned (or imported) at ``at``: first deadline version, watched from then."""
        return cls(deadline=deadline, watch_from=at, created_at=at, sign_by=sign_by)

    @property
    def progress_base(self) -> datetime:
        """Silence is counted from the last progress report, else from when the task was created."""
        return self.last_progress_at or self.created_at


@dataclass(frozen=True, slots=True)
class Action:
    rule: Rule
    level: int  # remind: working days before; escalate: level; stale: period number
    at: datetime
    notify: tuple[str, ...]
    name_in_circular: bool = False
    base: str = ""  # stale: the progress base it counts from, so a new report starts afresh

    def key(self, task_id: int, deadline_version: int) -> str:
        return f"{task_id}:{self.rule}:{self.level}:{deadline_version}{':' + self.base if self.base else ''}"


@dataclass(frozen=True, slots=True)
class Plan:
    due_now: list[Action]
    next_at: datetime | None
    escalation_level: int


def _at(day: date, policy: DeadlinePolicy, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, policy.remind_at, tz).astimezone(ZoneInfo("UTC"))


def deadline_actions(
    clock: DeadlineClock, policy: DeadlinePolicy, calendar: WorkCalendar, tz: ZoneInfo
) -> list[Action]:
    """Reminders before the deadline and escalation levels after it, for the current deadline version.

    The same for every task with the same deadline date, so it is worked out once per date (a sweep
    over thousands of due tasks meets few distinct deadlines).
    """
    if clock.deadline is None:
        return []
    memo = calendar.schedules  # kept with the calendar: a different calendar means different dates
    key = (clock.deadline, policy, str(tz))
    cached = memo.get(key)
    if cached is None:
        if len(memo) > 10_000:
            memo.clear()
        cached = memo[key] = _deadline_actions(clock.deadline, policy, calendar, tz)
    return cast(list[Action], cached)


def _deadline_actions(due: date, policy: DeadlinePolicy, calendar: WorkCalendar, tz: ZoneInfo) -> list[Action]:
    actions = [
        Action("remind", n, _at(calendar.subtract_working_days(due, n), policy, tz), policy.remind_notify)
        for n in policy.remind_before_working_days
    ]
    actions += [
        Action(
            "escalate",
            e.level,
            _at(calendar.add_working_days(due, e.after_working_days), policy, tz),
            e.notify,
            e.name_in_circular,
        )
        for e in policy.escalation
    ]
    return sorted(actions, key=lambda a: (a.at, a.rule, a.level))


def sign_for_actions(sign_by: date, policy: DeadlinePolicy, calendar: WorkCalendar, tz: ZoneInfo) -> list[Action]:
    """The sign-for ladder: reminders before the sign-for day, escalation after it (its own levels)."""
    rule = policy.sign_for
    if rule is None:
        return []
    actions = [
        Action("sign_remind", n, _at(calendar.subtract_working_days(sign_by, n), policy, tz), rule.remind_notify)
        for n in rule.remind_before_working_days
    ]
    actions += [
        Action(
            "sign_escalate",
            e.level,
            _at(calendar.add_working_days(sign_by, e.after_working_days), policy, tz),
            e.notify,
        )
        for e in rule.escalation
    ]
    return actions


def stale_actions(clock: DeadlineClock, policy: DeadlinePolicy, tz: ZoneInfo, until: datetime) -> list[Action]:
    """Chasing silence: each period without a progress report after ``watch_from``, up to the first after ``until``."""
    period = policy.ongoing_report_every_days if clock.deadline is None else policy.stale_progress_days
    if not period:
        return []
    base_day = clock.progress_base.astimezone(tz).date()
    base = base_day.isoformat()
    # periods that ended before the watch began were handled already: start at the last of them
    first = max(1, (clock.watch_from.astimezone(tz).date() - base_day).days // period)
    out = []
    for n in range(first, first + MAX_STALE_PERIODS):
        at = _at(base_day + timedelta(days=n * period), policy, tz)
        out.append(Action("stale", n, at, policy.stale_notify, base=base))
        if at > until:
            break
    return out


def plan(
    clock: DeadlineClock,
    policy: DeadlinePolicy,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    now: datetime,
    *,
    runs: bool = True,
    sign_by: date | None = None,
    told: int | None = None,
) -> Plan:
    """What is due in (watch_from, now], and when the task next needs attention.

    ``runs``: the task's state keeps the clock running; ``sign_by``: the sign-for day still watched (the task
    awaits signing for), which the state decides, not the clock alone (see watch.watched_sign_by);
    ``told``: the escalation level taken as already told, if not the clock's (the watch asks with 0).
    """
    if not runs:
        return Plan([], None, 0)
    actions = deadline_actions(clock, policy, calendar, tz) + stale_actions(clock, policy, tz, now)
    if sign_by is not None:
        actions += sign_for_actions(sign_by, policy, calendar, tz)
    if not actions:  # nothing to watch (no deadline, no chasing): the plan of every firing of such a task
        return Plan([], None, 0)
    # One pass (this runs on every firing): what falls due in (watch_from, now], the first instant after now,
    # and the highest escalation level reached by now.
    watch_from = clock.watch_from
    due: list[Action] = []
    next_at: datetime | None = None
    level = 0
    for a in actions:
        at = a.at
        if at <= now:
            if a.rule == "escalate" and a.level > level:
                level = a.level
            if at > watch_from:
                due.append(a)
        elif at > watch_from and (next_at is None or at < next_at):
            next_at = at
    if level > (clock.escalation_level if told is None else told) and not any(
        a.rule == "escalate" and a.level == level for a in due
    ):
        # reached while nobody watched (a deadline already past at assignment, a late reopen): tell the top level once
        due += [a for a in actions if a.rule == "escalate" and a.level == level]
    if not due:
        return Plan([], next_at, level)
    # Silence is one fact, not a series: after a downtime only the latest stale-progress chase is sent.
    stale = [a for a in due if a.rule == "stale"]
    due = [a for a in due if a.rule != "stale"] + stale[-1:]
    return Plan(sorted(due, key=lambda a: (a.at, a.rule, a.level)), next_at, level)


@dataclass(frozen=True, slots=True)
class Standing:
    light: Light | None  # None for tasks whose clock does not run (final, awaiting review)
    days_overdue: int  # working days past the deadline
    days_left: int | None  # working days until the deadline


def standing(
    due: date | None, clock_runs: bool, today: date, policy: DeadlinePolicy, calendar: WorkCalendar
) -> Standing:
    """The traffic light (红黄绿灯): red overdue, yellow within the policy's days, else green."""
    if due is None:
        return Standing("green" if clock_runs else None, 0, None)
    overdue = calendar.working_days_between(due, today)
    left = calendar.working_days_between(today, due)
    if not clock_runs:
        return Standing(None, overdue, left)
    if overdue > 0 or today > due:
        return Standing("red", overdue, 0)
    return Standing("yellow" if left <= policy.yellow_within_working_days else "green", 0, left)
