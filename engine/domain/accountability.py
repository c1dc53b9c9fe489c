"""Accountability records (问责): opened for a task at the red level, closed when the matter is settled.

Who may open and close one, and the kinds an office uses (约谈, 通报批评,
责令检查, 移交纪检), are policy in YAML. A record is kept on the chain (kind
``accountability``) as its whole state after each change, so ``audit verify``
catches an edit, and its state on any past date is the last body up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .errors import BadFile, DubanError
from .policy import DeadlinePolicy
from .text import Bilingual
from .yamlload import load_yaml_file

KIND = "accountability"  # the chain's record kind
ROLES = frozenset({"supervisor", "leader", "admin", "unit_head", "unit_member"})


@dataclass(frozen=True, slots=True)
class AccountabilityPolicy:
    kinds: tuple[str, ...] = ("约谈", "通报批评", "责令检查", "移交纪检")
    may_open: frozenset[str] = frozenset({"supervisor"})
    may_close: frozenset[str] = frozenset({"supervisor"})


def load_accountability_policy(path: Path) -> AccountabilityPolicy:
    return parse_accountability_policy(load_yaml_file(path), path)


def parse_accountability_policy(doc: Any, source: object) -> AccountabilityPolicy:
    def fail(key: str, zh: str, en: str) -> BadFile:
        return BadFile(source, Bilingual(zh, en), key=key)

    if not isinstance(doc, dict) or not isinstance(doc.get("accountability"), dict):
        raise fail(
            "accountability",
            "应在 accountability: 之下写明 kinds（问责方式）、open（可登记的角色）、close（可办结的角色）",
            "expected a mapping under 'accountability:' with kinds, open, close",
        )
    raw = doc["accountability"]
    extra = sorted(set(map(str, raw)) - {"kinds", "open", "close"})
    if extra:
        raise fail(
            f"accountability.{extra[0]}",
            "无此键（可用：close、kinds、open）",
            "unknown key (allowed: close, kinds, open)",
        )
    kinds = raw.get("kinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k.strip() for k in kinds):
        raise fail(
            "accountability.kinds",
            "应为问责方式列表，如 [约谈, 通报批评, 责令检查, 移交纪检]",
            "expected a list of kinds, e.g. [约谈, 通报批评, 责令检查, 移交纪检]",
        )
    if len(set(kinds)) != len(kinds):
        raise fail("accountability.kinds", "有问责方式重复列出；请只保留一个", "a kind is listed twice")

    def roles(key: str) -> frozenset[str]:
        value = raw.get(key)
        if not isinstance(value, list) or not value:
            raise fail(
                f"accountability.{key}", "应为角色列表，如 [supervisor]", "expected a list of roles, e.g. [supervisor]"
            )
        for role in value:
            if role not in ROLES:
                raise fail(
                    f"accountability.{key}",
                    f"没有角色 '{role}'（可用：{'、'.join(sorted(ROLES))}）",
                    f"unknown role '{role}' (known: {', '.join(sorted(ROLES))})",
                )
        return frozenset(value)

    return AccountabilityPolicy(tuple(k.strip() for k in kinds), roles("open"), roles("close"))


@dataclass(frozen=True, slots=True)
class AccountabilityRecord:
    """A record as its latest chained body says; ``number`` is its id, e.g. WZ-2026-0003."""

    number: str
    task: str
    unit: str
    kind: str
    persons: tuple[str, ...]
    decision: str
    decided_on: date
    status: str  # open | closed
    opened_by: str
    closed_by: str | None = None
    closed_on: date | None = None
    closing_note: str | None = None
    campaign: str | None = None  # the task's campaign (专项), so a circular cut to one names its records only

    def body(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "campaign": self.campaign,
            "unit": self.unit,
            "kind": self.kind,
            "persons": list(self.persons),
            "decision": self.decision,
            "decided_on": self.decided_on.isoformat(),
            "status": self.status,
            "opened_by": self.opened_by,
            "closed_by": self.closed_by,
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "closing_note": self.closing_note,
        }

    @classmethod
    def from_body(cls, number: str, b: dict[str, Any]) -> AccountabilityRecord:
        return cls(
            number=number,
            task=str(b.get("task")),
            unit=str(b.get("unit")),
            kind=str(b.get("kind")),
            persons=tuple(b.get("persons") or ()),
            decision=str(b.get("decision") or ""),
            decided_on=date.fromisoformat(str(b.get("decided_on"))),
            status=str(b.get("status")),
            opened_by=str(b.get("opened_by")),
            closed_by=b.get("closed_by"),
            closed_on=date.fromisoformat(b["closed_on"]) if b.get("closed_on") else None,
            closing_note=b.get("closing_note"),
            campaign=b.get("campaign"),
        )


def record_number(year: int, n: int) -> str:
    return f"WZ-{year}-{n:04d}"


def red_level(policy: DeadlinePolicy) -> int:
    """The highest escalation level of a deadline policy: the red level; 0 when the policy escalates nowhere."""
    return max((e.level for e in policy.escalation), default=0)


class NotRedLevel(DubanError):
    exit_code = 5
    zh = "任务 {code} 未到红色督办层级（{why}）：问责只对已升至最高督办层级（第 {red} 级）的逾期任务启动"
    en = "task {code} is not at the red level ({why}): accountability records are opened for tasks escalated to level {red}, the highest"


class UnknownAccountability(DubanError):
    exit_code = 3
    zh = "没有编号为 {number} 的问责记录；用 'duban accountability list' 查看"
    en = "no accountability record {number}; 'duban accountability list' shows them"


class AccountabilityClosed(DubanError):
    exit_code = 5
    zh = "问责记录 {number} 已于 {on} 办结，不能再次办结"
    en = "accountability record {number} was closed on {on} already"
