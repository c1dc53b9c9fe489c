"""The domain interpreter, without any database: permissions, requirements, refusals, replay."""

from __future__ import annotations

import pytest

from duban.engine.domain.errors import (
    InvalidTransition,
    NotPermitted,
    ProgressReportRequired,
    ReasonRequired,
    UnknownTrigger,
)
from duban.engine.domain.machine import Actor, Request, TaskFacts, replay
from duban.engine.domain.registry import WorkflowRegistry

REG = WorkflowRegistry.from_dirs()
MACHINE = REG.machine("rectification")
SPEC = MACHINE.spec

LEADER = Actor("lead", "领导甲", frozenset({"leader"}), unit_id=1)
OTHER_LEADER = Actor("lead2", "领导乙", frozenset({"leader"}), unit_id=1)
HEAD = Actor("head", "科长", frozenset({"unit_head"}), unit_id=7)
MEMBER = Actor("member", "科员", frozenset({"unit_member"}), unit_id=7)
STRANGER = Actor("stranger", "外单位", frozenset({"unit_member"}), unit_id=8)
SUPERVISOR = Actor("sup", "督查", frozenset({"supervisor"}), unit_id=2)


def task(state: str) -> TaskFacts:
    return TaskFacts(
        code="ZG-2026-0001",
        state=state,
        unit_id=7,
        unit_head_id="head",
        lead_leader_id="lead",
        responsible_person_id="member",
    )


def test_full_spine_by_the_right_people() -> None:
    steps = [
        ("assigned", "start", MEMBER, Request(), "in_progress"),
        ("in_progress", "progress", MEMBER, Request(progress=object()), "in_progress"),
        ("in_progress", "submit", HEAD, Request(has_progress_report=lambda: True), "submitted"),
        ("submitted", "reject", LEADER, Request(comment="证据不足"), "in_progress"),
        ("submitted", "approve", LEADER, Request(), "reviewed"),
        ("reviewed", "close", LEADER, Request(), "closed"),
        ("closed", "reopen", OTHER_LEADER, Request(comment="问题反弹"), "in_progress"),
        ("reviewed", "cancel", OTHER_LEADER, Request(comment="重复"), "cancelled"),
    ]
    for state, trigger, actor, request, dest in steps:
        outcome = MACHINE.fire(task(state), trigger, actor, request)
        assert (outcome.source, outcome.dest) == (state, dest), trigger


def test_one_machine_per_definition_and_no_task_stays_attached() -> None:
    assert REG.machine("rectification") is MACHINE
    for _ in range(50):
        MACHINE.fire(task("assigned"), "start", MEMBER, Request())
    assert MACHINE.machine.models == []


def test_unit_of_another_unit_is_refused_with_the_rule() -> None:
    with pytest.raises(NotPermitted) as info:
        MACHINE.fire(task("assigned"), "start", STRANGER, Request())
    assert "of the responsible unit" in info.value.render("en")
    assert "须属责任单位" in info.value.render("zh")


def test_only_the_lead_leader_approves() -> None:
    with pytest.raises(NotPermitted):
        MACHINE.fire(task("submitted"), "approve", OTHER_LEADER, Request())
    with pytest.raises(NotPermitted):
        MACHINE.fire(task("submitted"), "approve", SUPERVISOR, Request())


def test_unit_head_counts_as_the_unit_even_when_filed_elsewhere() -> None:
    head_elsewhere = Actor("head", "科长", frozenset({"unit_head"}), unit_id=99)
    assert MACHINE.fire(task("assigned"), "start", head_elsewhere, Request()).dest == "in_progress"


def test_wrong_state_names_the_allowed_triggers() -> None:
    with pytest.raises(InvalidTransition) as info:
        MACHINE.fire(task("in_progress"), "approve", LEADER, Request())
    message = info.value.render("en")
    assert "task ZG-2026-0001 is in progress" in message
    assert "allowed from in progress: progress, submit, cancel, remind, extend" in message
    assert "提交验收(submit)" in info.value.render("zh")


def test_requirements_say_what_is_missing() -> None:
    with pytest.raises(ReasonRequired):
        MACHINE.fire(task("submitted"), "reject", LEADER, Request(comment="   "))
    with pytest.raises(ProgressReportRequired):
        MACHINE.fire(task("in_progress"), "submit", MEMBER, Request(has_progress_report=lambda: False))
    with pytest.raises(ProgressReportRequired):  # 'progress' only through 'duban progress', with its data
        MACHINE.fire(task("in_progress"), "progress", MEMBER, Request())


def test_permission_is_checked_before_requirements() -> None:
    asked = []
    with pytest.raises(NotPermitted):
        MACHINE.fire(
            task("in_progress"), "submit", STRANGER, Request(has_progress_report=lambda: asked.append(1) or True)
        )
    assert asked == []


def test_unknown_trigger() -> None:
    with pytest.raises(UnknownTrigger) as info:
        MACHINE.fire(task("assigned"), "finish", LEADER, Request())
    assert "known: start, progress, submit" in info.value.render("en")


def test_allowed_for_lists_what_an_actor_may_do() -> None:
    assert MACHINE.allowed_for(task("in_progress"), MEMBER) == ["progress", "submit", "extend", "ask_suspension"]
    assert MACHINE.allowed_for(task("submitted"), LEADER) == [
        "approve",
        "reject",
        "cancel",
        "grant_extension",
        "deny_extension",
        "close_out",  # the machine's answer; show offers 核销 on sub-tasks only
    ]
    assert MACHINE.allowed_for(task("in_progress"), SUPERVISOR) == ["remind", "propose_transfer"]
    assert MACHINE.allowed_for(task("submitted"), STRANGER) == []
    assert MACHINE.may_create(LEADER) and not MACHINE.may_create(HEAD)


def test_replay_follows_the_definition() -> None:
    history = [
        ("assign", None, "assigned"),
        ("start", "assigned", "in_progress"),
        ("progress", "in_progress", "in_progress"),
        ("submit", "in_progress", "submitted"),
    ]
    assert replay(SPEC, history) == "submitted"
    with pytest.raises(ValueError, match="starts from"):
        replay(SPEC, [*history, ("close", "reviewed", "closed")])
    with pytest.raises(ValueError, match="not in workflow"):
        replay(SPEC, [*history[:2], ("close", "in_progress", "closed")])
