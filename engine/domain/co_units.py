"""Lead unit and co-units (牵头/配合): each co-unit's part of a task, its time limits and its history.

A task has one responsible (lead, 牵头) unit; co-units (配合单位) each sign for their part (签收), report on it
to the lead unit (报送配合情况), or are waived by the lead leader with a reason (免于配合). The lead unit may
submit only once every part is reported or waived. Each part has its own sign-for day and report-by day,
set by the workflow's ``deadlines.co_units`` policy when the task is assigned and written into the assign
event, so a circular for a past day replays the parts from the history alone (``replay_parts``).
The circular credits and blames the lead unit for the task; a co-unit's late part is shown on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol

ASSIGNED, SIGNED, REPORTED, WAIVED = "assigned", "signed", "reported", "waived"
PART_STATES = (ASSIGNED, SIGNED, REPORTED, WAIVED)
SETTLED = frozenset({REPORTED, WAIVED})
PART_LABELS = {
    ASSIGNED: ("待签收", "assigned"),
    SIGNED: ("已签收", "signed for"),
    REPORTED: ("已报送", "reported"),
    WAIVED: ("已免于配合", "waived"),
}

# The workflow's triggers for a part's steps (declared in the YAML as internal transitions).
CO_SIGN, CO_REPORT, CO_WAIVE = "co_sign", "co_report", "co_waive"
PART_TRIGGERS = {CO_SIGN: SIGNED, CO_REPORT: REPORTED, CO_WAIVE: WAIVED}

# Who hears of a co-unit's part: the co-unit's head or members, and the task's own people.
CO_RECIPIENTS = frozenset(
    {"co_unit_head", "co_unit", "unit_head", "responsible_person", "lead_leader", "supervisors", "leaders"}
)
_KEYS = {"sign_for_working_days", "report_before_deadline_working_days", "report_within_working_days", "late_notify"}


@dataclass(frozen=True, slots=True)
class CoUnitPolicy:
    """``deadlines.co_units``: a part's time limits, in working days, and who hears when one is late."""

    sign_for_working_days: int = 2  # a co-unit signs for its part within so many working days of the assignment
    report_before_deadline_working_days: int = 3  # its report is due so many working days before the lead's deadline
    report_within_working_days: int = 10  # … or, when the task has no deadline, so many after the assignment
    late_notify: tuple[str, ...] = ("co_unit_head", "unit_head")


class Calendar(Protocol):
    def add_working_days(self, day: date, n: int) -> date: ...
    def subtract_working_days(self, day: date, n: int) -> date: ...
    def working_days_between(self, start: date, end: date) -> int: ...


def parse_co_units(raw: Any, fail: Callable[[str, str], Exception]) -> CoUnitPolicy | None:
    """The ``deadlines.co_units`` mapping; None when absent (parts then have no time limits)."""
    if raw is None:
        return None
    where = "deadlines.co_units"
    if not isinstance(raw, dict):
        raise fail(where, "expected a mapping with " + ", ".join(sorted(_KEYS)))
    extra = sorted(set(map(str, raw)) - _KEYS)
    if extra:
        raise fail(f"{where}.{extra[0]}", f"unknown key (allowed: {', '.join(sorted(_KEYS))})")
    base = CoUnitPolicy()
    values: dict[str, int] = {}
    for name in sorted(_KEYS - {"late_notify"}):
        value = raw.get(name, getattr(base, name))
        if not isinstance(value, int) or isinstance(value, bool) or value < (0 if "before" in name else 1):
            least = 0 if "before" in name else 1
            raise fail(f"{where}.{name}", f"expected a whole number ≥ {least}, found {value!r}")
        values[name] = value
    notify = raw.get("late_notify", list(base.late_notify))
    if isinstance(notify, str):
        notify = [notify]
    if not isinstance(notify, list) or not notify:
        raise fail(f"{where}.late_notify", "expected a list of recipients")
    for r in notify:
        if r not in CO_RECIPIENTS:
            raise fail(f"{where}.late_notify", f"unknown recipient '{r}' (known: {', '.join(sorted(CO_RECIPIENTS))})")
    return CoUnitPolicy(late_notify=tuple(notify), **values)


def part_days(
    policy: CoUnitPolicy | None, assigned_on: date, deadline: date | None, calendar: Calendar
) -> tuple[date | None, date | None]:
    """(sign_by, report_by) of a part assigned on ``assigned_on``; both None without a policy.

    The report is due a few working days before the lead's deadline, so the lead unit has time to put the
    parts together; never before the sign-for day, and never after the deadline itself.
    """
    if policy is None:
        return None, None
    sign_by = calendar.add_working_days(assigned_on, policy.sign_for_working_days)
    if deadline is None:
        return sign_by, calendar.add_working_days(assigned_on, policy.report_within_working_days)
    report_by = calendar.subtract_working_days(deadline, policy.report_before_deadline_working_days)
    return sign_by, min(max(report_by, sign_by), max(deadline, assigned_on))


