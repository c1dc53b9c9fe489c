"""Workflow definitions: the built-ins load, and every kind of mistake is named by file and key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from duban.engine.domain.errors import DefinitionError
from duban.engine.domain.registry import WorkflowRegistry
from duban.engine.domain.workflow import load_workflow_file, parse_workflow
from duban.workflows import BUILTIN_DIR

BASE: dict[str, Any] = yaml.safe_load((BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8"))


class _NoAliases(yaml.SafeDumper):
    """Written out in full, as a person writes a definition: duban refuses YAML aliases."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def variant(mutate) -> str:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(BASE)
    mutate(doc)
    return yaml.dump(doc, Dumper=_NoAliases, allow_unicode=True)


def refusal(text: str) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_workflow(text, "wf.yaml")
    return info.value.render("en")


def transition(doc: dict[str, Any], trigger: str) -> dict[str, Any]:
    return next(t for t in doc["transitions"] if t["trigger"] == trigger)


def test_builtins_load_with_the_issue_spine() -> None:
    reg = WorkflowRegistry.from_dirs()
    assert reg.names() == ["assistance", "rectification"]
    spec = reg.spec("rectification")
    assert list(spec.states) == [
        "assigned",
        "in_progress",
        "submitted",
        "reviewed",
        "verified",  # 复核, optional before closing
        "closed",
        "cancelled",
        "returned",  # 退办
        "suspended",  # 挂起
    ]
    spine = [
        (t.trigger, t.sources, t.dest) for t in spec.transitions if t.trigger in ("start", "submit", "approve", "close")
    ]
    assert spine == [
        ("start", ("assigned",), "in_progress"),
        ("submit", ("in_progress",), "submitted"),
        ("approve", ("submitted",), "reviewed"),
        ("close", ("reviewed", "verified"), "closed"),
    ]
    cancel = next(t for t in spec.transitions if t.trigger == "cancel")
    assert set(cancel.sources) == {
        "assigned",
        "in_progress",
        "submitted",
        "reviewed",
        "verified",
        "returned",
        "suspended",
    }
    # 我的待办 lists a task for what waits for the person, not for what is always at hand (standing steps)
    assert {t.trigger for t in spec.transitions if t.standing} >= {"cancel", "suspend", "transfer", "remind"}
    assert not {t.trigger for t in spec.transitions if t.standing} & {
        "start",
        "submit",
        "approve",
        "reassign",
        "resume",
    }
    assert spec.state("submitted").clock is False and spec.state("in_progress").clock is True
    assert spec.state("closed").label.zh == "已销号"
    assert "household" in reg.spec("assistance").fields


def test_version_is_a_content_hash() -> None:
    same = parse_workflow(variant(lambda d: None), "a.yaml")
    again = parse_workflow("# a comment changes nothing\n" + variant(lambda d: None), "b.yaml")
    changed = parse_workflow(variant(lambda d: d["states"][0].update(zh="已派发")), "c.yaml")
    assert same.version == again.version
    assert changed.version != same.version


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: transition(d, "approve").update(dest="reviwed"),
            "wf.yaml: transitions[3] (approve).dest: unknown state 'reviwed'",
        ),
        (
            lambda d: transition(d, "start").update(source="asigned"),
            "wf.yaml: transitions[0] (start).source: unknown state 'asigned'",
        ),
        (
            lambda d: d["transitions"].append({**transition(d, "reject"), "dest": "closed"}),
            "trigger 'reject' is already defined from state 'submitted' in transitions[4]",
        ),
        (
            lambda d: transition(d, "start")["who"][0].update(roles=["boss"]),
            "transitions[0] (start).who[0].roles: unknown role 'boss'",
        ),
        (
            lambda d: transition(d, "approve")["who"][0].update(relation="friend"),
            "transitions[3] (approve).who[0].relation: unknown relation 'friend'",
        ),
        (lambda d: [s.update(final=False) for s in d["states"]], "wf.yaml: states: no state is final"),
        (
            lambda d: d["states"].append({"key": "archived", "zh": "归档", "en": "archived", "final": True}),
            "wf.yaml: states[9] (archived): unreachable from the initial state 'assigned'",
        ),
        (
            lambda d: transition(d, "submit").update(requires=["photo"]),
            "transitions[2] (submit).requires: unknown requirement 'photo'",
        ),
        (lambda d: d.update(initial="draft"), "wf.yaml: initial: unknown state 'draft'"),
        (
            lambda d: transition(d, "suspend").update(standing="yes"),
            "transitions[21] (suspend).standing: expected true or false, found 'yes'",
        ),
        (lambda d: d.update(colour="red"), "wf.yaml: colour: unknown key"),
        (lambda d: transition(d, "close").pop("who"), "transitions[5] (close).who: is required"),
        (lambda d: d["states"].append(dict(d["states"][0])), "states[9].key: state 'assigned' is defined twice"),
        (lambda d: d.update(states="assigned"), "wf.yaml: states: expected a non-empty list of states"),
        (
            lambda d: (
                d["fields"].update(size={"type": "float", "zh": "x", "en": "x"})
                if "fields" in d
                else d.update(fields={"size": {"type": "float", "zh": "x", "en": "x"}})
            ),
            "wf.yaml: fields.size.type: unknown type 'float'",
        ),
    ],
)
def test_each_mistake_is_named_by_file_and_key(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert expected in refusal(variant(mutate))


def test_malformed_yaml_names_line() -> None:
    message = refusal("name: x\nstates: [\n  - key: a\n")
    assert message.startswith("wf.yaml: line ")
    assert "not valid YAML" in message


def test_empty_and_non_mapping_files() -> None:
    assert "the file is empty" in refusal("")
    assert "expected a mapping" in refusal("- a\n- b\n")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_workflow_file(tmp_path / "nope.yaml")
    assert "nope.yaml: no such file" in info.value.render("en")


def test_override_directory_replaces_a_builtin(tmp_path: Path) -> None:
    (tmp_path / "rectification.yaml").write_text(
        variant(lambda d: transition(d, "close")["who"].append({"roles": ["supervisor"]})), encoding="utf-8"
    )
    reg = WorkflowRegistry.from_dirs([tmp_path])
    close = next(t for t in reg.spec("rectification").transitions if t.trigger == "close")
    assert len(close.who) == 2
    assert reg.spec("rectification").source == str(tmp_path / "rectification.yaml")
