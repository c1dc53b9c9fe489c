"""Splitting down the levels (分解/多级交办, issue 15), on SQLite and PostgreSQL.

A task split into sub-tasks for lower units: each a full task due no later than its parent; the parent's
progress rolls up; its submission waits for its sub-tasks unless a leader closes them out with a reason; the
circular counts the level asked, the same as of a day next year. Declared in YAML (refused there with the file
and the key), enforced by the engine, on the chain.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.errors import DefinitionError, DubanError, InvalidTransition, NotPermitted, UnknownUnit
from duban.engine.domain.workflow import parse_workflow
from duban.engine.services.audit import verify
from duban.engine.services.extensions import decide_extension, request_extension
from duban.engine.services.queries import TaskFilter, list_tasks, show_task
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.splitting import NewSubTask, close_out, split
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, ROOT, UNIT_HEAD
from tests.helpers import check_history, new_task, snapshot

TZ = ZoneInfo("Asia/Shanghai")
RECTIFICATION = (ROOT / "workflows" / "rectification.yaml").read_text(encoding="utf-8")
BRANCH, BRANCH_HEAD = "阳光社区党支部", "liuxia"
GRID1, GRID1_HEAD = "阳光社区第一网格", "linfang"
GRID2, GRID2_HEAD = "阳光社区第二网格", "majun"


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ)


def refused(yaml_text: str) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_workflow(yaml_text, "my.yaml")
    return str(info.value)


def branch_task(app: App, **overrides: object) -> str:
    return new_task(app, unit=BRANCH, **overrides)


def finish(app: App, head: str, code: str, note: str = "已完成") -> None:
    """The unit does it and the lead leader closes it."""
    fire(app, head, code, "start")
    report_progress(app, head, code, ProgressInput(100, note))
    fire(app, head, code, "submit")
    fire(app, DEPUTY, code, "approve")
    fire(app, DEPUTY, code, "close")


def test_the_split_policy_is_validated_naming_file_and_key() -> None:
    policy = "split:\n  any_unit: [leader]\n  max_depth: 3\n"
    assert policy in RECTIFICATION
    message = refused(RECTIFICATION.replace(policy, "split:\n  any_unit: [boss]\n  max_depth: 3\n"))
    assert "my.yaml" in message and "split.any_unit" in message and "boss" in message
    assert "split.max_depth" in refused(RECTIFICATION.replace(policy, "split:\n  max_depth: 9\n"))
    assert "split.levels" in refused(RECTIFICATION.replace(policy, "split:\n  levels: 2\n"))
    no_step = RECTIFICATION.replace("  - trigger: split\n", "  - trigger: split_up\n").replace(
        "requires: [split_data]", "requires: [reason]"
    )
    assert "split" in refused(no_step) and "'split' transition" in refused(no_step)
    wrong = RECTIFICATION.replace(
        "requires: [progress_report, co_units_settled, sub_tasks_done]", "requires: [split_data]"
    )
    assert "transitions[2] (submit).requires" in refused(wrong)
    assert "sub_task_data" in refused(RECTIFICATION.replace("requires: [reason, sub_task_data]", "requires: [typo]"))


def test_a_unit_head_splits_a_task_for_its_lower_units(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    parent = branch_task(app, deadline=date(2026, 10, 30))
    fire(app, BRANCH_HEAD, parent, "start")
    clock.set(at(2026, 9, 8))
    first = split(app, BRANCH_HEAD, NewSubTask(parent, GRID1, title="第一网格路灯", deadline="2026-10-15"))
    second = split(app, BRANCH_HEAD, NewSubTask(parent, GRID2, person=GRID2_HEAD, comment="分网格落实"))
    assert (first, second) == (f"{parent}-1", f"{parent}-2")
    one, two = show_task(app, first), show_task(app, second)
    assert one.summary.parent == parent and one.summary.unit == GRID1 and one.summary.title == "第一网格路灯"
    assert one.summary.deadline == date(2026, 10, 15) and one.summary.state == "assigned"
    assert one.summary.leader == DEPUTY and one.summary.campaign == "2026年主题教育整改"
    assert two.summary.deadline == date(2026, 10, 30) and two.responsible_person == GRID2_HEAD  # the parent's
    assert one.events[0].data is not None and one.events[0].data["parent"] == parent
    assert one.summary.sign_by is not None  # a full task: its own sign-for limit, reminders, escalation
    detail = show_task(app, parent)
    splits = [e for e in detail.events if e.trigger == "split"]
    assert [(e.data or {}).get("sub_task") for e in splits] == [first, second]
    assert (splits[1].data or {})["unit"] == GRID2 and splits[1].comment == "分网格落实"
    assert detail.roll_up is not None and (detail.roll_up.total, detail.roll_up.closed) == (2, 0)
    # the grid heads hear of their sub-task (through the outbox, in the split's transaction), and may act on it
    with app.db.engine.connect() as conn:
        told = set(conn.execute(text("SELECT n.recipient_id FROM notifications n JOIN tasks t ON t.id = n.task_id "
                                     "WHERE t.code IN (:a, :b)"), {"a": first, "b": second}).scalars())  # fmt: skip
    assert {GRID1_HEAD, GRID2_HEAD} <= told
    fire(app, GRID1_HEAD, first, "start")
    report_progress(app, GRID1_HEAD, first, ProgressInput(60, "已修复3盏"))
    clock.set(at(2026, 9, 9))
    detail = show_task(app, parent)
    assert detail.roll_up is not None and detail.roll_up.open == 2
    assert [(v.code, v.note) for v in detail.roll_up.latest_notes] == [(first, "已修复3盏")]
    assert [v.code for v in detail.sub_tasks] == [first, second]
    assert {s.code for s in list_tasks(app, TaskFilter(top_only=True))} == {parent}
    assert {s.code: s.parent for s in list_tasks(app, TaskFilter())} == {parent: None, first: parent, second: parent}
    assert verify(app).ok
    check_history(app)
    # the parent is bound to the chain: moved behind the engine's back, audit verify names the sub-task
    with app.db.engine.begin() as conn:
        conn.execute(text("UPDATE tasks SET parent_id = NULL WHERE code = :c"), {"c": second})
    broken = verify(app)
    assert not broken.ok and {b.code for b in broken.breaks} == {second}


def test_bad_splits_are_refused_and_write_nothing(app: App) -> None:
    parent = branch_task(app, deadline=date(2026, 10, 30))
    before = snapshot(app)
    cases: list[tuple[str, NewSubTask, type[DubanError], str]] = [
        (BRANCH_HEAD, NewSubTask(parent, GRID1, deadline="2026-11-30"), DubanError, "after the deadline of the parent"),
        (BRANCH_HEAD, NewSubTask(parent, GRID1, deadline="长期坚持"), DubanError, "needs a deadline no later"),
        (BRANCH_HEAD, NewSubTask(parent, "阳光社区第九网格"), UnknownUnit, "阳光社区第九网格"),
        (BRANCH_HEAD, NewSubTask(parent, "社会事务科"), DubanError, "not under"),
        (BRANCH_HEAD, NewSubTask(parent, BRANCH), DubanError, "lower unit"),
        (UNIT_HEAD, NewSubTask(parent, GRID1), NotPermitted, "split"),
        (BRANCH_HEAD, NewSubTask("ZG-2026-9999", GRID1), DubanError, "ZG-2026-9999"),
    ]
    for actor, sub, kind, words in cases:
        with pytest.raises(kind) as info:
            split(app, actor, sub)
        assert words in str(info.value), str(info.value)
        assert "\n" not in str(info.value)
    assert snapshot(app) == before
    # a leader may split to any unit, not only lower ones
    assert split(app, PRINCIPAL, NewSubTask(parent, "社会事务科")) == f"{parent}-1"
    closed, cancelled = branch_task(app), branch_task(app)
    finish(app, BRANCH_HEAD, closed)
    fire(app, PRINCIPAL, cancelled, "cancel", comment="重复交办")
    before = snapshot(app)
    for code in (closed, cancelled):
        with pytest.raises(InvalidTransition):
            split(app, PRINCIPAL, NewSubTask(code, GRID1))
    assert snapshot(app) == before


def test_levels_stop_at_the_policy_depth(app: App) -> None:
    top = new_task(app, unit="县社区管理服务中心")
    mid = split(app, PRINCIPAL, NewSubTask(top, BRANCH))
    low = split(app, BRANCH_HEAD, NewSubTask(mid, GRID1))
    assert low == f"{top}-1-1"
    with pytest.raises(DubanError) as info:
        split(app, PRINCIPAL, NewSubTask(low, "社会事务科"))
    assert "level 3" in str(info.value)


def test_the_parent_waits_for_its_sub_tasks_unless_a_leader_closes_them_out(app: App) -> None:
    parent = branch_task(app)
    fire(app, BRANCH_HEAD, parent, "start")
    first = split(app, BRANCH_HEAD, NewSubTask(parent, GRID1))
    second = split(app, BRANCH_HEAD, NewSubTask(parent, GRID2))
    report_progress(app, BRANCH_HEAD, parent, ProgressInput(50, "两个网格在办"))
    before = snapshot(app)
    with pytest.raises(DubanError) as info:
        fire(app, BRANCH_HEAD, parent, "submit")
    assert first in str(info.value) and second in str(info.value) and "close-out" in str(info.value)
    assert snapshot(app) == before
    finish(app, GRID1_HEAD, first)
    with pytest.raises(DubanError) as info:
        fire(app, BRANCH_HEAD, parent, "submit")
    assert second in str(info.value) and first not in str(info.value)
    # closing out: a leader, with a reason, a sub-task only
    with pytest.raises(DubanError):
        close_out(app, PRINCIPAL, second, None)
    with pytest.raises(NotPermitted):
        close_out(app, BRANCH_HEAD, second, "网格合并")
    with pytest.raises(DubanError) as info:
        close_out(app, PRINCIPAL, parent, "不需要")
    assert "not a sub-task" in str(info.value)
    with pytest.raises(DubanError) as info:
        fire(app, PRINCIPAL, second, "close_out", comment="绕过命令")
    assert "duban close-out" in str(info.value)
    result = close_out(app, PRINCIPAL, second, "第二网格并入第一网格，由其一并完成")
    assert result.outcome.dest == "closed"
    shown = show_task(app, second)
    assert shown.events[-1].trigger == "close_out" and shown.events[-1].comment.startswith("第二网格")  # type: ignore[union-attr]
    fire(app, BRANCH_HEAD, parent, "submit")
    detail = show_task(app, parent)
    assert detail.summary.state == "submitted"
    assert detail.roll_up is not None and (detail.roll_up.closed, detail.roll_up.open) == (2, 0)
    assert verify(app).ok
    check_history(app)


def test_a_sub_task_is_never_due_after_its_parent(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    parent = branch_task(app, deadline=date(2026, 10, 30))
    fire(app, BRANCH_HEAD, parent, "start")
    sub = split(app, BRANCH_HEAD, NewSubTask(parent, GRID1, deadline="2026-10-15"))
    fire(app, GRID1_HEAD, sub, "start")
    before = snapshot(app)
    with pytest.raises(DubanError) as info:
        request_extension(app, GRID1_HEAD, sub, "2026-11-06", "材料未到")
    assert "after the deadline of the parent task" in str(info.value)
    assert snapshot(app) == before
    request_extension(app, GRID1_HEAD, sub, "2026-10-30", "材料未到")  # up to the parent's is fine
    # the parent's extension may pass its sub-tasks' deadlines
    request_extension(app, BRANCH_HEAD, parent, "2026-11-30", "上级调整")
    decide_extension(app, DEPUTY, 2, True, None)
    assert show_task(app, parent).summary.deadline == date(2026, 11, 30)
    decide_extension(app, DEPUTY, 1, True, None)
    assert show_task(app, sub).summary.deadline == date(2026, 10, 30)


def test_the_circular_counts_the_level_asked_as_of_a_day(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    parent = branch_task(app)
    other = new_task(app)
    fire(app, BRANCH_HEAD, parent, "start")
    clock.set(at(2026, 9, 8))
    first = split(app, BRANCH_HEAD, NewSubTask(parent, GRID1))
    split(app, BRANCH_HEAD, NewSubTask(parent, GRID2))
    finish(app, GRID1_HEAD, first)
    clock.set(at(2026, 9, 14))
    day = date(2026, 9, 13)
    top = build_report(app, ReportRequest(period="week", as_of=day))
    every = build_report(app, ReportRequest(period="week", as_of=day, level="all"))
    assert (top.totals.tasks, top.totals.closed) == (2, 0)
    assert (every.totals.tasks, every.totals.closed) == (4, 1)
    assert "含分解的子任务" in every.scope_name.zh and top.level == "top"
    assert {u.unit for u in every.units} >= {GRID1, GRID2} and GRID1 not in {u.unit for u in top.units}
    # the tasks move on; the circular for that Sunday reads the same
    clock.set(at(2026, 9, 21))
    fire(app, PRINCIPAL, f"{parent}-2", "cancel", comment="并入第一网格")
    fire(app, UNIT_HEAD, other, "start")
    split(app, PRINCIPAL, NewSubTask(other, GRID1))
    again = build_report(app, ReportRequest(period="week", as_of=day, level="all"))
    assert again.totals == every.totals and again.units == every.units
    assert build_report(app, ReportRequest(period="week", as_of=day)).totals == top.totals
    now = build_report(app, ReportRequest(period="week", level="all"))
    assert now.totals.tasks == 4  # the cancelled one is counted nowhere; the new sub-task is
    with pytest.raises(DubanError):
        build_report(app, ReportRequest(level="middle"))


def test_the_commands_and_their_json(call, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_url
    code = call("--db", db, "--as", PRINCIPAL, "assign", "--title", "路灯损坏", "--unit", BRANCH, "--leader", DEPUTY,
                "--deadline", "2026-10-30", "--json").json()["code"]  # fmt: skip
    made = call("--db", db, "--as", BRANCH_HEAD, "split", code, "--unit", GRID1, "--deadline", "2026-10-15", "--json")
    assert made.code == 0 and made.json() == {"code": f"{code}-1", "parent": code}
    late = call("--db", db, "--as", BRANCH_HEAD, "split", code, "--unit", GRID2, "--deadline", "2026-11-30")
    assert late.code == 2 and late.err.count("\n") == 1 and "after the deadline of the parent task" in late.err
    assert "Traceback" not in late.err
    shown = call("--db", db, "show", code, "--json").json()
    assert shown["parent"] is None and shown["roll_up"] == {"total": 1, "closed": 0, "open": 1, "latest_notes": []}
    assert [(s["code"], s["unit"], s["deadline"], s["open"]) for s in shown["sub_tasks"]] == [
        (f"{code}-1", GRID1, "2026-10-15", True)
    ]
    sub = call("--db", db, "show", f"{code}-1", "--json").json()
    assert sub["parent"] == code and sub["sub_tasks"] == [] and sub["roll_up"] is None
    text_out = call("--db", db, "--lang", "zh", "show", code).out
    assert "子任务：已办结 0/1，未办结 1" in text_out and f"{code}-1" in text_out
    assert [t["code"] for t in call("--db", db, "list", "--top", "--json").json()] == [code]
    assert len(call("--db", db, "list", "--json").json()) == 2
    assert call("--db", db, "report", "--json").json()["scope"]["level"] == "top"
    every = call("--db", db, "report", "--level", "all", "--json").json()
    assert every["scope"]["level"] == "all" and every["totals"]["tasks"] == 2
    assert call("--db", db, "report", "--level", "middle").code == 2
    out = call("--db", db, "--as", DEPUTY, "close-out", f"{code}-1", "-m", "并入支部", "--json")
    assert out.code == 0 and out.json()["to"] == "closed"
    refused_top = call("--db", db, "--as", DEPUTY, "close-out", code, "-m", "不需要")
    assert refused_top.code == 2 and "not a sub-task" in refused_top.err