@dataclass(frozen=True, slots=True)
class Part:
    """One co-unit's part of a task, as it stands (or stood on a past day)."""

    unit_id: int
    unit: str
    state: str = ASSIGNED
    sign_by: date | None = None
    report_by: date | None = None
    signed_on: date | None = None
    settled_on: date | None = None  # reported or waived
    reason: str | None = None  # why it was waived

    @property
    def settled(self) -> bool:
        return self.state in SETTLED

    def late_sign(self, day: date) -> bool:
        """Signed for after its day, or still not signed for after it."""
        if self.sign_by is None or self.state == WAIVED:
            return False
        if self.signed_on is not None:
            return self.signed_on > self.sign_by
        return day > self.sign_by

    def days_late(self, day: date, calendar: Calendar) -> int:
        """Working days the report is (or was) late at ``day``; 0 when on time, waived or not yet due."""
        if self.report_by is None or self.state == WAIVED:
            return 0
        end = self.settled_on if self.state == REPORTED and self.settled_on is not None else day
        if end <= self.report_by:
            return 0
        return max(1, calendar.working_days_between(self.report_by, end))


def part_data(part: Part) -> dict[str, Any]:
    """A part as the assign (or import) event records it."""
    return {
        "unit_id": part.unit_id,
        "unit": part.unit,
        "sign_by": part.sign_by.isoformat() if part.sign_by else None,
        "report_by": part.report_by.isoformat() if part.report_by else None,
    }


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def replay_parts(events: Iterable[tuple[str, date, Any, str | None]], initial: Iterable[Part] = ()) -> dict[int, Part]:
    """The parts after a task's events (trigger, local day, data, comment), in order; events of other kinds
    are passed over. The first event that lists ``co_units`` in its data sets the parts (else ``initial``,
    as assigned: a task imported from a ledger, or assigned before parts had days); each part step names its
    co-unit by ``co_unit_id``.
    """
    parts: dict[int, Part] = {p.unit_id: Part(p.unit_id, p.unit, ASSIGNED, p.sign_by, p.report_by) for p in initial}
    for trigger, day, data, comment in events:
        if not isinstance(data, dict):
            continue
        listed = data.get("co_units")
        if isinstance(listed, list):
            parts = {}
            for p in listed:
                if isinstance(p, dict) and isinstance(p.get("unit_id"), int):
                    parts[p["unit_id"]] = Part(
                        p["unit_id"], str(p.get("unit", "")), ASSIGNED, _day(p.get("sign_by")), _day(p.get("report_by"))
                    )
            continue
        dest = PART_TRIGGERS.get(trigger)
        uid = data.get("co_unit_id")
        if dest is None or not isinstance(uid, int) or uid not in parts:
            continue
        part = parts[uid]
        if dest == SIGNED:
            parts[uid] = replace(part, state=SIGNED, signed_on=day)
        else:
            parts[uid] = replace(
                part,
                state=dest,
                signed_on=part.signed_on or (day if dest == REPORTED else None),
                settled_on=day,
                reason=comment if dest == WAIVED else None,
            )
    return parts


def pick_part(parts: list[Part], unit_id: int, unit_name: str, trigger: str, code: str, action: Any) -> Part:
    """The part a step is about; refused when the unit is no co-unit of the task or its part is done with.

    A part is signed for once; it is reported or waived once (reporting without signing for signs for it).
    """
    from .errors import CoUnitPartDone, NotACoUnit
    from .text import Bilingual

    part = next((p for p in parts if p.unit_id == unit_id), None)
    if part is None:
        known = [p.unit for p in parts] or ["—"]
        raise NotACoUnit(unit=unit_name, code=code, known=Bilingual("、".join(known), ", ".join(known)))
    done = part.settled or (trigger == CO_SIGN and part.state == SIGNED)
    if done:
        zh, en = PART_LABELS[part.state]
        raise CoUnitPartDone(unit=part.unit, code=code, state=Bilingual(zh, en), action=action)
    return part


def needs_parts(trigger_requires: tuple[str, ...], rule_relations: Iterable[frozenset[str]]) -> bool:
    """Does a transition look at the task's co-units (its rules or its requirements)?"""
    return bool({"co_unit_data", "co_units_settled"} & set(trigger_requires)) or any(
        "co_unit" in rels for rels in rule_relations
    )
