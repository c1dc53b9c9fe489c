"""Substitutes (代理): a person away names someone to stand in for them over a range of dates.

While a substitution is in force the substitute acts with the absent person's roles and relations (every
permission check is made against the absent person), their inbox and notifications go to the substitute,
and each step taken records both names (operator = the substitute, actor = the absent person).

It is in force on a date of its range (in the workspace's zone) from its approval until it is cancelled:
the end is a date, so nothing has to run for it to end, and a replay for a past day reads the same range.

Who may approve, who may stand in and how long a range may be are policy in YAML
(``workflows/policies/substitution.yaml``, or the file ``DUBAN_SUBSTITUTION`` names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .calendar import WorkCalendar
from .errors import BadFile, DubanError
from .text import Bilingual
from .yamlload import load_yaml_file

KIND = "substitution"  # the chain's record kind
PREFIX = "DL"  # 代理: DL-2026-0001
APPROVERS = frozenset({"unit_head", "parent_unit_head", "admin", "leader"})
SCOPES = ("same_unit", "same_or_parent_unit", "any")
COUNTS = ("calendar_days", "working_days")
STATUSES = ("requested", "approved", "denied", "cancelled")


@dataclass(frozen=True, slots=True)
class SubstitutionPolicy:
    # unit_head: the head of the absent person's unit; parent_unit_head: of the unit above; admin/leader: roles
    approve: tuple[str, ...] = ("unit_head", "admin")
    scope: str = "same_unit"  # who may stand in: someone of the same unit, of it or its parent unit, or anyone
    max_days: int = 30
    count: str = "calendar_days"  # how max_days is counted


def load_substitution_policy(path: Path) -> SubstitutionPolicy:
    return parse_substitution_policy(load_yaml_file(path), path)


def parse_substitution_policy(doc: Any, source: object) -> SubstitutionPolicy:
    """``substitution:`` approve, scope, max_days, count; a mistake names the file and the key."""

    def fail(key: str, zh: str, en: str) -> BadFile:
        return BadFile(source, Bilingual(zh, en), key=key)

    if not isinstance(doc, dict) or not isinstance(doc.get("substitution"), dict):
        raise fail(
            "substitution",
            "应在 substitution: 之下写明 approve（谁审批）、scope（谁可代理）、max_days（最长天数）、count（计数方式）",
            "expected a mapping under 'substitution:' with approve, scope, max_days, count",
        )
    raw = doc["substitution"]
    allowed = {"approve", "scope", "max_days", "count"}
    extra = sorted(set(map(str, raw)) - allowed)
    if extra:
        raise fail(
            f"substitution.{extra[0]}",
            f"无此键（可用：{'、'.join(sorted(allowed))}）",
            f"unknown key (allowed: {', '.join(sorted(allowed))})",
        )
    base = SubstitutionPolicy()
    approve = raw.get("approve", list(base.approve))
    if isinstance(approve, str):
        approve = [approve]
    if not isinstance(approve, list) or not approve:
        raise fail(
            "substitution.approve",
            "应为审批人列表，如 [unit_head, admin]",
            "expected a list of approvers, e.g. [unit_head, admin]",
        )
    for who in approve:
        if who not in APPROVERS:
            raise fail(
                "substitution.approve",
                f"没有审批人 '{who}'（可用：{'、'.join(sorted(APPROVERS))}）",
                f"unknown approver '{who}' (known: {', '.join(sorted(APPROVERS))})",
            )
    scope = raw.get("scope", base.scope)
    if scope not in SCOPES:
        raise fail(
            "substitution.scope",
            f"'{scope}' 不在可选值 {'、'.join(SCOPES)} 之中",
            f"'{scope}' is not one of {', '.join(SCOPES)}",
        )
    max_days = raw.get("max_days", base.max_days)
    if not isinstance(max_days, int) or isinstance(max_days, bool) or max_days < 1:
        raise fail(
            "substitution.max_days",
            f"应为不小于 1 的整数，而不是 {max_days!r}",
            f"expected a whole number ≥ 1, found {max_days!r}",
        )
    count = raw.get("count", base.count)
    if count not in COUNTS:
        raise fail(
            "substitution.count",
            f"'{count}' 不在可选值 {'、'.join(COUNTS)} 之中",
            f"'{count}' is not one of {', '.join(COUNTS)}",
        )
    return SubstitutionPolicy(tuple(dict.fromkeys(approve)), scope, max_days, count)


@dataclass(frozen=True, slots=True)
class Substitution:
    """One substitution as its latest chained body (and its table row) says."""

    code: str
    absent_id: str
    substitute_id: str
    starts_on: date
    ends_on: date
    reason: str
    status: str  # requested | approved | denied | cancelled
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None

    def in_force(self, at: datetime, day: date) -> bool:
        """Whether the substitute stands in at the instant ``at`` (whose local date is ``day``)."""
        if self.decided_at is None or self.status not in ("approved", "cancelled") or at < self.decided_at:
            return False
        if self.cancelled_at is not None and at >= self.cancelled_at:
            return False
        return self.starts_on <= day <= self.ends_on

    def overlaps(self, start: date, end: date) -> bool:
        return self.starts_on <= end and start <= self.ends_on

    def body(self) -> dict[str, Any]:
        return substitution_body(
            {
                "absent_id": self.absent_id,
                "substitute_id": self.substitute_id,
                "starts_on": self.starts_on,
                "ends_on": self.ends_on,
                "reason": self.reason,
                "status": self.status,
                "requested_by": self.requested_by,
                "requested_at": self.requested_at,
                "decided_by": self.decided_by,
                "decided_at": self.decided_at,
                "cancelled_by": self.cancelled_by,
                "cancelled_at": self.cancelled_at,
            }
        )

    @classmethod
    def from_body(cls, code: str, b: dict[str, Any]) -> Substitution:
        def instant(v: Any) -> datetime | None:
            return datetime.fromisoformat(str(v)) if v else None

        return cls(
            code=code,
            absent_id=str(b["absent_id"]),
            substitute_id=str(b["substitute_id"]),
            starts_on=date.fromisoformat(str(b["starts_on"])),
            ends_on=date.fromisoformat(str(b["ends_on"])),
            reason=str(b.get("reason") or ""),
            status=str(b["status"]),
            requested_by=str(b["requested_by"]),
            requested_at=instant(b["requested_at"]) or datetime.min,
            decided_by=b.get("decided_by"),
            decided_at=instant(b.get("decided_at")),
            cancelled_by=b.get("cancelled_by"),
            cancelled_at=instant(b.get("cancelled_at")),
        )


def _instant(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.isoformat()
    return datetime.fromisoformat(str(v)).isoformat()


def _day(v: Any) -> str:
    return v.isoformat() if isinstance(v, date) else date.fromisoformat(str(v)[:10]).isoformat()


def substitution_body(row: Any) -> dict[str, Any]:
    """The shape shared by the chained record and the table row, so ``audit verify`` can compare them."""
    return {
        "absent_id": row["absent_id"],
        "substitute_id": row["substitute_id"],
        "starts_on": _day(row["starts_on"]),
        "ends_on": _day(row["ends_on"]),
        "reason": row["reason"],
        "status": row["status"],
        "requested_by": row["requested_by"],
        "requested_at": _instant(row["requested_at"]),
        "decided_by": row["decided_by"],
        "decided_at": _instant(row["decided_at"]),
        "cancelled_by": row["cancelled_by"],
        "cancelled_at": _instant(row["cancelled_at"]),
    }


def range_length(policy: SubstitutionPolicy, start: date, end: date, calendar: WorkCalendar) -> int:
    """How many days the range counts, as the policy counts them (both ends included)."""
    if policy.count == "working_days":
        return calendar.working_days_between(start, end) + (1 if calendar.is_working_day(start) else 0)
    return (end - start).days + 1


def may_stand_in(policy: SubstitutionPolicy, absent_unit: int | None, sub_unit: int | None, parent: int | None) -> bool:
    """Whether someone of ``sub_unit`` may stand in for someone of ``absent_unit`` (whose parent is ``parent``)."""
    if policy.scope == "any":
        return True
    if sub_unit is None or absent_unit is None:
        return False
    if sub_unit == absent_unit:
        return True
    return policy.scope == "same_or_parent_unit" and parent is not None and sub_unit == parent


def stand_ins(found: list[Substitution], at: datetime, day: date) -> dict[str, Substitution]:
    """absent person → the substitution in force at ``at``; ranges do not overlap, so there is one at most."""
    return {s.absent_id: s for s in found if s.in_force(at, day)}


# --- refusals ------------------------------------------------------------------------------------------


class UnknownSubstitution(DubanError):
    exit_code = 3
    zh = "没有编号为 {code} 的代理；用 'duban substitute list' 查看"
    en = "no substitution {code}; 'duban substitute list' shows them"


class NotStandingIn(DubanError):
    exit_code = 4
    zh = "{person} 今天（{day}）不是 {absent} 的已批准代理人，不能代其操作；用 'duban substitute list' 查看"
    en = "{person} is not an approved substitute for {absent} today ({day}), so cannot act for them; see 'duban substitute list'"


class SubstitutionDecided(DubanError):
    exit_code = 5
    zh = "代理 {code} 当前为“{status}”，不能再{action}"
    en = "substitution {code} is {status} already, so it cannot be {action}"
