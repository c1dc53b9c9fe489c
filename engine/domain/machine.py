"""Interpreting a workflow spec with one shared ``transitions`` Machine.

One Machine is built per definition and shared by every task of it. Tasks are
never attached: ``add_model`` keeps models in a plain list (O(n) membership per
add), and a task is only in memory for the length of one firing anyway. The
engine asks the machine's Event to fire on a short-lived ``Firing`` object that
carries the task's state, the actor and the request; conditions read from it
and record why they refused, so the user hears the reason, not just "no".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from transitions import Event, EventData, Machine, Transition
from transitions.core import MachineError

from .co_units import needs_parts
from .errors import (
    CommandRequired,
    CoUnitsPending,
    DubanError,
    InvalidTransition,
    NotPermitted,
    ProgressReportRequired,
    ReasonRequired,
    SubTasksOpen,
    UnknownTrigger,
)
from .text import Bilingual
from .workflow import IMPORT_TRIGGER, Rule, TransitionSpec, WorkflowSpec


@dataclass(frozen=True, slots=True)
class Actor:
    """A person as the rules see them: who, which roles, which unit."""

    id: str
    name: str
    roles: frozenset[str]
    unit_id: int | None


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """What the rules need to know of a task: its place in the organisation."""

    code: str
    state: str
    unit_id: int
    unit_head_id: str | None
    lead_leader_id: str | None
    responsible_person_id: str | None
    co_unit_ids: frozenset[int] = frozenset()  # 配合单位: they sign for and report on their own parts


@dataclass(slots=True)
class Request:
    """What the actor brings with a firing."""

    comment: str | None = None
    progress: Any = None  # a progress report payload, for the internal 'progress' transition
    extension: Any = None  # an extension request or decision, for 'extend' and its grant or denial
    unit_id: int | None = None  # the unit a task moves to, for 'reassign' and the transfers
    verification: Any = None  # 复核: the verifier's findings and evidence, for 'verify' and 'send_back'
    has_progress_report: Callable[[], bool] = lambda: False  # asked only when a transition needs it
    co_unit: Any = None  # 牵头/配合: the co-unit whose part a co_sign, co_report or co_waive is about
    pending_co_units: Callable[[], list[str]] = lambda: []  # the co-units not yet reported nor waived
    split: Any = None  # 分解: the sub-task written with the parent's 'split' step
    sub_task: Any = None  # 核销: the parent a sub-task is closed out for, for 'close_out'
    open_sub_tasks: Callable[[], list[str]] = lambda: []  # the codes of sub-tasks still open, when asked


@dataclass(frozen=True, slots=True)
class Outcome:
    trigger: str
    source: str
    dest: str


@dataclass(slots=True)
class Firing:
    """The model handed to the shared machine for one firing; discarded afterwards."""

    state: str
    task: TaskFacts
    actor: Actor
    request: Request
    spec: TransitionSpec | None = None
    refusal: DubanError | None = field(default=None)


def relations_of(actor: Actor, task: TaskFacts) -> frozenset[str]:
    rels = set()
    if actor.unit_id is not None and actor.unit_id == task.unit_id or actor.id == task.unit_head_id:
        rels.add("responsible_unit")
    if actor.id == task.lead_leader_id:
        rels.add("lead_leader")
    if actor.id == task.responsible_person_id:
        rels.add("responsible_person")
    if actor.unit_id is not None and actor.unit_id in task.co_unit_ids:
        rels.add("co_unit")
    return frozenset(rels)


def rule_allows(rules: tuple[Rule, ...], actor: Actor, relations: frozenset[str]) -> bool:
    """Some rule admits the actor: its roles (if any) meet the actor's and its relations are all held.
    A plain loop: on every firing ``any`` over a generator cost more than the one or two rules it weighs."""
    roles = actor.roles
    for r in rules:  # noqa: SIM110 - see the docstring
        if (not r.roles or not r.roles.isdisjoint(roles)) and r.relations <= relations:
            return True
    return False


def describe_rules(rules: tuple[Rule, ...]) -> Bilingual:
    parts = [r.describe() for r in rules]
    return Bilingual("；或".join(p.zh for p in parts), "; or ".join(p.en for p in parts))


# --- conditions: each records its refusal on the Firing ------------------------------


class _Condition:
    def __init__(self, spec: TransitionSpec) -> None:
        self.spec = spec

    def __call__(self, event: EventData) -> bool:
        firing = cast(Firing, event.model)
        refusal = self.check(firing)
        if refusal is not None:
            firing.refusal = refusal
            return False
        return True

    def check(self, firing: Firing) -> DubanError | None:
        raise NotImplementedError


class _Permitted(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if rule_allows(self.spec.who, firing.actor, relations_of(firing.actor, firing.task)):
            return None
        return NotPermitted(
            actor=f"{firing.actor.name}({firing.actor.id})",
            action=self.spec.label,
            code=firing.task.code,
            rule=describe_rules(self.spec.who),
        )


class _ReasonGiven(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        comment = firing.request.comment
        if comment and comment.strip():
            return None
        return ReasonRequired(action=self.spec.label, code=firing.task.code)


class _HasProgressReport(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.has_progress_report():
            return None
        return ProgressReportRequired(action=self.spec.label, code=firing.task.code)


class _CarriesProgress(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.progress is not None:
            return None
        return ProgressReportRequired(action=self.spec.label, code=firing.task.code)


class _CarriesExtension(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.extension is not None:
            return None
        return CommandRequired(action=self.spec.label, command="duban extend / duban extension approve|deny")


class _CarriesUnit(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.unit_id is not None:
            return None
        return CommandRequired(action=self.spec.label, command="duban reassign / duban transfer propose|consent")


class _CarriesVerification(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.verification is not None:
            return None
        return CommandRequired(action=self.spec.label, command="duban verify --confirm|--send-back")


class _Independent(_Condition):
    """复核 is done by someone other than the unit whose work it checks."""

    def check(self, firing: Firing) -> DubanError | None:
        if "responsible_unit" not in relations_of(firing.actor, firing.task):
            return None
        return NotPermitted(
            actor=f"{firing.actor.name}({firing.actor.id})",
            action=self.spec.label,
            code=firing.task.code,
            rule=Bilingual("责任单位以外的人员", "someone outside the responsible unit"),
        )


class _CarriesCoUnit(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.co_unit is not None:
            return None
        return CommandRequired(action=self.spec.label, command="duban co-unit sign|report|waive")


class _CoUnitsSettled(_Condition):
    """牵头/配合: the lead unit submits only once every co-unit has reported on its part or been waived."""

    def check(self, firing: Firing) -> DubanError | None:
        pending = firing.request.pending_co_units()
        if not pending:
            return None
        return CoUnitsPending(
            action=self.spec.label, code=firing.task.code, units=Bilingual("、".join(pending), ", ".join(pending))
        )


class _CarriesSplit(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.split is not None:
            return None
        return CommandRequired(action=self.spec.label, command="duban split")


class _IsSubTask(_Condition):
    def check(self, firing: Firing) -> DubanError | None:
        if firing.request.sub_task is not None:
            return None
        return CommandRequired(action=self.spec.label, command="duban close-out")


class _SubTasksDone(_Condition):
    """分解: a parent is not submitted while one of its sub-tasks is still open."""

    def check(self, firing: Firing) -> DubanError | None:
        still = firing.request.open_sub_tasks()
        if not still:
            return None
        return SubTasksOpen(
            code=firing.task.code, action=self.spec.label, open=Bilingual("、".join(still), ", ".join(still))
        )


_REQUIREMENT_CONDITIONS: dict[str, type[_Condition]] = {
    "reason": _ReasonGiven,
    "progress_report": _HasProgressReport,
    "progress_data": _CarriesProgress,
    "extension_data": _CarriesExtension,
    "unit_data": _CarriesUnit,
    "verification_data": _CarriesVerification,
    "independent": _Independent,
    "co_unit_data": _CarriesCoUnit,
    "co_units_settled": _CoUnitsSettled,
    "split_data": _CarriesSplit,
    "sub_task_data": _IsSubTask,
    "sub_tasks_done": _SubTasksDone,
}


class _Transition(Transition):
    """A ``transitions`` Transition that does only what ours need: check the conditions, move the state.

    ``Transition.execute`` also runs the prepare/before/after callback lists and the states' enter/exit
    callbacks, and logs at each step; a duban machine has none of those callbacks (``_SharedMachine`` refuses
    to be built with any), so on the firing path they were a dozen calls and log checks doing nothing. The
    conditions are ours, callables given to the machine, called the way ``Condition.check`` calls them
    with ``send_event``; an internal transition (no dest) leaves the state as it is.
    """

    def execute(self, event_data: EventData) -> bool:
        for cond in self.conditions:
            if cast(_Condition, cond.func)(event_data) != cond.target:
                return False
        if self.dest:
            cast(Firing, event_data.model).state = self.dest
        return True


class _Event(Event):
    """A ``transitions`` Event fired without the machine's queue and without callback lists.

    ``Event.trigger`` wraps each firing in a ``functools.partial`` handed to ``Machine._process`` (a queue
    ours never uses: ``queued`` is off and no callback fires another event) and runs the prepare-event and
    finalize-event lists, both empty. What is left is the machine's own rule: the transitions of this
    trigger from the model's state, in order, the first whose conditions pass moves it.
    """

    def trigger(self, model: Any, *args: Any, **kwargs: Any) -> bool:
        machine = self.machine
        transitions = self.transitions.get(model.state)
        if not transitions:
            raise MachineError(f"Can't trigger event {self.name} from state {model.state}!")
        event_data = EventData(machine.states[model.state], self, machine, model, args, kwargs)
        for trans in transitions:
            event_data.transition = trans
            if trans.execute(event_data):
                return True
        return False


class _SharedMachine(Machine):
    """The Machine of one workflow definition, shared by all its tasks, built with the lean Event and
    Transition above; it checks once, when built, that it has no callbacks they would skip."""

    event_cls = _Event
    transition_cls = _Transition

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        callbacks = [
            self.prepare_event,
            self.finalize_event,
            self.before_state_change,
            self.after_state_change,
            self.on_exception,
            self.on_final,
        ]
        callbacks += [s.on_enter for s in self.states.values()] + [s.on_exit for s in self.states.values()]
        for event in self.events.values():
            for ts in event.transitions.values():
                callbacks += [t.prepare for t in ts] + [t.before for t in ts] + [t.after for t in ts]
                for t in ts:
                    if not all(callable(c.func) and c.target is True for c in t.conditions):
                        raise ValueError("a duban machine's conditions are its own callables")
        if any(callbacks) or self.has_queue or self.models:
            raise ValueError("a duban machine has no callbacks, no queue and no attached model")


class WorkflowMachine:
    """The interpreter of one workflow spec; build once, fire for any number of tasks."""

    def __init__(self, spec: WorkflowSpec) -> None:
        self.spec = spec
        self.machine = _SharedMachine(
            model=None,
            states=list(spec.states),
            initial=spec.initial,
            transitions=[self._transition(t, s) for t in spec.transitions for s in t.sources],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
            model_attribute="state",
        )
        # Asked on every firing, answered once: the spec is frozen data.
        self._steps: dict[tuple[str, str], TransitionSpec | None] = {
            (t.trigger, s): spec.transition(t.trigger, s) for t in spec.transitions for s in t.sources
        }
        self._looks_at_parts: dict[str, bool] = {}
        for t in spec.transitions:
            looks = needs_parts(t.requires, (r.relations for r in t.who))
            self._looks_at_parts[t.trigger] = self._looks_at_parts.get(t.trigger, False) or looks

    def step(self, trigger: str, source: str) -> TransitionSpec | None:
        """The spec's transition for ``trigger`` from ``source`` (``WorkflowSpec.transition``, looked up once)."""
        return self._steps.get((trigger, source))

    def looks_at_parts(self, trigger: str) -> bool:
        """牵头/配合: does a step of ``trigger`` look at the task's co-unit parts (its rules or requirements)?"""
        return self._looks_at_parts.get(trigger, False)

    @staticmethod
    def _transition(spec: TransitionSpec, source: str) -> dict[str, Any]:
        conditions: list[_Condition] = [_Permitted(spec)]
        conditions += [_REQUIREMENT_CONDITIONS[r](spec) for r in spec.requires]
        return {
            "trigger": spec.trigger,
            "source": source,
            "dest": spec.dest,  # None: internal, the state stays
            "conditions": conditions,
        }

    def fire(self, task: TaskFacts, trigger: str, actor: Actor, request: Request) -> Outcome:
        """Decide a firing; raise the reason when refused. Changes nothing outside the Firing."""
        event = self.machine.events.get(trigger)
        if event is None:
            raise UnknownTrigger(workflow=self.spec.name, trigger=trigger, known=self.spec.triggers)
        if task.state not in event.transitions:
            raise InvalidTransition(
                code=task.code,
                state=self.spec.state_label(task.state),
                action=self.spec.trigger_label(trigger),
                allowed=[self._trigger_text(t) for t in self.triggers_from(task.state)],
            )
        firing = Firing(state=task.state, task=task, actor=actor, request=request)
        if not event.trigger(firing):
            assert firing.refusal is not None, "a condition refused without saying why"
            raise firing.refusal
        return Outcome(trigger=trigger, source=task.state, dest=firing.state)

    def triggers_from(self, state: str) -> list[str]:
        return [t.trigger for t in self.spec.transitions if state in t.sources]

    def allowed_for(self, task: TaskFacts, actor: Actor) -> list[str]:
        """The triggers this actor may fire on this task now (requirements aside)."""
        return self.allowed_under(task.state, actor, relations_of(actor, task))

    def allowed_under(self, state: str, actor: Actor, relations: frozenset[str], *, to_do: bool = False) -> list[str]:
        """``allowed_for`` once the actor's relations to the task are known: a page of tasks shares a few
        (state, relations) pairs, so a caller may keep the answer per pair. With ``to_do``, only the steps that
        make the task something to do now (the standing ones left out), as ``acting_grounds`` finds them."""
        return [
            t.trigger
            for t in self.spec.transitions
            if state in t.sources and not (to_do and t.standing) and rule_allows(t.who, actor, relations)
        ]

    def acting_grounds(
        self, actor: Actor, triggers: frozenset[str] | None = None, *, to_do: bool = False
    ) -> list[tuple[str, frozenset[str]]]:
        """(state, relations) pairs under which ``actor`` may fire a trigger (of ``triggers``; with ``to_do``, a
        step that is not ``standing``, as ``allowed_under(to_do=True)`` offers).

        Why: the inbox asks the database for exactly the tasks on which a person may act, a page at a time,
        instead of loading every open task and asking ``allowed_for`` of each. A task in ``state`` on which
        the actor holds every relation of one pair is one where ``allowed_for`` offers such a trigger, and no
        other task is (the same ``rule_allows``). Redundant pairs (a superset of another for the same state)
        are left out.
        """
        out: dict[str, set[frozenset[str]]] = {}
        for t in self.spec.transitions:
            if (to_do and t.standing) or (triggers is not None and t.trigger not in triggers):
                continue
            for rule in t.who:
                if rule.roles and rule.roles.isdisjoint(actor.roles):
                    continue
                for state in t.sources:
                    if state in self.spec.states and not self.spec.states[state].final:
                        out.setdefault(state, set()).add(rule.relations)
        pairs = []
        for state, sets in sorted(out.items()):
            for rels in sorted(sets, key=lambda r: (len(r), sorted(r))):
                if not any(other < rels for other in sets):
                    pairs.append((state, rels))
        return pairs

    def may_create(self, actor: Actor) -> bool:
        return rule_allows(self.spec.create.who, actor, frozenset())

    def _trigger_text(self, trigger: str) -> Bilingual:
        label = self.spec.trigger_label(trigger)
        return Bilingual(f"{label.zh}({trigger})", trigger)


