"""Workflow definitions: the spec, read from YAML and validated at load.

A definition is data (``workflows/*.yaml``); running tasks only refer to it by
name and version, as SpiffWorkflow separates a spec from its instances. Every
mistake in a file is reported with the file and the key, because the person
fixing it is editing YAML, not reading Python.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .cadence import ReportingPolicy, parse_reporting
from .errors import DefinitionError
from .policy import RECIPIENTS, DeadlinePolicy, parse_policy
from .splitting import SplitPolicy, parse_split
from .text import Bilingual
from .yamlload import load_yaml, load_yaml_cached

ROLES = frozenset({"leader", "unit_head", "unit_member", "supervisor", "admin", "recorder"})  # recorder: 代录
RELATIONS = frozenset({"responsible_unit", "lead_leader", "responsible_person", "co_unit"})
REQUIREMENTS = frozenset(
    {
        "reason",
        "progress_report",
        "progress_data",
        "extension_data",
        "unit_data",
        "verification_data",
        "independent",
        "co_unit_data",
        "co_units_settled",
        "split_data",
        "sub_task_data",
        "sub_tasks_done",
    }
)  # independent: the actor is not of the responsible unit (复核 is someone else's)
FIELD_TYPES = frozenset({"text", "int", "choices"})
# Requirements met only by a dedicated command, which fires a trigger of a fixed name.
PAYLOAD_TRIGGERS = {
    "progress_data": frozenset({"progress"}),
    "extension_data": frozenset({"extend", "grant_extension", "deny_extension"}),
    "unit_data": frozenset({"reassign", "propose_transfer", "transfer"}),  # the unit a task moves to
    "verification_data": frozenset({"verify", "send_back"}),  # 复核: what was checked, and its evidence
    "co_unit_data": frozenset({"co_sign", "co_report", "co_waive"}),  # 牵头/配合: the co-unit whose part it is
    "split_data": frozenset({"split"}),  # 分解: the sub-task written with it
    "sub_task_data": frozenset({"close_out"}),  # 核销: only a sub-task is closed out
}
# Who hears of a step: the policy's recipients, and the co-units (配合单位): all of them, or the one whose part it is.
STEP_RECIPIENTS = RECIPIENTS | {"co_units", "co_unit_head"}
ANY_OPEN = "*"  # in a transition's source: every state that is not final
# The first event of a task brought in from a ledger file: it enters whatever state the ledger says.
IMPORT_TRIGGER = "import"
IMPORT_LABEL = Bilingual("导入台账", "import from a ledger")

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {
    "name",
    "zh",
    "en",
    "code_prefix",
    "initial",
    "create",
    "states",
    "transitions",
    "fields",
    "deadlines",
    "sources",
    "reporting",
    "split",
}
_SOURCE_KEYS = {"name", "en", "instruction"}
_STATE_KEYS = {"key", "zh", "en", "final", "clock", "report"}
# How a state counts in a circular (定期通报); see engine/domain/report.py.
REPORT_BUCKETS = ("not_started", "in_progress", "submitted", "reviewed", "closed", "excluded", "suspended")
_TRANSITION_KEYS = {"trigger", "source", "dest", "internal", "standing", "who", "requires", "notify", "zh", "en"}
_RULE_KEYS = {"roles", "relation"}
_FIELD_KEYS = {"type", "zh", "en", "required", "min", "max", "choices"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One way of being allowed: any of ``roles`` and every relation in ``relations``."""

    roles: frozenset[str]
    relations: frozenset[str]

    def describe(self) -> Bilingual:
        roles_zh = "或".join(ROLE_LABELS[r].zh for r in sorted(self.roles)) or "任何人"
        roles_en = " or ".join(sorted(self.roles)) or "anyone"
        rel_zh = "".join(f"（{RELATION_LABELS[r].zh}）" for r in sorted(self.relations))
        rel_en = "".join(f" ({RELATION_LABELS[r].en})" for r in sorted(self.relations))
        return Bilingual(roles_zh + rel_zh, roles_en + rel_en)


