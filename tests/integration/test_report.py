"""Circular figures against a hand-computed ledger, replayed at past dates, on SQLite and PostgreSQL.

The ledger (clock starts Monday 2026-09-07 09:00 Shanghai):
  T1 社会事务科 due 09-18: closed 09-10 (on time)
  T2 社会事务科 due 09-30: submitted Saturday 09-19 07:30 Shanghai (still 09-18 in UTC)
  T3 阳光社区党支部 due 09-11: started, then nothing (overdue)
  T4 阳光社区党支部 due 10-30: never started
  T5 党建办公室 due 09-15: extended on 09-14 to 09-25, closed 09-22 (late by its original deadline)
  T6 党建办公室: cancelled 09-09 (counts nowhere)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import InvalidInput
from duban.engine.domain.report import Counts, from_dict, to_dict
from duban.engine.services.extensions import decide_extension, request_extension
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD
from tests.helpers import new_task

SH = ZoneInfo("Asia/Shanghai")
B_UNIT, B_HEAD = "阳光社区党支部", "liuxia"
C_UNIT, C_HEAD = "党建办公室", "wuhaiyan"


def at(clock: FixedClock, text: str) -> None:
    clock.set(datetime.fromisoformat(text).replace(tzinfo=SH))


def build_ledger(app: App, clock: FixedClock) -> dict[str, str]:
    codes = {
        "T1": new_task(app, title="T1 路灯", deadline=date(2026, 9, 18)),
        "T2": new_task(app, title="T2 垃圾清运", deadline=date(2026, 9, 30)),
        "T3": new_task(app, title="T3 公示", unit=B_UNIT, deadline=date(2026, 9, 11), category="专项整治问题"),
        "T4": new_task(app, title="T4 班子", unit=B_UNIT, deadline=date(2026, 10, 30), category="领导班子问题"),
        "T5": new_task(app, title="T5 台账", unit=C_UNIT, deadline=date(2026, 9, 15), campaign="2026年专项巡察"),
        "T6": new_task(app, title="T6 重复", unit=C_UNIT, deadline=date(2026, 9, 30)),
    }
    at(clock, "2026-09-08T10:00")
    for code, head in ((codes["T2"], UNIT_HEAD), (codes["T3"], B_HEAD), (codes["T5"], C_HEAD)):
        fire(app, head, code, "start")
    at(clock, "2026-09-09T10:00")
    fire(app, UNIT_HEAD, codes["T1"], "start")
    report_progress(app, UNIT_HEAD, codes["T1"], ProgressInput(100, "已修复"))
    fire(app, UNIT_HEAD, codes["T1"], "submit")
    fire(app, PRINCIPAL, codes["T6"], "cancel", comment="与T5重复")
    at(clock, "2026-09-10T10:00")
    fire(app, DEPUTY, codes["T1"], "approve")
    fire(app, DEPUTY, codes["T1"], "close")
    at(clock, "2026-09-14T10:00")
    request = request_extension(app, C_HEAD, codes["T5"], date(2026, 9, 25), "需协调区财政")
    decide_extension(app, DEPUTY, request, True, None)
    at(clock, "2026-09-19T07:30")  # Saturday morning in Shanghai, Friday evening in UTC
    report_progress(app, UNIT_HEAD, codes["T2"], ProgressInput(100, "已清运"))
    fire(app, UNIT_HEAD, codes["T2"], "submit")
    at(clock, "2026-09-21T10:00")
    report_progress(app, C_HEAD, codes["T5"], ProgressInput(100, "台账已补齐"))
    fire(app, C_HEAD, codes["T5"], "submit")
    at(clock, "2026-09-22T10:00")
    fire(app, DEPUTY, codes["T5"], "approve")
    fire(app, DEPUTY, codes["T5"], "close")
    return codes


@pytest.fixture
def ledger(app: App, clock: FixedClock) -> dict[str, str]:
    codes = build_ledger(app, clock)
    at(clock, "2026-11-25T10:00")  # reports are asked for long after: the past is rebuilt from events
    return codes


def units_of(d: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        u["unit"]: (
            u["tasks"],
            u["closed"],
            u["overdue"],
            u["completion_rate"],
            u["on_time_rate"],
            u["light"],
            u["rank"],
        )
        for u in d["units"]
    }


def test_week_to_friday_matches_the_hand_count(app: App, ledger: dict[str, str]) -> None:
    report = build_report(app, ReportRequest(as_of=date(2026, 9, 25)))
    d = to_dict(report, "zh")
    assert d["period"] == {"kind": "week", "from": "2026-09-19", "to": "2026-09-25", "days": 7}
    assert d["totals"] == {
        "tasks": 5,
        "closed": 2,
        "in_progress": 1,  # T3; T4 was never started, so it is 未签收 (not signed for)
        "submitted": 1,
        "reviewed": 0,
        "overdue": 1,
        "completion_rate": 0.4,
        "on_time_rate": 0.5,  # T1 by its deadline; T5 only by its extension, which does not count
        "closed_with_deadline": 2,
        "closed_on_time": 1,
        "not_started": 1,
        "suspended": 0,
    }
    assert units_of(d) == {
        C_UNIT: (1, 1, 0, 1.0, 0.0, "green", 1),
        UNIT: (2, 1, 0, 0.5, 1.0, "green", 2),
        B_UNIT: (2, 0, 1, 0.0, None, "red", 3),
    }
    assert [u["unit"] for u in d["units"]] == [C_UNIT, UNIT, B_UNIT]
    assert [u["lagging"] for u in d["units"]] == [False, False, True]
    # T3 is 14 calendar days late but 10 working days: 中秋 (09-25) is off, Sunday 09-20 is a working day.
    assert d["overdue_tasks"] == [
        {
            "code": ledger["T3"],
            "title": "T3 公示",
            "unit": B_UNIT,
            "leader": "张伟",
            "deadline": "2026-09-11",
            "days_overdue": 10,
            "escalation_level": 3,
        }
    ]
    assert [t["code"] for t in d["closed_in_period"]] == [ledger["T5"]]
    assert d["new_in_period"] == [] and d["extensions_in_period"] == []
    assert d["previous_period"]["period"] == {"kind": "week", "from": "2026-09-12", "to": "2026-09-18", "days": 7}
    prev = d["previous_period"]
    assert (prev["totals"]["closed"], prev["totals"]["in_progress"], prev["totals"]["overdue"]) == (1, 3, 1)
    assert prev["totals"]["not_started"] == 1
    assert prev["change"] == {"completion_rate_points": 20.0, "overdue": 0}
    assert d["by_category"]["民生问题"]["tasks"] == 3 and d["by_category"]["专项整治问题"]["overdue"] == 1
    assert d["by_campaign"]["2026年专项巡察"]["closed"] == 1 and d["by_campaign"]["2026年主题教育整改"]["tasks"] == 4
    assert d["headline"] == (
        "截至2026年9月25日，共交办整改任务5项，已销号2项，完成率40.0%；未签收1项，整改中1项，待审核1项，"
        "已审核待销号0项，逾期1项；本期新增0项，新销号1项。"
    )


def test_as_of_reads_the_deadline_then_in_force(app: App, ledger: dict[str, str]) -> None:
    d = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 16))), "en")
    # T5's original deadline 09-15 has passed, but its extension (granted 09-14) holds; T3 is 3 working days late.
    assert [(o["code"], o["days_overdue"], o["escalation_level"]) for o in d["overdue_tasks"]] == [(ledger["T3"], 3, 2)]
    assert [t["code"] for t in d["closed_in_period"]] == [ledger["T1"]]
    assert [(t["code"], t["detail"]) for t in d["extensions_in_period"]] == [(ledger["T5"], "2026-09-15 → 2026-09-25")]


def test_before_the_cancellation_every_task_counts(app: App, ledger: dict[str, str]) -> None:
    d = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 8))), "en")
    # At the end of 09-08 T2, T3 and T5 were signed for; T1, T4 and T6 were still 未签收.
    assert (d["totals"]["tasks"], d["totals"]["in_progress"], d["totals"]["closed"]) == (6, 3, 0)
    assert d["totals"]["not_started"] == 3
    assert len(d["new_in_period"]) == 6
    assert d["totals"]["completion_rate"] == 0.0 and d["totals"]["on_time_rate"] is None


def test_period_boundaries_are_days_in_the_configured_zone(app: App, ledger: dict[str, str]) -> None:
    # T2 was submitted at 07:30 on Saturday 09-19 in Shanghai: 23:30 on Friday 09-18 in UTC.
    friday = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 18))), "en")
    saturday = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 19))), "en")
    assert friday["totals"]["submitted"] == 0 and saturday["totals"]["submitted"] == 1


def test_past_reports_do_not_change_as_the_ledger_moves_on(app: App, clock: FixedClock, ledger: dict[str, str]) -> None:
    before = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 25))), "en")
    fire(app, B_HEAD, ledger["T4"], "start")
    report_progress(app, B_HEAD, ledger["T3"], ProgressInput(100, "已公示"))
    fire(app, B_HEAD, ledger["T3"], "submit")
    after = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 25))), "en")
    for key in ("generated_at",):
        before.pop(key), after.pop(key)
    assert after == before


def test_today_from_the_tasks_equals_today_replayed_from_events(
    app: App, clock: FixedClock, ledger: dict[str, str]
) -> None:
    at(clock, "2026-09-22T18:00")  # the ledger's last day, read from the tasks table
    today = to_dict(build_report(app, ReportRequest()), "en")
    at(clock, "2026-09-23T10:00")  # a day on, the same day is rebuilt from the event history
    replayed = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 22))), "en")
    for d in (today, replayed):
        d.pop("generated_at")
    assert replayed == today


def test_filters_and_month_period(app: App, ledger: dict[str, str]) -> None:
    d = to_dict(build_report(app, ReportRequest(period="month", as_of=date(2026, 9, 30), unit=B_UNIT)), "en")
    assert d["period"]["from"] == "2026-09-01"
    assert [u["unit"] for u in d["units"]] == [B_UNIT] and d["totals"]["tasks"] == 2
    d = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 25), category="民生问题")), "en")
    assert d["totals"]["tasks"] == 3  # T1, T2, T5 (T6 is cancelled)
    d = to_dict(build_report(app, ReportRequest(as_of=date(2026, 9, 25), campaign="2026年专项巡察")), "en")
    assert d["totals"]["tasks"] == 1 and d["totals"]["closed"] == 1
    d = to_dict(build_report(app, ReportRequest(start=date(2026, 9, 1), end=date(2026, 9, 30))), "en")
    assert d["period"] == {"kind": "custom", "from": "2026-09-01", "to": "2026-09-30", "days": 30}
    assert d["previous_period"]["period"]["from"] == "2026-08-02"


def test_named_lists_are_cut_but_counts_stay_whole(app: App, ledger: dict[str, str]) -> None:
    report = build_report(app, ReportRequest(as_of=date(2026, 9, 8), limit=2))
    assert len(report.new_in_period) == 2 and report.new_count == 6
    assert "本期新增6项" in to_dict(report, "zh")["headline"]


def test_the_stored_figures_give_back_the_same_report(app: App, ledger: dict[str, str]) -> None:
    report = build_report(app, ReportRequest(as_of=date(2026, 9, 25)))
    assert from_dict(to_dict(report, "zh")) == report
    assert report.previous.units[B_UNIT] == Counts(2, 0, 1, 0, 0, 1, 0, 0, not_started=1)


@pytest.mark.parametrize(
    ("req", "message"),
    [
        (ReportRequest(as_of=date(2026, 12, 1)), "after today"),
        (ReportRequest(start=date(2026, 9, 30), end=date(2026, 9, 1)), "is after --to"),
        (ReportRequest(end=date(2026, 9, 30), as_of=date(2026, 9, 29)), "differs from --to"),
        (ReportRequest(period="fortnight"), "not week, month, quarter or year"),
    ],
)
def test_bad_periods_are_refused(app: App, req: ReportRequest, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build_report(app, req)


def test_an_empty_ledger_reports_zeros(app: App) -> None:
    d = to_dict(build_report(app, ReportRequest()), "en")
    assert d["totals"]["tasks"] == 0 and d["totals"]["completion_rate"] is None and d["units"] == []


def test_instants_are_utc(app: App, ledger: dict[str, str]) -> None:
    report = build_report(app, ReportRequest(as_of=date(2026, 9, 25)))
    assert report.generated_at is not None and report.generated_at.tzinfo is not None
    assert report.generated_at == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def test_a_state_may_say_how_it_counts_in_a_circular() -> None:
    from pathlib import Path

    from duban.engine.domain.errors import DefinitionError
    from duban.engine.domain.workflow import parse_workflow

    text = (Path(__file__).resolve().parents[2] / "workflows" / "rectification.yaml").read_text(encoding="utf-8")
    spec = parse_workflow(text, "rectification.yaml")
    assert {k: s.report for k, s in spec.states.items()} == {
        "assigned": "not_started",
        "in_progress": "in_progress",
        "submitted": "submitted",
        "reviewed": "reviewed",
        "verified": "reviewed",  # 复核: still awaiting closing
        "closed": "closed",
        "cancelled": "excluded",
        "returned": "not_started",  # 退办: no unit has signed for it
        "suspended": "suspended",  # 挂起: a section of its own
    }
    bad = text.replace("report: reviewed}", "report: done}")
    with pytest.raises(DefinitionError, match=r"rectification\.yaml: states\[3\]\.report: 'done' is not one of"):
        parse_workflow(bad, "rectification.yaml")


@pytest.mark.parametrize("way", ["rows and moved tasks", "events alone"])
@pytest.mark.parametrize("day", ["2026-09-07", "2026-09-09", "2026-09-14", "2026-09-18", "2026-09-21", "2026-09-30"])
def test_as_of_figures_equal_a_replay_of_the_events(
    app: App, ledger: dict[str, str], day: str, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report's per-unit counts against each task's history walked in Python up to the end of ``day``.

    Both ways of rebuilding the past are tried at every date: from the task rows plus the events of
    the tasks moved since, and from the events alone (what a date far back uses).
    """
    from duban.engine.persistence.read import report_queries

    monkeypatch.setattr(report_queries, "MOVED_SHARE_FOR_EVENTS", 1.1 if way == "rows and moved tasks" else -1.0)
    from sqlalchemy import select

    from duban.engine.persistence.models import Event, Task, Unit
    from duban.engine.services.report import end_of_day

    as_of = date.fromisoformat(day)
    cut = end_of_day(as_of, SH)
    spec = app.registry.spec("rectification")
    bucket = {s.key: ("not_started" if s.key == spec.initial else s.report) for s in spec.states.values()}
    expected: dict[str, Counts] = {}
    with app.db.engine.connect() as conn:
        units = dict(conn.execute(select(Task.id, Unit.name).join(Unit, Unit.id == Task.unit_id)).all())
        last: dict[int, tuple[str, date | None]] = {}
        for task_id, state, deadline, when in conn.execute(
            select(Event.task_id, Event.to_state, Event.deadline, Event.at).order_by(Event.task_id, Event.seq)
        ):
            if when <= cut:
                last[task_id] = (state, deadline)
    for task_id, (state, deadline) in last.items():
        b = bucket[state]
        if b == "excluded":
            continue
        overdue = int(state in ("assigned", "in_progress") and deadline is not None and deadline < as_of)
        c = Counts(
            1,
            int(b == "closed"),
            int(b == "in_progress"),
            int(b == "submitted"),
            int(b == "reviewed"),
            overdue,
            not_started=int(b == "not_started"),
        )
        unit = units[task_id]
        expected[unit] = expected[unit] + c if unit in expected else c
    report = build_report(app, ReportRequest(as_of=as_of))
    got = {
        u.unit: (
            u.counts.tasks,
            u.counts.closed,
            u.counts.not_started,
            u.counts.in_progress,
            u.counts.submitted,
            u.counts.overdue,
        )
        for u in report.units
    }
    assert got == {
        k: (c.tasks, c.closed, c.not_started, c.in_progress, c.submitted, c.overdue) for k, c in expected.items()
    }


