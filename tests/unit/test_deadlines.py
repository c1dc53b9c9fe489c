"""Calendar, deadline expressions, policy and planning: pure domain, an injected clock, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from duban.engine.domain import watch as watch_rules
from duban.engine.domain.calendar import WorkCalendar, load_overrides
from duban.engine.domain.deadlines import campaign_year, parse_deadline
from duban.engine.domain.errors import BadFile, DefinitionError, InvalidInput
from duban.engine.domain.planning import DeadlineClock, plan, standing
from duban.engine.domain.policy import DeadlinePolicy, Escalation
from duban.engine.domain.workflow import parse_workflow
from duban.workflows import BUILTIN_DIR

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
POLICY = DeadlinePolicy(
    escalation=(
        Escalation(1, 1, ("unit_head",)),
        Escalation(2, 3, ("lead_leader",)),
        Escalation(3, 7, ("supervisors",), True),
    ),
    stale_progress_days=None,
)


def local(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ).astimezone(UTC)


# --- the statutory calendar -----------------------------------------------------------------


def test_spring_festival_2026_and_its_adjusted_working_days() -> None:
    # 2026 Spring Festival: 15–23 February off; Saturday 14 and Saturday 28 February are worked (调休).
    assert not CAL.is_working_day(date(2026, 2, 16))
    assert CAL.is_working_day(date(2026, 2, 14))  # a Saturday, worked
    assert CAL.is_working_day(date(2026, 2, 28))
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_national_day_2026() -> None:
    assert not any(CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8) or CAL.add_working_days(
        date(2026, 9, 30), 1
    ) == date(2026, 10, 9)
    # counted in working days, a deadline of 30 September is not 8 days overdue on 8 October
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) <= 1


def test_working_days_count_from_the_day_after() -> None:
    sunday = date(2026, 11, 22)
    assert CAL.add_working_days(sunday, 1) == date(2026, 11, 23)
    assert CAL.add_working_days(sunday, 0) == date(2026, 11, 23)
    assert CAL.subtract_working_days(date(2026, 11, 27), 3) == date(2026, 11, 24)
    assert CAL.working_days_between(date(2026, 11, 20), date(2026, 11, 23)) == 1
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 20)) == 0


def test_fallback_year_is_monday_to_friday_and_recorded() -> None:
    cal = WorkCalendar()
    assert cal.is_working_day(date(2030, 3, 4))  # a Monday
    assert not cal.is_working_day(date(2030, 3, 9))  # a Saturday
    assert not cal.is_working_day(date(2030, 10, 1))  # National Day is a fixed date
    assert cal.fallback_years == {2030}


def test_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "local.yaml"
    path.write_text("holidays: [2026-11-23]\nworkdays: [2026-11-28]\n", encoding="utf-8")
    cal = load_overrides(path)
    assert not cal.is_working_day(date(2026, 11, 23)) and cal.is_working_day(date(2026, 11, 28))
    path.write_text("holidays: [2026-11-31]\n", encoding="utf-8")
    with pytest.raises(BadFile, match=r"holidays\[0\]: '2026-11-31' is not a date"):
        load_overrides(path)


# --- deadline expressions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-30", date(2026, 6, 30)),
        ("2026/7/1", date(2026, 7, 1)),
        ("2026年6月30日", date(2026, 6, 30)),
        ("2026年6月30日前", date(2026, 6, 30)),
        ("2026年6月底前", date(2026, 6, 30)),
        ("6月底前", date(2026, 6, 30)),
        ("2月底", date(2026, 2, 28)),
        ("年底前", date(2026, 12, 31)),
        ("2027年底前", date(2027, 12, 31)),
        ("第三季度末", date(2026, 9, 30)),
        ("2027年第一季度末", date(2027, 3, 31)),
        ("上半年", date(2026, 6, 30)),
        ("10个工作日内", date(2026, 10, 21)),
        ("立行立改", date(2026, 10, 15)),
        ("长期坚持", None),
    ],
)
def test_deadline_expressions(text: str, expected: date | None) -> None:
    result = parse_deadline(text, today=date(2026, 9, 29), calendar=CAL, at_once_working_days=5, year=2026)
    if text in ("10个工作日内", "立行立改"):
        n = 10 if text.startswith("10") else 5
        assert result.due == CAL.add_working_days(date(2026, 9, 29), n)
    else:
        assert result.due == expected
    assert result.expression == text


def test_year_comes_from_the_campaign_else_today() -> None:
    assert campaign_year("2027年主题教育整改") == 2027 and campaign_year("专项整治") is None
    assert parse_deadline("6月底前", today=date(2026, 9, 1), calendar=CAL, at_once_working_days=5).due == date(
        2026, 6, 30
    )
    assert parse_deadline(
        "6月底前", today=date(2026, 9, 1), calendar=CAL, at_once_working_days=5, year=2027
    ).due == date(2027, 6, 30)


@pytest.mark.parametrize("text", ["下周五", "2026年13月底前", "2026-02-30", "", "第五季度末", "ASAP"])
def test_unreadable_expressions_are_quoted_with_examples(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_deadline(text, today=date(2026, 9, 29), calendar=CAL, at_once_working_days=5)
    message = info.value.render("en")
    assert f"cannot read '{text}'" in message and "2026年6月底前" in message and "长期坚持" in message


# --- policy from YAML ------------------------------------------------------------------------------


def test_builtin_policy_is_read() -> None:
    spec = parse_workflow((BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8"), "r.yaml")
    policy = spec.deadlines
    assert policy.remind_before_working_days == (3, 1, 0)
    assert [e.after_working_days for e in policy.escalation] == [1, 3, 7]
    assert policy.escalation[2].name_in_circular and "supervisors" in policy.escalation[2].notify


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("deadlines: {remind: {at: '9am'}}", "deadlines.remind.at: '9am' is not a time of day"),
        (
            "deadlines: {escalate: [{level: 2, after_working_days: 1}]}",
            "deadlines.escalate[0].level: levels go 1, 2, 3",
        ),
        (
            "deadlines: {escalate: [{level: 1, after_working_days: 3}, {level: 2, after_working_days: 2}]}",
            "deadlines.escalate[1].after_working_days: each level comes later",
        ),
        ("deadlines: {escalate: [{level: 1, after_working_days: 1, notify: [mayor]}]}", "unknown recipient 'mayor'"),
        ("deadlines: {at_once_working_days: -1}", "deadlines.at_once_working_days: expected a whole number"),
        ("deadlines: {snooze: 3}", "deadlines.snooze: unknown key"),
    ],
)
def test_policy_mistakes_name_the_key(snippet: str, expected: str) -> None:
    text = (BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8")
    text = text[: text.index("deadlines:")] + snippet + "\n"
    with pytest.raises(DefinitionError) as info:
        parse_workflow(text, "wf.yaml")
    assert expected in info.value.render("en")


# --- planning ---------------------------------------------------------------------------------------


def watch(due: date | None, *, since: datetime, version: int = 1) -> DeadlineClock:
    return DeadlineClock(deadline=due, deadline_version=version, watch_from=since, created_at=since)


def test_reminders_then_levels_then_nothing() -> None:
    w = watch(date(2026, 11, 27), since=local(2026, 11, 2))  # Friday 27 November
    first = plan(w, POLICY, CAL, TZ, local(2026, 11, 2, 10))
    assert first.due_now == [] and first.next_at == local(2026, 11, 24)  # 3 working days before
    at_deadline = plan(w, POLICY, CAL, TZ, local(2026, 11, 27, 10))
    assert [(a.rule, a.level) for a in at_deadline.due_now] == [("remind", 3), ("remind", 1), ("remind", 0)]
    assert at_deadline.next_at == local(2026, 11, 30)  # level 1: one working day overdue (Monday)
    late = plan(w, POLICY, CAL, TZ, local(2026, 12, 9, 10))
    assert [a.level for a in late.due_now if a.rule == "escalate"] == [1, 2, 3]
    assert late.escalation_level == 3 and late.next_at is None
    assert late.due_now[-1].name_in_circular


def test_catch_up_after_downtime_sends_each_once() -> None:
    w = watch(date(2026, 11, 27), since=local(2026, 11, 2))
    after_outage = plan(w, POLICY, CAL, TZ, local(2026, 12, 2, 10))
    keys = [a.key(7, 1) for a in after_outage.due_now]
    assert keys == ["7:remind:3:1", "7:remind:1:1", "7:remind:0:1", "7:escalate:1:1", "7:escalate:2:1"]
    handled = replace(w, watch_from=local(2026, 12, 2, 10), escalation_level=2)
    assert plan(handled, POLICY, CAL, TZ, local(2026, 12, 2, 11)).due_now == []


def test_a_deadline_already_past_when_watching_starts_is_escalated_once() -> None:
    late = watch(date(2026, 11, 2), since=local(2026, 11, 25, 10))
    p = plan(late, POLICY, CAL, TZ, local(2026, 11, 25, 11))
    assert [(a.rule, a.level) for a in p.due_now] == [("escalate", 3)] and p.due_now[0].name_in_circular
    told = replace(late, watch_from=local(2026, 11, 25, 11), escalation_level=3)
    assert plan(told, POLICY, CAL, TZ, local(2026, 11, 26, 11)).due_now == []


def test_extension_replans_under_a_new_deadline_version() -> None:
    w = watch(date(2026, 12, 11), since=local(2026, 11, 25, 15), version=2)
    p = plan(w, POLICY, CAL, TZ, local(2026, 12, 8, 10))
    assert [a.key(7, 2) for a in p.due_now] == ["7:remind:3:2"]


def test_clock_stopped_plans_nothing() -> None:
    w = watch(date(2026, 11, 27), since=local(2026, 11, 2))
    stopped = plan(w, POLICY, CAL, TZ, local(2026, 12, 9), runs=False)
    assert stopped == plan(w, POLICY, CAL, TZ, local(2026, 11, 1), runs=False)
    assert stopped.next_at is None and stopped.due_now == []


def test_ongoing_tasks_are_chased_for_reports() -> None:
    policy = DeadlinePolicy(ongoing_report_every_days=30)
    w = watch(None, since=local(2026, 9, 1))
    p = plan(w, policy, CAL, TZ, local(2026, 11, 5))
    assert [(a.rule, a.level) for a in p.due_now] == [("stale", 2)]  # after a gap, only the latest chase
    assert p.next_at == local(2026, 11, 30)


def test_stale_progress_restarts_from_the_last_report() -> None:
    policy = DeadlinePolicy(stale_progress_days=14, remind_before_working_days=())
    reported = watch(date(2027, 6, 30), since=local(2026, 11, 10, 12))
    p = plan(reported, policy, CAL, TZ, local(2026, 11, 25, 10))
    assert [(a.rule, a.base) for a in p.due_now] == [("stale", "2026-11-10")]
    assert p.next_at == local(2026, 12, 8)


def test_traffic_light() -> None:
    today = date(2026, 11, 25)
    assert standing(date(2026, 12, 31), True, today, POLICY, CAL).light == "green"
    assert standing(date(2026, 11, 27), True, today, POLICY, CAL).light == "yellow"
    red = standing(date(2026, 11, 20), True, today, POLICY, CAL)
    assert (red.light, red.days_overdue) == ("red", 3)
    assert standing(date(2026, 11, 20), False, today, POLICY, CAL).light is None
    assert standing(None, True, today, POLICY, CAL).light == "green"
    assert standing(today + timedelta(days=1), True, today, POLICY, CAL).days_left == 1


# --- the deadline clock around a firing (domain/watch.py) -----------------------------------------


def test_the_ladder_counts_overdue_working_days() -> None:
    assert [POLICY.level_reached(d) for d in (0, 1, 2, 3, 6, 7, 30)] == [0, 1, 1, 2, 2, 3, 3]
    assert DeadlinePolicy().level_reached(100) == 0  # no ladder, no level


def test_a_task_sent_back_from_review_is_not_late_for_the_review() -> None:
    spec = parse_workflow((BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8"), "rectification.yaml")
    assigned = local(2026, 11, 2)  # Monday
    clock = DeadlineClock.started(deadline=date(2026, 11, 27), at=assigned)
    assert (clock.deadline_version, clock.watch_from, clock.progress_base) == (1, assigned, assigned)
    submitted = watch_rules.after_transition(
        spec, "in_progress", "submitted", clock, local(2026, 11, 16), progress=False, calendar=CAL, tz=TZ
    )
    assert submitted.clock_stopped_at == local(2026, 11, 16) and submitted.next_action_at is None
    back = watch_rules.after_transition(
        spec, "submitted", "in_progress", submitted, local(2026, 11, 19), progress=False, calendar=CAL, tz=TZ
    )
    # three working days waited on the leader: the deadline moves by three, under a new version, watched from now
    assert back.deadline == date(2026, 12, 2) and back.deadline_version == 2
    assert back.clock_stopped_at is None and back.watch_from == local(2026, 11, 19)
    assert back.next_action_at == local(2026, 11, 27)  # three working days before the new deadline
    plan_now = watch_rules.plan_for(spec, "in_progress", back, local(2026, 11, 27, 10), calendar=CAL, tz=TZ)
    assert [(a.rule, a.level) for a in plan_now.due_now] == [("remind", 3)]


def test_the_watch_carries_every_field_of_the_clock() -> None:
    """The firing path builds the moved clock field by field (``dataclasses.replace`` cost more than the plan):
    a field added to ``DeadlineClock`` must be carried there too, and the plan must be the one asked for."""
    from dataclasses import fields

    assert [f.name for f in fields(DeadlineClock)] == [
        "deadline",
        "deadline_version",
        "watch_from",
        "created_at",
        "next_action_at",
        "last_progress_at",
        "clock_stopped_at",
        "escalation_level",
        "sign_by",
        "signed_at",
    ], "a new DeadlineClock field: carry it in watch._planned and watch.after_transition, then list it here"
    spec = parse_workflow((BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8"), "rectification.yaml")
    clock = DeadlineClock(
        deadline=date(2026, 11, 27),
        deadline_version=3,
        watch_from=local(2026, 11, 3),
        created_at=local(2026, 11, 2),
        next_action_at=local(2026, 11, 4),
        last_progress_at=local(2026, 11, 3, 11),
        clock_stopped_at=None,
        escalation_level=2,
        sign_by=date(2026, 11, 4),
        signed_at=local(2026, 11, 3, 10),
    )
    for state in ("assigned", "in_progress", "submitted"):
        expected = replace(clock, next_action_at=watch_rules.next_attention(spec, state, clock, calendar=CAL, tz=TZ))
        assert watch_rules._planned(spec, state, clock, calendar=CAL, tz=TZ) == expected
    later = local(2026, 11, 5)
    moved = watch_rules.after_transition(
        spec, "in_progress", "in_progress", clock, later, progress=True, calendar=CAL, tz=TZ
    )
    assert moved == replace(
        clock,
        last_progress_at=later,
        next_action_at=watch_rules.next_attention(
            spec, "in_progress", replace(clock, last_progress_at=later), calendar=CAL, tz=TZ
        ),
    )


def test_the_watch_plans_as_if_nothing_was_told() -> None:
    """``next_attention`` asks the plan with no level told (``told=0``), as it did with a copy of the clock."""
    clock = DeadlineClock(deadline=date(2026, 11, 6), watch_from=local(2026, 11, 20), created_at=local(2026, 11, 2))
    for told in (0, 1, 3):
        c = replace(clock, escalation_level=told)
        assert plan(c, POLICY, CAL, TZ, c.watch_from, told=0) == plan(
            replace(c, escalation_level=0), POLICY, CAL, TZ, c.watch_from
        )


def _plan_as_it_was(
    clock: DeadlineClock, policy: DeadlinePolicy, now: datetime, sign_by: date | None, told: int | None
) -> tuple[list[tuple[str, int, datetime]], datetime | None, int]:
    """``plan`` before it was written as one pass, kept as its definition."""
    from duban.engine.domain.planning import deadline_actions, sign_for_actions, stale_actions

    actions = deadline_actions(clock, policy, CAL, TZ) + stale_actions(clock, policy, TZ, now)
    if sign_by is not None:
        actions += sign_for_actions(sign_by, policy, CAL, TZ)
    pending = [a for a in actions if a.at > clock.watch_from]
    due = [a for a in pending if a.at <= now]
    level = max((a.level for a in actions if a.rule == "escalate" and a.at <= now), default=0)
    if level > (clock.escalation_level if told is None else told) and not any(
        a.rule == "escalate" and a.level == level for a in due
    ):
        due += [a for a in actions if a.rule == "escalate" and a.level == level]
    stale = [a for a in due if a.rule == "stale"]
    due = [a for a in due if a.rule != "stale"] + stale[-1:]
    due_now = sorted(due, key=lambda a: (a.at, a.rule, a.level))
    later = [a.at for a in pending if a.at > now]
    return [(a.rule, a.level, a.at) for a in due_now], min(later) if later else None, level


def test_the_one_pass_plan_is_the_plan_it_replaced() -> None:
    """Random clocks under the built-in policy and a stricter one: the same actions due, next look and level."""
    import random

    spec = parse_workflow((BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8"), "rectification.yaml")
    policies = [spec.deadlines, POLICY, replace(POLICY, stale_progress_days=3), replace(spec.deadlines, escalation=())]
    rnd = random.Random(20261202)
    base = local(2026, 9, 1)
    for _ in range(3000):
        policy = rnd.choice(policies)
        created = base + timedelta(hours=rnd.randrange(0, 24 * 60))
        watch_from = created + timedelta(hours=rnd.randrange(0, 24 * 40))
        clock = DeadlineClock(
            deadline=rnd.choice([None, (created + timedelta(days=rnd.randrange(-5, 60))).date()]),
            watch_from=watch_from,
            created_at=created,
            last_progress_at=rnd.choice([None, created + timedelta(hours=rnd.randrange(0, 24 * 30))]),
            escalation_level=rnd.randrange(0, 4),
        )
        now = watch_from + timedelta(hours=rnd.randrange(0, 24 * 50))
        sign_by = rnd.choice([None, (created + timedelta(days=rnd.randrange(0, 6))).date()])
        told = rnd.choice([None, 0, 2])
        got = plan(clock, policy, CAL, TZ, now, sign_by=sign_by, told=told)
        assert ([(a.rule, a.level, a.at) for a in got.due_now], got.next_at, got.escalation_level) == (
            _plan_as_it_was(clock, policy, now, sign_by, told)
        )
