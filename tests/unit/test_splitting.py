"""分解: the pure rules (engine/domain/splitting.py) and the machine's sub_tasks_done, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from duban.engine.domain.errors import CommandRequired, DubanError, SubTasksOpen
from duban.engine.domain.machine import Actor, Request, TaskFacts, WorkflowMachine
from duban.engine.domain.registry import WorkflowRegistry
from duban.engine.domain.splitting import (
    SplitPolicy,
    below,
    check_depth,
    check_level,
    check_not_ancestor,
    check_sub_deadline,
    check_target_unit,
    sub_task_code,
)

SPEC = WorkflowRegistry.from_dirs([]).spec("rectification")
MACHINE = WorkflowMachine(SPEC)
HEAD = Actor("head", "负责人", frozenset({"unit_head"}), 1)
LEADER = Actor("leader", "领导", frozenset({"leader"}), None)
PARENTS = {1: None, 2: 1, 3: 2, 4: 1, 5: None}  # 1 → 2 → 3, 1 → 4; 5 apart


def facts(state: str) -> TaskFacts:
    return TaskFacts("ZG-2026-0001", state, 1, "head", "leader", None)


def test_codes_levels_and_deadlines() -> None:
    assert sub_task_code("ZG-2026-0001", 2) == "ZG-2026-0001-2"
    check_depth(SplitPolicy(max_depth=3), 2, "ZG-2026-0001-1")
    with pytest.raises(DubanError, match="level 3"):
        check_depth(SplitPolicy(max_depth=3), 3, "ZG-2026-0001-1-1")
    check_sub_deadline("P", date(2026, 10, 30), date(2026, 10, 30))
    check_sub_deadline("P", None, date(2027, 1, 1))  # an ongoing parent bounds nothing
    check_sub_deadline("P", None, None)
    with pytest.raises(DubanError, match="needs a deadline"):
        check_sub_deadline("P", date(2026, 10, 30), None)  # 长期坚持 under a dated parent
    with pytest.raises(DubanError, match="after the deadline of the parent task P"):
        check_sub_deadline("P", date(2026, 10, 30), date(2026, 10, 31))
    assert check_level("all") == "all"
    with pytest.raises(DubanError):
        check_level("middle")


def test_lower_units_and_cycles() -> None:
    assert below(PARENTS, 1, 3) and below(PARENTS, 2, 3) and not below(PARENTS, 3, 2) and not below(PARENTS, 1, 5)
    assert not below({1: 2, 2: 1}, 3, 1)  # a cycle of parents ends the walk
    policy = SplitPolicy()
    check_target_unit(policy, HEAD.roles, PARENTS, 1, 3, "网格", "支部")
    check_target_unit(policy, LEADER.roles, PARENTS, 1, 5, "科室", "支部")  # a leader splits to any unit
    with pytest.raises(DubanError, match="not under"):
        check_target_unit(policy, HEAD.roles, PARENTS, 2, 4, "网格", "支部")
    check_not_ancestor(["ZG-2026-0001"], "ZG-2026-0001-1")
    with pytest.raises(DubanError, match="its own ancestor"):
        check_not_ancestor(["ZG-2026-0001-1", "ZG-2026-0001"], "ZG-2026-0001")


def test_submit_waits_for_open_sub_tasks_and_split_needs_its_command() -> None:
    open_ones = Request(has_progress_report=lambda: True, open_sub_tasks=lambda: ["ZG-2026-0001-2"])
    with pytest.raises(SubTasksOpen) as info:
        MACHINE.fire(facts("in_progress"), "submit", HEAD, open_ones)
    assert "ZG-2026-0001-2" in info.value.render("en") and "ZG-2026-0001-2" in info.value.render("zh")
    done = Request(has_progress_report=lambda: True)
    assert MACHINE.fire(facts("in_progress"), "submit", HEAD, done).dest == "submitted"
    with pytest.raises(CommandRequired, match="duban split"):
        MACHINE.fire(facts("in_progress"), "split", HEAD, Request())
    assert MACHINE.fire(facts("assigned"), "split", HEAD, Request(split="ZG-2026-0001-1")).dest == "assigned"
    with pytest.raises(CommandRequired, match="duban close-out"):
        MACHINE.fire(facts("in_progress"), "close_out", LEADER, Request(comment="并入"))
