"""Random triggers fired by random people on random tasks, against a real SQLite database.

Invariants after every step: each task's state is a state of its workflow, its
history replays to that state, its version equals its number of events, a
refused firing changed nothing, and the database agrees with a simple model
of what should have happened.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import DubanError
from duban.engine.services.queries import TaskFilter, list_tasks
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress
from duban.engine.services.workspace import init_workspace
from tests.conftest import ORG, START
from tests.helpers import check_history, snapshot

ORG_DOC = yaml.safe_load(ORG.read_text(encoding="utf-8"))
PEOPLE = [p["id"] for p in ORG_DOC["people"]] + ["ghost"]
UNITS = [u["name"] for u in ORG_DOC["units"]]
LEADERS = [p["id"] for p in ORG_DOC["people"] if "leader" in p["roles"]]
TRIGGERS = ["start", "submit", "approve", "reject", "close", "reopen", "cancel", "progress", "finish"]
# Weighted toward the people who may act on tasks of the first units, so that firings succeed often too.
ACTORS = PEOPLE + [p["id"] for p in ORG_DOC["people"] if p.get("unit") in UNITS[1:4]] * 3 + LEADERS * 3
COMMENTS = st.sampled_from([None, "", "理由：整改不到位", "x" * 300])


@functools.cache
def template() -> Path:
    """Migrated once per run; each example starts from a copy."""
    path = Path(tempfile.mkdtemp(prefix="duban-stateful-template-")) / "duban.db"
    app = App.build(Settings(database_url=str(path)), clock=FixedClock(START))
    init_workspace(app, ORG, single_desk=True)
    app.close()
    return path


class Ledger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="duban-stateful-"))
        db = self.dir / "duban.db"
        shutil.copy(template(), db)
        self.clock = FixedClock(START)
        self.app = App.build(Settings(database_url=str(db), evidence_dir=self.dir / "evidence"), clock=self.clock)
        self.expected: dict[str, str] = {}
        self.workflows: dict[str, str] = {}
        self.insiders: dict[str, list[str]] = {}  # people with a relation to the task: its unit, its leaders

    def teardown(self) -> None:
        self.app.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @initialize(workflow=st.sampled_from(["rectification", "assistance"]))
    def first_task(self, workflow: str) -> None:
        self._assign("wangjun", "社会事务科", "zhangwei", workflow)

    def _assign(self, actor: str, unit: str, leader: str, workflow: str) -> None:
        fields = {"household": "某户", "households": "1"} if workflow == "assistance" else {}
        before = snapshot(self.app)
        try:
            code = assign(
                self.app, actor, NewTask(title="问题", unit=unit, leader=leader, workflow=workflow, fields=fields)
            )
        except DubanError:
            assert snapshot(self.app) == before
            return
        self.expected[code] = "assigned"
        self.workflows[code] = workflow
        self.insiders[code] = [p["id"] for p in ORG_DOC["people"] if p.get("unit") == unit] + [leader, "wangjun"]

    @rule(
        actor=st.sampled_from(PEOPLE + LEADERS * 4),
        unit=st.sampled_from(UNITS[1:4] + ["无此单位"]),
        leader=st.sampled_from(LEADERS + ["fenglei"]),
        workflow=st.sampled_from(["rectification", "assistance"]),
    )
    def assign_task(self, actor: str, unit: str, leader: str, workflow: str) -> None:
        self._assign(actor, unit, leader, workflow)

    @precondition(lambda self: bool(self.expected))
    @rule(
        data=st.data(),
        trigger=st.sampled_from(TRIGGERS),
        actor=st.sampled_from(ACTORS),
        comment=COMMENTS,
        stale=st.booleans(),
    )
    def fire_trigger(self, data: st.DataObject, trigger: str, actor: str, comment: str | None, stale: bool) -> None:
        code = data.draw(st.sampled_from(sorted(self.expected)))
        self.clock.advance(timedelta(hours=1))
        before = snapshot(self.app)
        try:
            result = fire(self.app, actor, code, trigger, comment=comment, if_version=1 if stale else None)
        except DubanError:
            assert snapshot(self.app) == before
            return
        assert result.outcome.source == self.expected[code]
        event(f"fired {trigger}")
        self.expected[code] = result.outcome.dest

    @precondition(lambda self: bool(self.expected))
    @rule(data=st.data())
    def fire_a_trigger_of_the_current_state(self, data: st.DataObject) -> None:
        """Walk deep into the workflow: a trigger valid from the state, by someone close to the task."""
        code = data.draw(st.sampled_from(sorted(self.expected)))
        spec = self.app.registry.spec(self.workflows[code])
        triggers = [t.trigger for t in spec.transitions if self.expected[code] in t.sources and t.trigger != "cancel"]
        if not triggers:  # cancel is left to the random rule, or few walks would get far
            return
        trigger = data.draw(st.sampled_from(triggers))
        actor = data.draw(st.sampled_from(self.insiders[code]))
        self.clock.advance(timedelta(hours=1))
        before = snapshot(self.app)
        try:
            if trigger == "progress":
                result = report_progress(self.app, actor, code, ProgressInput(50, "进展"))
            else:
                result = fire(self.app, actor, code, trigger, comment=data.draw(COMMENTS))
        except DubanError:
            assert snapshot(self.app) == before
            return
        event(f"fired {trigger}")
        self.expected[code] = result.outcome.dest

    @precondition(lambda self: bool(self.expected))
    @rule(data=st.data(), actor=st.sampled_from(ACTORS), percent=st.integers(-5, 105))
    def progress(self, data: st.DataObject, actor: str, percent: int) -> None:
        code = data.draw(st.sampled_from(sorted(self.expected)))
        before = snapshot(self.app)
        try:
            report_progress(self.app, actor, code, ProgressInput(percent, "进展"))
        except DubanError:
            assert snapshot(self.app) == before
            return
        assert self.expected[code] == "in_progress" and 0 <= percent <= 100

    @invariant()
    def history_is_consistent(self) -> None:
        check_history(self.app)
        stored = {t.code: t.state for t in list_tasks(self.app, TaskFilter())}
        assert stored == self.expected
        for code, state in stored.items():
            assert state in self.app.registry.spec(self.workflows[code]).states


TestRandomFiringsKeepTheLedgerConsistent = Ledger.TestCase
TestRandomFiringsKeepTheLedgerConsistent.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
