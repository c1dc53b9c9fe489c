"""The services' rules on a unit of work in memory: assign, fire, the lock, notifications, who may act.

These run in milliseconds (no database). What only a database can prove (row locks, triggers, the chain
as stored, PostgreSQL's operator stamp) stays in the integration tests beside them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from duban.engine.domain.audit import GENESIS, event_hash
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import (
    NoActor,
    NotPermitted,
    NotRecorder,
    ProgressReportRequired,
    StaleTask,
    UnknownTask,
    UnmappedOperator,
)
from duban.engine.services.identity import RECORDER, SINGLE_DESK
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress
from tests.fakes import FakeApp, fake_app

START = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def app(tmp_path: Path) -> FakeApp:
    """A county office in memory: a leader, a unit with its head and a clerk, a supervisor, another unit."""
    app = fake_app(FixedClock(START), tmp_path)
    s = app.store
    housing = s.add_unit("县住建局", head="wangfang")
    water = s.add_unit("县水利局", head="zhaolei")
    s.add_person("liming", "李明", None, ["leader"], account="os:liming")
    s.add_person("wangfang", "王芳", housing, ["unit_head"], account="os:wangfang")
    s.add_person("chenjing", "陈静", housing, ["unit_member"], account="os:chenjing")
    s.add_person("zhaolei", "赵磊", water, ["unit_head"], account="os:zhaolei")
    s.add_person("sunli", "孙丽", None, ["supervisor", RECORDER], account="os:sunli")
    s.data.settings[SINGLE_DESK] = "false"
    return app


def run_as(app: FakeApp, account: str) -> None:
    """The operating-system account running the command: the system says who acts, never a typed name."""
    kind, name = account.split(":")
    app.account = type(app.account)(kind, name)
    app.identity_cache.clear()


def new_task(**over: object) -> NewTask:
    base: dict[str, object] = {"title": "老旧小区排水管网改造滞后", "unit": "县住建局", "leader": "liming"}
    return NewTask(**{**base, "deadline": date(2026, 12, 31), **over})  # type: ignore[arg-type]


def test_a_leader_assigns_and_the_unit_is_told_in_the_same_commit(app: FakeApp) -> None:
    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    assert code == "ZG-2026-0001"
    task = app.store.task(code)
    assert task.state == "assigned" and task.version == 1
    [event] = app.store.events_of(code)
    assert (event.trigger, event.actor_id, event.operator_id, event.account) == (
        "assign",
        "liming",
        "liming",
        "os:liming",
    )
    assert task.head_hash == event_hash(event, GENESIS)  # the row chains to its first event
    assert sorted(n.recipient_id or "" for n in app.store.notices) == ["wangfang"]
    assert app.store.data.commits == 1


def test_only_a_leader_may_assign_and_a_refusal_writes_no_task(app: FakeApp) -> None:
    run_as(app, "os:chenjing")
    with pytest.raises(NotPermitted):
        assign(app, None, new_task())
    assert app.store.data.tasks == {} and app.store.notices == []
    assert [r.kind for r, _h in app.store.data.records] == ["refusal"]  # the refusal itself is on record


def test_the_lifecycle_through_review_and_close(app: FakeApp) -> None:
    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    run_as(app, "os:chenjing")
    fire(app, None, code, "start")
    report_progress(app, None, code, ProgressInput(60, "已完成管网摸排"))
    fire(app, None, code, "submit")
    run_as(app, "os:liming")
    fire(app, None, code, "reject", comment="缺少竣工验收材料")
    run_as(app, "os:chenjing")
    fire(app, None, code, "submit")
    run_as(app, "os:liming")
    fire(app, None, code, "approve")
    result = fire(app, None, code, "close")
    assert result.outcome.dest == "closed" and result.version == 8
    events = app.store.events_of(code)
    assert [e.trigger for e in events] == [
        "assign",
        "start",
        "progress",
        "submit",
        "reject",
        "submit",
        "approve",
        "close",
    ]
    assert [e.seq for e in events] == list(range(1, 9))  # a gap-free history
    assert app.store.data.extension_withdrawals == [app.store.task(code).id]  # closing withdraws pending requests


def test_submitting_needs_a_progress_report_first(app: FakeApp) -> None:
    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    run_as(app, "os:chenjing")
    fire(app, None, code, "start")
    with pytest.raises(ProgressReportRequired):
        fire(app, None, code, "submit")
    assert app.store.task(code).state == "in_progress"


def test_another_units_head_may_not_start_the_task(app: FakeApp) -> None:
    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    run_as(app, "os:zhaolei")
    with pytest.raises(NotPermitted):
        fire(app, None, code, "start")
    assert app.store.task(code).state == "assigned"


def test_a_stale_form_writes_nothing(app: FakeApp) -> None:
    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    run_as(app, "os:chenjing")
    fire(app, None, code, "start")
    run_as(app, "os:sunli")
    with pytest.raises(StaleTask):  # the supervisor's page was read at version 1; the unit has signed for it since
        fire(app, None, code, "remind", if_version=1)
    assert len(app.store.events_of(code)) == 2


def test_a_rejection_tells_the_unit_and_a_submission_tells_the_leader(app: FakeApp) -> None:
    run_as(app, "os:liming")
    code = assign(app, None, new_task(responsible_person="chenjing"))
    run_as(app, "os:chenjing")
    fire(app, None, code, "start")
    report_progress(app, None, code, ProgressInput(100, "完成"))
    fire(app, None, code, "submit")
    run_as(app, "os:liming")
    fire(app, None, code, "reject", comment="材料不全")
    recipients = sorted((n.dedup_key.split(":")[2], n.recipient_id) for n in app.store.notices)
    assert (("1", "chenjing") in recipients) and (("1", "wangfang") in recipients)  # assigned
    assert ("4", "liming") in recipients  # submitted
    assert ("5", "chenjing") in recipients and ("5", "wangfang") in recipients  # rejected


def test_acting_for_someone_takes_the_recorder_role(app: FakeApp) -> None:
    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    run_as(app, "os:zhaolei")  # another unit's head, no recorder role
    with pytest.raises(NotRecorder):
        fire(app, "chenjing", code, "start")
    run_as(app, "os:sunli")  # the office's recorder enters what the clerk did on paper
    fire(app, "chenjing", code, "start")
    event = app.store.events_of(code)[-1]
    assert (event.actor_id, event.operator_id, event.account) == ("chenjing", "sunli", "os:sunli")


def test_an_unmapped_account_may_not_act_outside_single_desk(app: FakeApp) -> None:
    run_as(app, "os:stranger")
    with pytest.raises(UnmappedOperator):
        assign(app, "liming", new_task())
    app.store.data.settings[SINGLE_DESK] = "true"
    app.identity_cache.clear()
    with pytest.raises(NoActor):  # single-desk: the person must then be named
        assign(app, None, new_task())
    assert assign(app, "liming", new_task()) == "ZG-2026-0001"


def test_an_unknown_task_is_refused_by_code(app: FakeApp) -> None:
    run_as(app, "os:liming")
    with pytest.raises(UnknownTask):
        fire(app, None, "ZG-2026-9999", "approve")


def test_an_extension_is_requested_once_and_decided_once(app: FakeApp) -> None:
    from duban.engine.domain.errors import ExtensionConflict
    from duban.engine.services.extensions import decide_extension, list_extensions, request_extension

    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    run_as(app, "os:chenjing")
    request_id = request_extension(app, None, code, date(2027, 3, 31), "需等待省级资金下达")
    with pytest.raises(ExtensionConflict):  # one pending request per task
        request_extension(app, None, code, date(2027, 4, 30), "再延一个月")
    run_as(app, "os:liming")
    decided = decide_extension(app, None, request_id, True, "同意")
    assert (decided.status, decided.requested_deadline, decided.decided_by) == ("approved", date(2027, 3, 31), "liming")
    with pytest.raises(ExtensionConflict):  # decided once
        decide_extension(app, None, request_id, False, None)
    task = app.store.task(code)
    assert task.clock.deadline == date(2027, 3, 31) and task.clock.deadline_version == 2
    assert [e.trigger for e in app.store.events_of(code)] == ["assign", "extend", "grant_extension"]
    assert [v.status for v in list_extensions(app, code=code)] == ["approved"]


def test_a_new_deadline_must_be_later_and_nothing_is_written_otherwise(app: FakeApp) -> None:
    from duban.engine.domain.errors import InvalidInput
    from duban.engine.services.extensions import request_extension

    run_as(app, "os:liming")
    code = assign(app, None, new_task())
    run_as(app, "os:chenjing")
    with pytest.raises(InvalidInput):
        request_extension(app, None, code, date(2026, 11, 30), "提前")
    assert app.store.data.extensions == {} and len(app.store.events_of(code)) == 1