ROLE_LABELS = {
    "leader": Bilingual("领导", "leader"),
    "unit_head": Bilingual("单位负责人", "unit_head"),
    "unit_member": Bilingual("单位工作人员", "unit_member"),
    "supervisor": Bilingual("督查人员", "supervisor"),
    "admin": Bilingual("管理员", "admin"),
    "recorder": Bilingual("代录人员", "recorder"),
}
# What a transition requires (`requires:` in the YAML), as `workflow show` says it.
REQUIREMENT_LABELS = {
    "reason": Bilingual("须说明理由", "a reason"),
    "progress_report": Bilingual("须先报送进展", "a progress report first"),
    "progress_data": Bilingual("进度和进展说明", "percent and note"),
    "extension_data": Bilingual("延期申请（新时限）", "an extension request (new deadline)"),
    "unit_data": Bilingual("须指明承办单位", "the unit it goes to"),
    "verification_data": Bilingual("复核结论和依据", "the verification's finding and evidence"),
    "independent": Bilingual("复核人不属责任单位", "someone outside the responsible unit"),
    "co_unit_data": Bilingual("须指明配合单位", "the co-unit whose part it is"),
    "co_units_settled": Bilingual("配合单位均已报送或免于配合", "every co-unit reported or waived"),
    "split_data": Bilingual("子任务的单位、标题和时限", "the sub-task's unit, title and deadline"),
    "sub_task_data": Bilingual("须为子任务", "a sub-task"),
    "sub_tasks_done": Bilingual("子任务均已办结或核销", "every sub-task closed or closed out"),
}
RELATION_LABELS = {
    "responsible_unit": Bilingual("须属责任单位", "of the responsible unit"),
    "lead_leader": Bilingual("须为责任领导", "the task's lead leader"),
    "responsible_person": Bilingual("须为责任人", "the task's responsible person"),
    "co_unit": Bilingual("须属配合单位", "of a co-unit"),
}


@dataclass(frozen=True, slots=True)
class StateSpec:
    key: str
    label: Bilingual
    final: bool = False
    clock: bool = True  # does the deadline clock run while a task is in this state?
    report: str = "in_progress"  # its column in a circular: in_progress, submitted, reviewed, closed, excluded


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str | None  # None: an internal transition, recorded but leaving the state as it is
    who: tuple[Rule, ...]
    requires: tuple[str, ...]
    label: Bilingual
    notify: tuple[str, ...] = ()  # who hears of it, through the outbox, in the same transaction
    # Always at hand on a task in its sources (cancel, suspend, remind …): it does not make the task something
    # the person must do now, so the inbox (我的待办) neither lists the task for it nor offers it there.
    standing: bool = False


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str
    type: str
    label: Bilingual
    required: bool = False
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """问题来源 (立项): where a task may come from, e.g. 巡视巡察反馈; ``instruction``: a leader's instruction."""

    name: str
    label: Bilingual
    instruction: bool = False


@dataclass(frozen=True, slots=True)
class CreateSpec:
    trigger: str
    label: Bilingual
    who: tuple[Rule, ...]
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    label: Bilingual
    code_prefix: str
    initial: str
    create: CreateSpec
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    version: str = ""
    source: str = ""
    sources: dict[str, SourceSpec] = field(default_factory=dict)  # 问题来源, by name; empty: any or none
    reporting: ReportingPolicy | None = None  # 定期填报: progress reports due on a cadence
    split: SplitPolicy = field(default_factory=SplitPolicy)  # 分解: who splits to any unit, how deep

    def reporting_states(self) -> frozenset[str]:
        """The states a periodic report can be made from: a duty runs only while the task is in one."""
        if self.reporting is None:
            return frozenset()
        return frozenset(s for t in self.transitions if t.trigger == self.reporting.trigger for s in t.sources)

    @property
    def instruction_source(self) -> SourceSpec | None:
        """The source a task turned from a leader's instruction (领导批示) cites."""
        return next((s for s in self.sources.values() if s.instruction), None)

    def state(self, key: str) -> StateSpec:
        return self.states[key]

    def transition(self, trigger: str, source: str) -> TransitionSpec | None:
        for t in self.transitions:
            if t.trigger == trigger and source in t.sources:
                return t
        return None

    @property
    def triggers(self) -> list[str]:
        return list(dict.fromkeys(t.trigger for t in self.transitions))

    def trigger_label(self, trigger: str) -> Bilingual:
        if trigger == self.create.trigger:
            return self.create.label
        if trigger == IMPORT_TRIGGER:
            return IMPORT_LABEL
        for t in self.transitions:
            if t.trigger == trigger:
                return t.label
        return Bilingual(trigger, trigger)

    def awaits_sign_for(self, state: str) -> bool:
        """In this state the task is not yet signed for (未签收): the sign-for time limit runs."""
        spec = self.states.get(state)
        return bool(spec and spec.report == "not_started" and not spec.final)

    def state_label(self, key: str | None) -> Bilingual:
        if key is None:
            return Bilingual("—", "—")
        spec = self.states.get(key)
        return spec.label if spec else Bilingual(key, key)


