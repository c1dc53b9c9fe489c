"""我的待办 for each role on a real database (SQLite and PostgreSQL), against the workflow machine task by task.

The inbox reads per workflow state and light along indexes (``read/inbox_page.py``); these tests pin what it
must still give: for the leader who leads the tasks, another leader, the supervision office, a unit head, a
unit member and a stand-in (代理), every page walked to its end holds exactly the visible open tasks on which
``allowed_for`` offers a step, in the page's order (red, yellow, green, stopped clocks; then deadline, none
last; then id), with the counts per light; the approval queue, the pending extensions and the supervisors'
overdue list likewise.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.machine import TaskFacts
from duban.engine.domain.visibility import may_see
from duban.engine.persistence.models import Task, Unit
from duban.engine.persistence.web_store import WebStore
from duban.engine.services import inbox as inbox_service
from duban.engine.services.extensions import request_extension
from duban.engine.services.queries import TaskFilter, TaskSummary, list_tasks
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, SUPERVISOR, UNIT_HEAD
from tests.helpers import connection_of
from tests.integration.test_substitutes import AWAY, STAND_IN, approved

MEMBER = "hejuan"  # a member of 社会事务科 (fenglei heads it)
FAR = date(9999, 12, 31)


def _ledger(app: App, clock: FixedClock) -> list[str]:
    """Tasks over three units, two lead leaders, co-units, deadlines in every light and none; some moved on."""
    units = ["社会事务科", "阳光社区党支部", "综合办公室"]
    deadlines: list[date | None] = [date(2026, 9, 1), date(2026, 9, 9), date(2026, 9, 14), date(2026, 12, 1), None]
    codes = []
    for i, (unit, due) in enumerate(itertools.product(units, deadlines)):
        co = ["社会事务科"] if unit != "社会事务科" and i % 2 else []
        codes.append(
            assign(
                app,
                PRINCIPAL,
                NewTask(
                    title=f"任务{i}",
                    unit=unit,
                    leader=DEPUTY if i % 3 else PRINCIPAL,
                    co_units=co,
                    deadline=due if due is not None else "长期坚持",
                ),
            )
        )
    clock.advance(timedelta(days=3))
    with app.uow(write=False) as uow:
        conn = connection_of(uow)
        heads = {u: conn.execute(select(Unit.head_id).where(Unit.name == u)).scalar_one() for u in units}
    for n, code in enumerate(codes):
        head = heads[units[n // len(deadlines)]]
        if n % 4 >= 1:
            fire(app, head, code, "start")
        if n % 4 == 2:
            report_progress(app, head, code, ProgressInput(50, "过半"))
            fire(app, head, code, "submit")
        if n % 4 == 3 and n % 5 != 4:  # a pending extension (not on the tasks without a deadline)
            request_extension(app, head, code, date(2026, 12, 31), "资金未到位")
    return codes


def _expected(app: App, pid: str, codes: list[str], summaries: dict[str, TaskSummary]) -> list[str]:
    """The open tasks ``pid`` may see and act on (a step beyond the standing ones), in the page's order."""
    with app.uow(write=False) as uow:
        conn = connection_of(uow)
        store = WebStore(conn)
        viewer = store.viewer(pid)
        actor = uow.tasks.actor(pid)
        assert viewer is not None and actor is not None
        rows = {
            r.code: r
            for r in conn.execute(
                select(Task.id, Task.code, Task.state, Task.unit_id, Task.lead_leader_id, Task.responsible_person_id)
            )
        }
        heads = {r.id: r.head_id for r in conn.execute(select(Unit.id, Unit.head_id))}
        places = {c: store.task_place(c) for c in codes}
        parts = uow.co_units.parts_of([rows[c].id for c in codes], app.tz)
    keyed = []
    for c in codes:
        s, row = summaries[c], rows[c]
        spec = app.registry.find(s.workflow)
        if spec is None or spec.states[s.state].final or not may_see(viewer, places[c]):  # type: ignore[arg-type]
            continue
        waiting = frozenset(p.unit_id for p in parts.get(row.id, []) if not p.settled)
        facts = TaskFacts(
            c, row.state, row.unit_id, heads[row.unit_id], row.lead_leader_id, row.responsible_person_id, waiting
        )
        allowed = app.registry.machine(s.workflow).allowed_for(facts, actor)
        if [a for a in allowed if not spec.transition(a, row.state).standing]:  # type: ignore[union-attr]
            keyed.append(((inbox_service.LIGHT_ORDER[s.light], s.deadline or FAR, row.id), c))
    return [c for _k, c in sorted(keyed)]


def _walk(app: App, pid: str) -> tuple[inbox_service.Inbox, list[str]]:
    first = box = inbox_service.inbox(app, pid)
    seen: list[str] = []
    while True:
        assert len(box.todo) <= inbox_service.PAGE
        seen += [i.task.code for i in box.todo]
        if box.next_after is None:
            return first, seen
        box = inbox_service.inbox(app, pid, box.next_after)