def replay(spec: WorkflowSpec, events: list[tuple[str, str | None, str]]) -> str:
    """Replay a history of (trigger, from, to) and return the state it ends in.

    Raises ValueError at the first event that does not follow from the one
    before, or that the definition does not allow: the history is the truth,
    and it must be a walk through the workflow. A task brought in from a
    ledger starts with one ``import`` event into the state the ledger gave
    (the steps before it happened outside duban and are not made up).
    """
    state: str | None = None
    for i, (trigger, source, dest) in enumerate(events):
        if source != state:
            raise ValueError(f"event {i + 1} ({trigger}) starts from {source!r}, but the task was in {state!r}")
        if i == 0 and trigger == IMPORT_TRIGGER:
            if dest not in spec.states:
                raise ValueError(f"event 1 imports into {dest!r}, which is not a state of workflow {spec.name}")
        elif i == 0:
            if trigger != spec.create.trigger or dest != spec.initial:
                raise ValueError(
                    f"event 1 should be {spec.create.trigger} into {spec.initial}, not {trigger} into {dest}"
                )
        else:
            assert state is not None
            t = spec.transition(trigger, state)
            if t is None or (t.dest or state) != dest:
                raise ValueError(f"event {i + 1}: {trigger} from {state} to {dest} is not in workflow {spec.name}")
        state = dest
    if state is None:
        raise ValueError("an empty history")
    return state