# --- loading -----------------------------------------------------------------------


def load_workflow_file(path: Path) -> WorkflowSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(path, Bilingual("文件不存在", "no such file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(path, f"cannot read it ({exc.__class__.__name__}: {exc})") from None
    return _Validator(str(path)).build(load_yaml_cached(text, path, DefinitionError))


def parse_workflow(text: str, source: str) -> WorkflowSpec:
    return _Validator(source).build(load_yaml(text, source, DefinitionError))


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, detail: str) -> DefinitionError:
        return DefinitionError(self.source, detail, key=key)

    # small typed getters, each naming its key on failure
    def mapping(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, found {_kind(value)}")
        return value

    def text(self, parent: dict[str, Any], name: str, key: str, default: str | None = None) -> str:
        value = parent.get(name, default)
        if value is None:
            raise self.fail(f"{key}.{name}" if key else name, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key}.{name}" if key else name, f"expected text, found {_kind(value)}")
        return value.strip()

    def ident(self, parent: dict[str, Any], name: str, key: str) -> str:
        value = self.text(parent, name, key)
        if not _IDENT.match(value):
            raise self.fail(f"{key}.{name}", f"'{value}' is not a key: use lowercase letters, digits and _")
        return value

    def flag(self, parent: dict[str, Any], name: str, key: str, default: bool) -> bool:
        value = parent.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(f"{key}.{name}", f"expected true or false, found {_kind(value)}")
        return value

    def str_list(self, value: object, key: str) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected a name or a list of names, found {_kind(value)}")
        return list(value)

    def unknown_keys(self, mapping: dict[str, Any], allowed: set[str], key: str) -> None:
        extra = sorted(set(map(str, mapping)) - allowed)
        if extra:
            where = f"{key}.{extra[0]}" if key else extra[0]
            raise self.fail(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def rules(self, value: object, key: str) -> tuple[Rule, ...]:
        if value is None:
            raise self.fail(key, "is required: who may fire it, e.g. [{roles: [leader]}]")
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty list of rules, found {_kind(value)}")
        out = []
        for i, raw in enumerate(value):
            k = f"{key}[{i}]"
            rule = self.mapping(raw, k)
            self.unknown_keys(rule, _RULE_KEYS, k)
            roles = self.str_list(rule.get("roles", []), f"{k}.roles")
            for role in roles:
                if role not in ROLES:
                    raise self.fail(f"{k}.roles", f"unknown role '{role}' (known: {', '.join(sorted(ROLES))})")
            relations = self.str_list(rule.get("relation", []), f"{k}.relation")
            for rel in relations:
                if rel not in RELATIONS:
                    raise self.fail(
                        f"{k}.relation", f"unknown relation '{rel}' (known: {', '.join(sorted(RELATIONS))})"
                    )
            if not roles and not relations:
                raise self.fail(k, "a rule needs roles, a relation or both")
            out.append(Rule(frozenset(roles), frozenset(relations)))
        return tuple(out)

    def recipients(self, value: object, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        names = self.str_list(value, key)
        for name in names:
            if name not in STEP_RECIPIENTS:
                raise self.fail(key, f"unknown recipient '{name}' (known: {', '.join(sorted(STEP_RECIPIENTS))})")
        return tuple(names)

    def label(self, parent: dict[str, Any], key: str, fallback: str | None = None) -> Bilingual:
        zh = self.text(parent, "zh", key, fallback)
        en = self.text(parent, "en", key, fallback)
        return Bilingual(zh, en)

    def build(self, doc: object) -> WorkflowSpec:
        if doc is None:
            raise self.fail("", "the file is empty; a workflow needs name, initial, create, states, transitions")
        top = self.mapping(doc, "(top level)")
        self.unknown_keys(top, _TOP_KEYS, "")
        name = self.ident(top, "name", "")
        states = self.states(top.get("states"))
        initial = self.text(top, "initial", "")
        if initial not in states:
            raise self.fail("initial", f"unknown state '{initial}' (states: {', '.join(states)})")
        create_raw = self.mapping(top.get("create"), "create")
        self.unknown_keys(create_raw, {"trigger", "zh", "en", "who", "notify"}, "create")
        create = CreateSpec(
            trigger=self.ident(create_raw, "trigger", "create"),
            label=self.label(create_raw, "create"),
            who=self.rules(create_raw.get("who"), "create.who"),
            notify=self.recipients(create_raw.get("notify"), "create.notify"),
        )
        transitions = self.transitions(top.get("transitions"), states, create.trigger)
        if not any(s.final for s in states.values()):
            raise self.fail("states", "no state is final: mark the end states with 'final: true'")
        self.check_reachable(states, initial, transitions)
        fields = self.fields(top.get("fields") or {})
        deadlines = parse_policy(top.get("deadlines"), self.fail)
        if deadlines.sign_for is not None and not any(s.report == "not_started" for s in states.values()):
            raise self.fail(
                "deadlines.sign_for",
                "no state awaits signing for: mark the state a task is assigned in with 'report: not_started'",
            )
        sources = self.sources(top.get("sources"))
        reporting = parse_reporting(top.get("reporting"), self.fail)
        if reporting is not None and not any(t.trigger == reporting.trigger for t in transitions):
            raise self.fail(
                "reporting.trigger",
                f"no transition '{reporting.trigger}': a periodic report is made with it (e.g. progress)",
            )
        if reporting is not None:
            # the cadence is the clock of the tasks it covers: they are no longer chased for silence every N days
            deadlines = replace(deadlines, ongoing_report_every_days=0)
            if reporting.tasks == "all":
                deadlines = replace(deadlines, stale_progress_days=None)
        split = parse_split(top.get("split"), self.fail, ROLES)
        if "split" in top and not any(t.trigger == "split" for t in transitions):
            raise self.fail(
                "split", "a split policy needs a 'split' transition saying who may split, from which states"
            )
        prefix = self.text(top, "code_prefix", "")
        if not re.fullmatch(r"[A-Z]{1,6}", prefix):
            raise self.fail("code_prefix", f"'{prefix}' should be 1 to 6 capital letters, e.g. ZG")
        return WorkflowSpec(
            name=name,
            label=self.label(top, ""),
            code_prefix=prefix,
            initial=initial,
            create=create,
            states=states,
            transitions=transitions,
            fields=fields,
            deadlines=deadlines,
            version=definition_version(top),
            source=self.source,
            sources=sources,
            reporting=reporting,
            split=split,
        )

    def sources(self, raw: object) -> dict[str, SourceSpec]:
        if raw is None:
            return {}
        if not isinstance(raw, list):
            raise self.fail("sources", f"expected a list of sources, found {_kind(raw)}")
        out: dict[str, SourceSpec] = {}
        for i, item in enumerate(raw):
            k = f"sources[{i}]"
            spec = {"name": item} if isinstance(item, str) else self.mapping(item, k)
            self.unknown_keys(spec, _SOURCE_KEYS, k)
            name = self.text(spec, "name", k)
            if len(name) > 50:
                raise self.fail(f"{k}.name", f"'{name[:20]}…' is longer than 50 characters")
            if name in out:
                raise self.fail(f"{k}.name", f"source '{name}' is listed twice")
            instruction = self.flag(spec, "instruction", k, False)
            if instruction and any(s.instruction for s in out.values()):
                raise self.fail(f"{k}.instruction", "only one source can be the one leaders' instructions give")
            out[name] = SourceSpec(name, Bilingual(name, self.text(spec, "en", k, name)), instruction)
        return out

    def states(self, raw: object) -> dict[str, StateSpec]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("states", f"expected a non-empty list of states, found {_kind(raw)}")
        states: dict[str, StateSpec] = {}
        for i, item in enumerate(raw):
            k = f"states[{i}]"
            spec = self.mapping(item, k)
            self.unknown_keys(spec, _STATE_KEYS, k)
            key = self.ident(spec, "key", k)
            if key in states:
                raise self.fail(f"{k}.key", f"state '{key}' is defined twice")
            final = self.flag(spec, "final", k, False)
            clock = self.flag(spec, "clock", k, True)
            # Unless the YAML says so: a final state counts as closed, a stopped clock as awaiting review.
            default = "closed" if final else ("in_progress" if clock else "submitted")
            report = self.text(spec, "report", k, default)
            if report not in REPORT_BUCKETS:
                raise self.fail(f"{k}.report", f"'{report}' is not one of {', '.join(REPORT_BUCKETS)}")
            states[key] = StateSpec(key=key, label=self.label(spec, k), final=final, clock=clock, report=report)
        return states

    def transitions(self, raw: object, states: dict[str, StateSpec], create_trigger: str) -> tuple[TransitionSpec, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("transitions", f"expected a non-empty list of transitions, found {_kind(raw)}")
        seen: dict[tuple[str, str], int] = {}
        out: list[TransitionSpec] = []
        for i, item in enumerate(raw):
            k = f"transitions[{i}]"
            spec = self.mapping(item, k)
            self.unknown_keys(spec, _TRANSITION_KEYS, k)
            trigger = self.ident(spec, "trigger", k)
            k = f"transitions[{i}] ({trigger})"
            if trigger == create_trigger:
                raise self.fail(f"{k}.trigger", f"'{trigger}' is the create trigger; give this transition another name")
            sources = self.sources_of(spec, k, states)
            dest = self.dest_of(spec, k, states)
            for s in sources:
                if (trigger, s) in seen:
                    raise self.fail(
                        f"{k}.source",
                        f"trigger '{trigger}' is already defined from state '{s}' in transitions[{seen[(trigger, s)]}]",
                    )
                seen[(trigger, s)] = i
            requires = self.requires(spec, k, trigger)
            out.append(
                TransitionSpec(
                    trigger=trigger,
                    sources=tuple(sources),
                    dest=dest,
                    who=self.rules(spec.get("who"), f"{k}.who"),
                    requires=requires,
                    label=self.label(spec, k),
                    notify=self.recipients(spec.get("notify"), f"{k}.notify"),
                    standing=self.flag(spec, "standing", k, False),
                )
            )
        return tuple(out)

    def sources_of(self, spec: dict[str, Any], k: str, states: dict[str, StateSpec]) -> list[str]:
        """A transition's source: a state, a list of states, or '*' for every open state."""
        source_raw = spec.get("source")
        if source_raw is None:
            raise self.fail(f"{k}.source", "is required: a state, a list of states, or '*' for every open state")
        if source_raw == ANY_OPEN:
            return [s.key for s in states.values() if not s.final]
        sources = self.str_list(source_raw, f"{k}.source")
        for s in sources:
            if s not in states:
                raise self.fail(f"{k}.source", f"unknown state '{s}' (states: {', '.join(states)})")
        return sources

    def dest_of(self, spec: dict[str, Any], k: str, states: dict[str, StateSpec]) -> str | None:
        """A transition's destination; None for an internal one, which keeps the state."""
        if self.flag(spec, "internal", k, False):
            if spec.get("dest") is not None:
                raise self.fail(f"{k}.dest", "an internal transition keeps the state: drop 'dest'")
            return None
        dest = self.text(spec, "dest", k)
        if dest not in states:
            raise self.fail(f"{k}.dest", f"unknown state '{dest}' (states: {', '.join(states)})")
        return dest

    def requires(self, spec: dict[str, Any], k: str, trigger: str) -> tuple[str, ...]:
        """What the firing must bring; a payload only some commands carry must come with one of them."""
        requires = self.str_list(spec.get("requires", []), f"{k}.requires")
        for r in requires:
            if r not in REQUIREMENTS:
                raise self.fail(
                    f"{k}.requires", f"unknown requirement '{r}' (known: {', '.join(sorted(REQUIREMENTS))})"
                )
            if r in PAYLOAD_TRIGGERS and trigger not in PAYLOAD_TRIGGERS[r]:
                raise self.fail(
                    f"{k}.requires",
                    f"'{r}' comes only with the command for {' / '.join(sorted(PAYLOAD_TRIGGERS[r]))}; "
                    f"trigger '{trigger}' could never be fired",
                )
        return tuple(requires)

    def check_reachable(
        self, states: dict[str, StateSpec], initial: str, transitions: tuple[TransitionSpec, ...]
    ) -> None:
        edges: dict[str, set[str]] = {s: set() for s in states}
        for t in transitions:
            if t.dest is not None:
                for s in t.sources:
                    edges[s].add(t.dest)
        seen = _reached(edges, {initial})
        for i, key in enumerate(states):
            if key not in seen:
                raise self.fail(f"states[{i}] ({key})", f"unreachable from the initial state '{initial}'")
        # And the other way: from every state some final state can be reached, or tasks there never end.
        back: dict[str, set[str]] = {s: set() for s in states}
        for source, dests in edges.items():
            for dest in dests:
                back[dest].add(source)
        ending = _reached(back, {k for k, st in states.items() if st.final})
        for i, key in enumerate(states):
            if key not in ending:
                raise self.fail(
                    f"states[{i}] ({key})", "no transition leads from it to a final state: its tasks could never end"
                )

    def fields(self, raw: object) -> dict[str, FieldSpec]:
        spec_map = self.mapping(raw, "fields")
        out: dict[str, FieldSpec] = {}
        for name, item in spec_map.items():
            k = f"fields.{name}"
            if not isinstance(name, str) or not _IDENT.match(name):
                raise self.fail(k, "a field name uses lowercase letters, digits and _")
            spec = self.mapping(item, k)
            self.unknown_keys(spec, _FIELD_KEYS, k)
            ftype = self.text(spec, "type", k)
            if ftype not in FIELD_TYPES:
                raise self.fail(f"{k}.type", f"unknown type '{ftype}' (known: {', '.join(sorted(FIELD_TYPES))})")
            choices = tuple(self.str_list(spec.get("choices", []), f"{k}.choices"))
            if ftype == "choices" and not choices:
                raise self.fail(f"{k}.choices", "a 'choices' field needs its list of choices")
            bounds = {}
            for b in ("min", "max"):
                v = spec.get(b)
                if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                    raise self.fail(f"{k}.{b}", f"expected a whole number, found {_kind(v)}")
                bounds[b] = v
            if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
                raise self.fail(f"{k}.min", f"min {bounds['min']} is above max {bounds['max']}")
            out[name] = FieldSpec(
                key=name,
                type=ftype,
                label=self.label(spec, k),
                required=self.flag(spec, "required", k, False),
                choices=choices,
                **bounds,
            )
        return out


def definition_version(doc: Mapping[str, Any]) -> str:
    """A content hash: comments and key order do not change it, any real edit does."""
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: f"'{value}'", bool: str(value).lower()}.get(
        type(value), f"{type(value).__name__} {value!r}"
    )


def _reached(edges: dict[str, set[str]], start: set[str]) -> set[str]:
    """Every state reached from ``start`` along ``edges`` (breadth first), ``start`` included."""
    seen = set(start)
    todo = deque(start)
    while todo:
        for nxt in edges[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