def _lights(codes: list[str], summaries: dict[str, TaskSummary]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in codes:
        key = summaries[c].light or "none"
        out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.parametrize("page", [3, 50])
def test_every_roles_inbox_is_what_the_machine_allows_in_order_with_its_counts(
    app: App, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    monkeypatch.setattr(inbox_service, "PAGE", page)
    monkeypatch.setattr(inbox_service, "SHOWN", page)  # the approval queue and the overdue list: their first rows
    codes = _ledger(app, clock)
    summaries = {s.code: s for s in list_tasks(app, TaskFilter())}
    open_codes = [c for c in codes if summaries[c].state not in ("closed", "cancelled")]
    pending_all = {c for i, c in enumerate(codes) if i % 4 == 3 and i % 5 != 4}
    lights_seen: set[str] = set()
    for pid in (DEPUTY, PRINCIPAL, SUPERVISOR, UNIT_HEAD, MEMBER, "luoyan", "liuxia", "zhouqiang"):
        expected = _expected(app, pid, codes, summaries)
        first, seen = _walk(app, pid)
        assert seen == expected, pid  # the same tasks, each once, red first, then by deadline (none last), id
        assert first.counts == _lights(expected, summaries) and first.todo_total == len(expected), pid
        if "leader" in first.roles:  # 待审核: submitted tasks this leader leads, most urgent first
            awaiting = [c for c in expected if summaries[c].state == "submitted" and summaries[c].leader == pid]
            assert first.approvals_total == len(awaiting), pid
            assert [s.code for s in first.approvals] == awaiting[:page], pid
            pending = [e.code for e in first.extensions]
            assert pending and all(summaries[c].leader == pid for c in pending), pid
        elif "admin" in first.roles:  # an administrator decides every pending request
            assert first.approvals == [] and {e.code for e in first.extensions} == pending_all, pid
        else:
            assert first.approvals == [] and first.extensions == [], pid
        # 逾期, most overdue first: the supervision office every open red task, a leader the red tasks they lead
        watched = {"supervisor": open_codes, "leader": [c for c in open_codes if summaries[c].leader == pid]}
        scope = next((r for r in ("supervisor", "leader") if r in first.roles), None)
        if scope is not None:
            red = sorted(
                (summaries[c].deadline, summaries[c].code) for c in watched[scope] if summaries[c].light == "red"
            )
            assert first.overdue_total == len(red) > 0, pid
            assert [s.code for s in first.overdue] == [c for _d, c in red][:page], pid
            assert first.may_remind <= {s.code for s in first.overdue} and first.may_remind, pid
            assert first.overdue_scope == {"supervisor": "all", "leader": "led"}[scope], pid
        else:
            assert first.overdue == [] and first.overdue_total == 0 and first.overdue_scope == "", pid
        lights_seen |= set(first.counts)
    assert lights_seen == {"red", "yellow", "green", "none"}  # the walk met every light


def test_the_overdue_count_stops_past_its_cap_unless_asked_for_exactly(
    app: App, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = _ledger(app, clock)
    summaries = {s.code: s for s in list_tasks(app, TaskFilter())}
    red = [c for c in codes if summaries[c].light == "red" and summaries[c].state not in ("closed", "cancelled")]
    assert len(red) > 3
    exact = inbox_service.inbox(app, SUPERVISOR)
    assert exact.overdue_total == len(red) and not exact.overdue_capped
    monkeypatch.setattr(inbox_service, "OVERDUE_CAP", 2)
    capped = inbox_service.inbox(app, SUPERVISOR)
    assert capped.overdue_total == 3 and capped.overdue_capped  # "more than 2"
    assert [s.code for s in capped.overdue] == [s.code for s in exact.overdue]  # the names are all still there
    digest = inbox_service.inbox(app, SUPERVISOR, exact_overdue=True)
    assert digest.overdue_total == len(red) and not digest.overdue_capped


def test_a_stand_in_sees_the_absent_persons_inbox_as_they_would(app: App, clock: FixedClock) -> None:
    _ledger(app, clock)
    today = clock.now().date()
    approved(app, today, today + timedelta(days=3))
    theirs = inbox_service.inbox(app, AWAY)
    box = inbox_service.inbox(app, STAND_IN)
    assert [s.absent_id for s in box.standing_in] == [AWAY]
    covered = box.standing_in[0].inbox
    assert [i.task.code for i in covered.todo] == [i.task.code for i in theirs.todo]
    assert covered.counts == theirs.counts and covered.todo_total == theirs.todo_total > 0
    assert [s.code for s in covered.approvals] == [s.code for s in theirs.approvals]
    assert [e.code for e in covered.extensions] == [e.code for e in theirs.extensions]
