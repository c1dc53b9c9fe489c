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
    base = DeadlinePolicy()

    def count(mapping: dict[str, Any], name: str, key: str, default: int | None, minimum: int = 0) -> int | None:
        value = mapping.get(name, default)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise fail(f"{key}.{name}", f"expected a whole number ≥ {minimum}, found {value!r}")
        return value

    def notify(mapping: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = mapping.get("notify", list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise fail(f"{key}.notify", "expected a list of recipients")
        for r in value:
            if r not in RECIPIENTS:
                raise fail(f"{key}.notify", f"unknown recipient '{r}' (known: {', '.join(sorted(RECIPIENTS))})")
        return tuple(value)

    def ladder(levels: Any, where: str, *, with_circular: bool) -> list[Escalation]:
        if levels is None:
            levels = []
        if not isinstance(levels, list):
            raise fail(where, "expected a list of levels")
        # the deadline's own ladder may name the overdue in the circular and issue a 督办单; the sign-for ladder may not
        allowed = {"level", "after_working_days", "notify"} | ({"name_in_circular", "notice"} if with_circular else set())
        escalation: list[Escalation] = []
        for i, item in enumerate(levels):
            key = f"{where}[{i}]"
            if not isinstance(item, dict) or set(item) - allowed:
                raise fail(key, "expected {" + ", ".join(sorted(allowed)) + "}")
            level = count(item, "level", key, None, 1)
            after = count(item, "after_working_days", key, None, 1)
            if level is None or after is None:
                raise fail(key, "level and after_working_days are required")
            if level != i + 1:
                raise fail(f"{key}.level", f"levels go 1, 2, 3 … in order; expected {i + 1}, found {level}")
            if escalation and after <= escalation[-1].after_working_days:
                raise fail(f"{key}.after_working_days", "each level comes later than the one before")
            circular = item.get("name_in_circular", False)
            if not isinstance(circular, bool):
                raise fail(f"{key}.name_in_circular", "expected true or false")
            notice = item.get("notice")
            if notice is not None and notice not in NOTICE_COLORS:
                raise fail(
                    f"{key}.notice", f"'{notice}' is not one of {', '.join(NOTICE_COLORS)} (the colour of the 督办单)"
                )
            escalation.append(Escalation(level, after, notify(item, key, ("unit_head",)), circular, notice))
        return escalation

    def days_list(value: Any, key: str) -> list[int]:
        if not isinstance(value, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in value
        ):
            raise fail(key, "expected a list of whole numbers ≥ 0, e.g. [3, 1, 0]")
        return value

    remind = raw.get("remind") or {}
    if not isinstance(remind, dict) or set(remind) - {"before_working_days", "at", "notify"}:
        raise fail("deadlines.remind", "expected a mapping with before_working_days, at, notify")
    before = days_list(
        remind.get("before_working_days", list(base.remind_before_working_days)), "deadlines.remind.before_working_days"
    )
    at_text = str(remind.get("at", "09:00"))
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at_text):
        raise fail("deadlines.remind.at", f"'{at_text}' is not a time of day such as \"09:00\"")
    hour, minute = map(int, at_text.split(":"))

    escalation = ladder(raw.get("escalate"), "deadlines.escalate", with_circular=True)

    stale = raw.get("stale_progress") or {}
    if not isinstance(stale, dict) or set(stale) - {"after_days", "notify"}:
        raise fail("deadlines.stale_progress", "expected a mapping with after_days, notify")

    sign_for = None
    sign_raw = raw.get("sign_for")
    if sign_raw is not None:
        where = "deadlines.sign_for"
        if not isinstance(sign_raw, dict):
            raise fail(where, "expected a mapping with within_working_days, remind, escalate")
        extra = sorted(set(map(str, sign_raw)) - {"within_working_days", "remind", "escalate"})
        if extra:
            raise fail(f"{where}.{extra[0]}", "unknown key (allowed: escalate, remind, within_working_days)")
        within = count(sign_raw, "within_working_days", where, None, 1)
        if within is None:
            raise fail(f"{where}.within_working_days", "is required: how many working days a unit has to sign for")
        sign_remind = sign_raw.get("remind") or {}
        if not isinstance(sign_remind, dict) or set(sign_remind) - {"before_working_days", "notify"}:
            raise fail(f"{where}.remind", "expected a mapping with before_working_days, notify")
        sign_before = days_list(sign_remind.get("before_working_days", [0]), f"{where}.remind.before_working_days")
        if any(b > within for b in sign_before):
            raise fail(
                f"{where}.remind.before_working_days",
                f"a reminder {max(sign_before)} working days before would come before the task is assigned "
                f"(within_working_days is {within})",
            )
        sign_for = SignFor(
            within_working_days=within,
            remind_before_working_days=tuple(sorted(set(sign_before), reverse=True)),
            remind_notify=notify(sign_remind, f"{where}.remind", ("unit_head", "responsible_person")),
            escalation=tuple(ladder(sign_raw.get("escalate"), f"{where}.escalate", with_circular=False)),
        )

    transfer_raw = raw.get("transfer") or {}
    if not isinstance(transfer_raw, dict) or set(transfer_raw) - {"clock"}:
        raise fail("deadlines.transfer", "expected a mapping with clock: restart or keep")
    transfer_clock = transfer_raw.get("clock", base.transfer_clock)
    if transfer_clock not in TRANSFER_CLOCKS:
        raise fail("deadlines.transfer.clock", f"'{transfer_clock}' is not restart or keep")

    return DeadlinePolicy(
        at_once_working_days=count(raw, "at_once_working_days", "deadlines", base.at_once_working_days, 1) or 1,
        ongoing_report_every_days=count(
            raw, "ongoing_report_every_days", "deadlines", base.ongoing_report_every_days, 1
        )
        or 1,
        yellow_within_working_days=count(
            raw, "yellow_within_working_days", "deadlines", base.yellow_within_working_days
        )
        or 0,
        remind_before_working_days=tuple(sorted(set(before), reverse=True)),
        remind_at=time(hour, minute),
        remind_notify=notify(remind, "deadlines.remind", base.remind_notify),
        escalation=tuple(escalation),
        stale_progress_days=count(stale, "after_days", "deadlines.stale_progress", base.stale_progress_days, 1),
        stale_notify=notify(stale, "deadlines.stale_progress", base.stale_notify),
        notice_reply_working_days=count(
            raw, "notice_reply_working_days", "deadlines", base.notice_reply_working_days, 1
        )
        or base.notice_reply_working_days,
        sign_for=sign_for,
        transfer_clock=transfer_clock,
    )
