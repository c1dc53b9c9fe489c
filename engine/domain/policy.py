"""Deadline policy: the ``deadlines`` block of a workflow definition.

When the unit is reminded before a deadline, who hears of an overdue task at
each escalation level, when silence (no progress report) is chased, and how
long 立行立改 gives. Validated with the rest of the definition, so a mistake
names the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any

from .co_units import CoUnitPolicy, parse_co_units

# Who can be told: resolved against the organisation when a notification is written.
RECIPIENTS = frozenset(
    {"unit_head", "responsible_person", "unit", "lead_leader", "parent_unit_head", "supervisors", "leaders"}
)


@dataclass(frozen=True, slots=True)
class Escalation:
    level: int
    after_working_days: int
    notify: tuple[str, ...]
    name_in_circular: bool = False
    notice: str | None = None  # blue | yellow | red: the level issues a numbered supervision notice (督办单)


@dataclass(frozen=True, slots=True)
class SignFor:
    """签收时限: a unit signs for (starts) a task within so many working days of its assignment, or hears of it.

    Its own ladder, apart from the deadline's: reminders before the sign-for day, escalation levels after it.
    It applies while the task is in a state whose circular column is ``not_started`` (未签收).
    """

    within_working_days: int
    remind_before_working_days: tuple[int, ...] = (0,)
    remind_notify: tuple[str, ...] = ("unit_head", "responsible_person")
    escalation: tuple[Escalation, ...] = ()


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    at_once_working_days: int = 5
    ongoing_report_every_days: int = 30
    yellow_within_working_days: int = 3
    remind_before_working_days: tuple[int, ...] = (3, 1, 0)
    remind_at: time = time(9, 0)
    remind_notify: tuple[str, ...] = ("unit_head", "responsible_person")
    escalation: tuple[Escalation, ...] = ()
    stale_progress_days: int | None = 14
    stale_notify: tuple[str, ...] = ("unit_head", "responsible_person")
    notice_reply_working_days: int = 3  # a supervision notice asks for a reply (反馈) within this many working days
    sign_for: SignFor | None = None  # None: no sign-for time limit
    # 转办/退办: "restart" gives the new unit the task's first allowance of working days from the reassignment;
    # "keep" leaves the deadline. The original deadline stays on the task for the on-time rate either way.
    transfer_clock: str = "restart"
    co_units: CoUnitPolicy | None = None  # 牵头/配合: each co-unit's part's time limits; None: no limits

    def escalation_level(self, level: int) -> Escalation | None:
        return next((e for e in self.escalation if e.level == level), None)

    def level_reached(self, working_days_overdue: int) -> int:
        """The escalation level reached after so many working days overdue (0: none yet).

        The one statement of the ladder for counts: circulars, scores and accountability name the level with it,
        and the sweep's instants come from the same ``after_working_days``.
        """
        return max((e.level for e in self.escalation if working_days_overdue >= e.after_working_days), default=0)


Fail = Callable[[str, str], Exception]

_KEYS = {
    "at_once_working_days",
    "ongoing_report_every_days",
    "yellow_within_working_days",
    "remind",
    "escalate",
    "stale_progress",
    "notice_reply_working_days",
    "sign_for",
    "transfer",
    "co_units",
}
NOTICE_COLORS = ("blue", "yellow", "red")
TRANSFER_CLOCKS = ("restart", "keep")


def parse_policy(raw: Any, fail: Fail) -> DeadlinePolicy:
    """``fail(key, detail)`` builds the error that names the file and the key."""
    if raw is None or raw == {}:
        return DeadlinePolicy()
    if not isinstance(raw, dict):
        raise fail("deadlines", "expected a mapping")
    extra = sorted(set(map(str, raw)) - _KEYS)
    if extra:
        raise fail(f"deadlines.{extra[0]}", f"unknown key (allowed: {', '.join(sorted(_KEYS))})")
    return _PolicyReader(fail).read(raw)


class _PolicyReader:
    """One method per group of keys; each raises ``fail(key, detail)`` at the first mistake, in the keys' order."""

    def __init__(self, fail: Fail) -> None:
        self.fail = fail

    def read(self, raw: dict[str, Any]) -> DeadlinePolicy:
        base = DeadlinePolicy()
        remind = self.mapping(raw.get("remind"), "deadlines.remind", ("before_working_days", "at", "notify"))
        before = self.days_list(
            remind.get("before_working_days", list(base.remind_before_working_days)),
            "deadlines.remind.before_working_days",
        )
        remind_at = self.time_of_day(remind.get("at", "09:00"), "deadlines.remind.at")
        escalation = self.ladder(raw.get("escalate"), "deadlines.escalate", with_circular=True)
        stale = self.mapping(raw.get("stale_progress"), "deadlines.stale_progress", ("after_days", "notify"))
        sign_for = self.sign_for(raw.get("sign_for"))
        transfer_clock = self.transfer_clock(raw.get("transfer"), base.transfer_clock)
        return DeadlinePolicy(
            at_once_working_days=self.count(raw, "at_once_working_days", "deadlines", base.at_once_working_days, 1)
            or 1,
            ongoing_report_every_days=self.count(
                raw, "ongoing_report_every_days", "deadlines", base.ongoing_report_every_days, 1
            )
            or 1,
            yellow_within_working_days=self.count(
                raw, "yellow_within_working_days", "deadlines", base.yellow_within_working_days
            )
            or 0,
            remind_before_working_days=tuple(sorted(set(before), reverse=True)),
            remind_at=remind_at,
            remind_notify=self.notify(remind, "deadlines.remind", base.remind_notify),
            escalation=tuple(escalation),
            stale_progress_days=self.count(
                stale, "after_days", "deadlines.stale_progress", base.stale_progress_days, 1
            ),
            stale_notify=self.notify(stale, "deadlines.stale_progress", base.stale_notify),
            notice_reply_working_days=self.count(
                raw, "notice_reply_working_days", "deadlines", base.notice_reply_working_days, 1
            )
            or base.notice_reply_working_days,
            sign_for=sign_for,
            transfer_clock=transfer_clock,
            co_units=parse_co_units(raw.get("co_units"), self.fail),
        )

    # --- the groups of keys ----------------------------------------------------------------------

    def ladder(self, levels: Any, where: str, *, with_circular: bool) -> list[Escalation]:
        """escalate: levels 1, 2, 3 … each later than the one before."""
        if levels is None:
            levels = []
        if not isinstance(levels, list):
            raise self.fail(where, "expected a list of levels")
        # the deadline's own ladder may name the overdue in the circular and issue a 督办单; the sign-for ladder may not
        allowed = {"level", "after_working_days", "notify"} | (
            {"name_in_circular", "notice"} if with_circular else set()
        )
        escalation: list[Escalation] = []
        for i, item in enumerate(levels):
            key = f"{where}[{i}]"
            if not isinstance(item, dict) or set(item) - allowed:
                raise self.fail(key, "expected {" + ", ".join(sorted(allowed)) + "}")
            escalation.append(self.level(item, key, i + 1, escalation[-1] if escalation else None))
        return escalation

    def level(self, item: dict[str, Any], key: str, expected: int, before: Escalation | None) -> Escalation:
        level = self.count(item, "level", key, None, 1)
        after = self.count(item, "after_working_days", key, None, 1)
        if level is None or after is None:
            raise self.fail(key, "level and after_working_days are required")
        if level != expected:
            raise self.fail(f"{key}.level", f"levels go 1, 2, 3 … in order; expected {expected}, found {level}")
        if before is not None and after <= before.after_working_days:
            raise self.fail(f"{key}.after_working_days", "each level comes later than the one before")
        circular = item.get("name_in_circular", False)
        if not isinstance(circular, bool):
            raise self.fail(f"{key}.name_in_circular", "expected true or false")
        notice = item.get("notice")
        if notice is not None and notice not in NOTICE_COLORS:
            raise self.fail(
                f"{key}.notice", f"'{notice}' is not one of {', '.join(NOTICE_COLORS)} (the colour of the 督办单)"
            )
        return Escalation(level, after, self.notify(item, key, ("unit_head",)), circular, notice)

    def sign_for(self, raw: Any) -> SignFor | None:
        """sign_for: the sign-for time limit, its reminders and its own escalation ladder."""
        if raw is None:
            return None
        where = "deadlines.sign_for"
        if not isinstance(raw, dict):
            raise self.fail(where, "expected a mapping with within_working_days, remind, escalate")
        extra = sorted(set(map(str, raw)) - {"within_working_days", "remind", "escalate"})
        if extra:
            raise self.fail(f"{where}.{extra[0]}", "unknown key (allowed: escalate, remind, within_working_days)")
        within = self.count(raw, "within_working_days", where, None, 1)
        if within is None:
            raise self.fail(f"{where}.within_working_days", "is required: how many working days a unit has to sign for")
        remind = self.mapping(raw.get("remind"), f"{where}.remind", ("before_working_days", "notify"))
        before = self.days_list(remind.get("before_working_days", [0]), f"{where}.remind.before_working_days")
        if any(b > within for b in before):
            raise self.fail(
                f"{where}.remind.before_working_days",
                f"a reminder {max(before)} working days before would come before the task is assigned "
                f"(within_working_days is {within})",
            )
        return SignFor(
            within_working_days=within,
            remind_before_working_days=tuple(sorted(set(before), reverse=True)),
            remind_notify=self.notify(remind, f"{where}.remind", ("unit_head", "responsible_person")),
            escalation=tuple(self.ladder(raw.get("escalate"), f"{where}.escalate", with_circular=False)),
        )

    def transfer_clock(self, raw: Any, default: str) -> str:
        transfer = raw or {}
        if not isinstance(transfer, dict) or set(transfer) - {"clock"}:
            raise self.fail("deadlines.transfer", "expected a mapping with clock: restart or keep")
        clock = transfer.get("clock", default)
        if clock not in TRANSFER_CLOCKS:
            raise self.fail("deadlines.transfer.clock", f"'{clock}' is not restart or keep")
        return str(clock)

    # --- the kinds of values ---------------------------------------------------------------------

    def mapping(self, raw: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """An optional block of known keys (absent or empty: all defaults)."""
        value = raw or {}
        if not isinstance(value, dict) or set(value) - set(allowed):
            raise self.fail(key, f"expected a mapping with {', '.join(allowed)}")
        return value

    def count(self, mapping: dict[str, Any], name: str, key: str, default: int | None, minimum: int = 0) -> int | None:
        value = mapping.get(name, default)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(f"{key}.{name}", f"expected a whole number ≥ {minimum}, found {value!r}")
        return value

    def notify(self, mapping: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = mapping.get("notify", list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(f"{key}.notify", "expected a list of recipients")
        for r in value:
            if r not in RECIPIENTS:
                raise self.fail(f"{key}.notify", f"unknown recipient '{r}' (known: {', '.join(sorted(RECIPIENTS))})")
        return tuple(value)

    def days_list(self, value: Any, key: str) -> list[int]:
        if not isinstance(value, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in value
        ):
            raise self.fail(key, "expected a list of whole numbers ≥ 0, e.g. [3, 1, 0]")
        return value

    def time_of_day(self, value: Any, key: str) -> time:
        text = str(value)
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
            raise self.fail(key, f"'{text}' is not a time of day such as \"09:00\"")
        hour, minute = map(int, text.split(":"))
        return time(hour, minute)
