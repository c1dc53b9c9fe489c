"""分解/多级交办: the rules of splitting a task into sub-tasks for lower units, apart from any store.

A county task becomes township tasks, an assistance plan becomes one per household: each sub-task is a full
task (its own code, state, deadline and reminders) whose deadline is no later than its parent's, so the
parent can be met. The workflow's ``split`` block says who may split to any unit (by role) and how deep the
levels go; everyone else the ``split`` transition allows splits only to units below the responsible unit.
The parent's ``submit`` requires ``sub_tasks_done``: no sub-task still open, unless a leader closed it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .errors import InvalidInput
from .text import Bilingual

SPLIT_TRIGGER = "split"  # the parent's internal transition: who may split, from which states
CLOSE_OUT_TRIGGER = "close_out"  # a leader closes a sub-task out, with a reason, so the parent may go on
LEVELS = ("top", "all")  # a circular counts top tasks (the default) or every level
WHAT = Bilingual("分解交办", "split")


@dataclass(frozen=True, slots=True)
class SplitPolicy:
    """The ``split`` block of a workflow definition."""

    any_unit_roles: frozenset[str] = frozenset({"leader"})  # may split to any unit; others only to lower units
    max_depth: int = 3  # a top task is level 1; its sub-tasks level 2; …


def parse_split(raw: Any, fail: Callable[[str, str], Exception], roles: frozenset[str]) -> SplitPolicy:
    """``split: {any_unit: [leader], max_depth: 3}``; every mistake names its key."""
    if raw is None:
        return SplitPolicy()
    if not isinstance(raw, dict):
        raise fail("split", "expected a mapping {any_unit, max_depth}")
    extra = sorted(set(map(str, raw)) - {"any_unit", "max_depth"})
    if extra:
        raise fail(f"split.{extra[0]}", "unknown key (allowed: any_unit, max_depth)")
    any_unit = raw.get("any_unit", ["leader"])
    if isinstance(any_unit, str):
        any_unit = [any_unit]
    if not isinstance(any_unit, list) or not all(isinstance(r, str) for r in any_unit):
        raise fail("split.any_unit", "expected a list of roles")
    for role in any_unit:
        if role not in roles:
            raise fail("split.any_unit", f"unknown role '{role}' (known: {', '.join(sorted(roles))})")
    depth = raw.get("max_depth", 3)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 2 <= depth <= 5:
        raise fail("split.max_depth", f"expected a whole number from 2 to 5, found {depth!r}")
    return SplitPolicy(frozenset(any_unit), depth)


def sub_task_code(parent_code: str, number: int) -> str:
    """ZG-2026-0001 → ZG-2026-0001-1: the code says whose sub-task it is."""
    return f"{parent_code}-{number}"


def check_depth(policy: SplitPolicy, parent_depth: int, parent_code: str) -> None:
    """``parent_depth``: 1 for a top task. A sub-task would be one level deeper."""
    if parent_depth + 1 > policy.max_depth:
        raise InvalidInput(
            what=WHAT,
            detail=Bilingual(
                f"任务 {parent_code} 已是第 {parent_depth} 级，流程只允许分解到第 {policy.max_depth} 级",
                f"{parent_code} is at level {parent_depth}; the workflow splits down to level {policy.max_depth} only",
            ),
        )


def check_sub_deadline(parent_code: str, parent_deadline: date | None, deadline: date | None) -> None:
    """A sub-task is due no later than its parent: its deadline, or a moved one, may not pass the parent's;
    under a parent with a deadline it has one too (not 长期坚持)."""
    if parent_deadline is not None and deadline is None:
        raise InvalidInput(
            what=Bilingual("子任务时限", "sub-task deadline"),
            detail=Bilingual(
                f"上级任务 {parent_code} 的时限是 {parent_deadline}，子任务须有不晚于它的时限",
                f"the parent task {parent_code} is due {parent_deadline}; a sub-task needs a deadline no later",
            ),
        )
    if parent_deadline is not None and deadline is not None and deadline > parent_deadline:
        raise InvalidInput(
            what=Bilingual("子任务时限", "sub-task deadline"),
            detail=Bilingual(
                f"{deadline} 晚于上级任务 {parent_code} 的时限 {parent_deadline}",
                f"{deadline} is after the deadline of the parent task {parent_code} ({parent_deadline})",
            ),
        )


def below(parents: Mapping[int, int | None], unit: int, target: int) -> bool:
    """Whether ``target`` is a unit under ``unit`` (any number of levels down); a cycle of parents stops it."""
    seen: set[int] = set()
    cur = parents.get(target)
    while cur is not None and cur not in seen:
        if cur == unit:
            return True
        seen.add(cur)
        cur = parents.get(cur)
    return False


def check_target_unit(
    policy: SplitPolicy,
    actor_roles: frozenset[str],
    parents: Mapping[int, int | None],
    unit: int,
    target: int,
    target_name: str,
    unit_name: str,
) -> None:
    """Who is not of ``any_unit`` splits only to units below the responsible unit."""
    if not policy.any_unit_roles.isdisjoint(actor_roles):
        return
    if not below(parents, unit, target):
        raise InvalidInput(
            what=Bilingual("--unit", "--unit"),
            detail=Bilingual(
                f"{target_name} 不是 {unit_name} 的下级单位；责任单位只能分解给本单位的下级单位（领导可分解给任何单位）",
                f"{target_name} is not under {unit_name}; a responsible unit splits to its own lower units only "
                "(a leader may split to any unit)",
            ),
        )


def check_not_ancestor(chain: list[str], code: str) -> None:
    """A task is never its own ancestor: the parent chain, read upwards, must not come back to it."""
    if code in chain:
        raise InvalidInput(
            what=WHAT,
            detail=Bilingual(
                f"任务 {code} 的上级任务层层上溯又回到了它自己（分解成环）",
                f"{code} would be its own ancestor (a cycle of sub-tasks)",
            ),
        )


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InvalidInput(
            what="--level",
            detail=Bilingual(f"'{level}' 不是 top 或 all", f"'{level}' is not top or all"),
        )
    return level


def open_sub_tasks_text(codes: list[str]) -> Bilingual:
    return Bilingual("、".join(codes), ", ".join(codes))