@pytest.mark.parametrize("way", ["rows and moved tasks", "events alone"])
@pytest.mark.parametrize("day", ["2026-09-14", "2026-09-21", "2026-09-30"])
def test_the_previous_period_from_the_same_pass_equals_its_own_report(
    app: App, ledger: dict[str, str], day: str, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One pass gives both periods' figures: the previous ones must equal a report made for that period's end."""
    from duban.engine.persistence.read import report_queries

    monkeypatch.setattr(report_queries, "MOVED_SHARE_FOR_EVENTS", 1.1 if way == "rows and moved tasks" else -1.0)
    report = build_report(app, ReportRequest(as_of=date.fromisoformat(day)))
    before = build_report(app, ReportRequest(as_of=report.previous.period.end))
    assert report.previous.totals == before.totals
    assert report.previous.units == {u.unit: u.counts for u in before.units}
    assert report.previous.totals.tasks > 0


@pytest.mark.parametrize("way", ["rows and moved tasks", "events alone"])
def test_a_unit_scoped_circular_counts_what_the_unit_held_at_each_instant(
    app: App, clock: FixedClock, ledger: dict[str, str], way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A circular for one unit: its figures (this period and the previous one) and its named lists equal the
    whole circular's for that unit, though a task changed unit (转办) between the two periods' ends."""
    from duban.engine.persistence.read import report_queries
    from duban.engine.services.transfers import reassign, return_task

    monkeypatch.setattr(report_queries, "MOVED_SHARE_FOR_EVENTS", 1.1 if way == "rows and moved tasks" else -1.0)
    at(clock, "2026-09-07T11:00")
    moved = new_task(app, title="T7 转走", deadline=date(2026, 9, 9))
    at(clock, "2026-09-08T11:00")
    return_task(app, UNIT_HEAD, moved, "不是我们的")
    at(clock, "2026-09-16T11:00")
    reassign(app, DEPUTY, moved, "督查室", None)  # in the week to 09-18: the previous week's end saw it at 社会事务科
    at(clock, "2026-11-25T10:00")
    for day in (date(2026, 9, 11), date(2026, 9, 18), date(2026, 9, 25)):
        whole = build_report(app, ReportRequest(as_of=day))
        for unit in (UNIT, "督查室"):
            part = build_report(app, ReportRequest(as_of=day, unit=unit))
            line = {u.unit: u.counts for u in whole.units}
            assert part.totals == line.get(unit, Counts()), (day, unit)
            assert part.previous.totals == whole.previous.units.get(unit, Counts()), (day, unit)
            assert part.overdue_tasks == [o for o in whole.overdue_tasks if o.unit == unit], (day, unit)
    before = build_report(app, ReportRequest(as_of=date(2026, 9, 18), unit=UNIT))
    assert before.previous.totals.tasks == before.totals.tasks + 1  # T7 was its own at the previous week's end


@pytest.mark.parametrize("way", ["rows and moved tasks", "events alone"])
def test_the_named_lists_from_the_one_pass_equal_their_own_passes(
    app: App, clock: FixedClock, ledger: dict[str, str], way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overdue, suspended and co-unit lists come out of the figures' statement (one CTE read by each);
    each must equal the list its own as-of pass gives (the way a circular made them before, and still makes
    them when a ledger was imported later), on every day, both ways of rebuilding the past, cut or whole."""
    from duban.engine.persistence.co_units import tasks_with_parts
    from duban.engine.persistence.read import report_queries
    from duban.engine.persistence.read.report_queries import (
        Scope,
        as_of_source,
        circular_pass,
        imported_before,
        overdue_tasks,
        pair_source,
        state_rules,
        suspended_tasks,
    )
    from duban.engine.services.report import end_of_day

    monkeypatch.setattr(report_queries, "MOVED_SHARE_FOR_EVENTS", 1.1 if way == "rows and moved tasks" else -1.0)
    at(clock, "2026-09-08T11:00")
    held = new_task(app, title="T8 待审批", deadline=date(2026, 9, 30))
    fire(app, UNIT_HEAD, held, "start")
    fire(app, DEPUTY, held, "suspend", comment="等待住建局审批")
    new_task(app, title="T9 配合", deadline=date(2026, 9, 10), co_units=[B_UNIT])
    at(clock, "2026-09-23T10:00")
    fire(app, DEPUTY, held, "resume")
    at(clock, "2026-11-25T10:00")
    rules = state_rules(app.registry.specs)
    scope = Scope(not_workflows=("assistance",), top_only=True)
    seen = {"overdue": 0, "suspended": 0, "co-units": 0}
    for day in (date(2026, 9, 9), date(2026, 9, 14), date(2026, 9, 21), date(2026, 11, 25)):
        end = end_of_day(day, SH)
        until = end if day < date(2026, 11, 25) else clock.now()
        prev_end = end_of_day(date.fromordinal(day.toordinal() - 7), SH)
        for limit in (None, 1):
            with app.db.engine.connect() as conn:
                pair = pair_source(conn, None if day == date(2026, 11, 25) else end, prev_end)
                one = circular_pass(conn, rules, pair, scope, day, day, SH, until, limit)
                src = as_of_source(conn, end, imported_before(rules, day))
                assert one.overdue == overdue_tasks(conn, rules, src, scope, day, limit), (day, limit)
                assert one.suspended == suspended_tasks(conn, rules, src, scope, until, limit), (day, limit)
                assert one.with_co_units == tasks_with_parts(conn, rules, src, scope), day
                for name, rows in (
                    ("overdue", one.overdue),
                    ("suspended", one.suspended),
                    ("co-units", one.with_co_units),
                ):
                    seen[name] += len(rows)
        named = build_report(app, ReportRequest(as_of=day))
        assert [s.code for s in named.suspended_tasks] == ([] if day == date(2026, 11, 25) else [held])
    assert all(seen.values()), seen  # every list had something to compare
