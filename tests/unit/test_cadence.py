"""Periodic reporting duties (定期填报): cadences read from YAML, due days on the statutory calendar, duties
replayed from a task's steps (on time, 迟报, 漏报), reminders and the escalation ladder. Pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from duban.engine.domain.cadence import (
    Cadence,
    ReportingPolicy,
    Step,
    duties,
    duty_actions,
    history,
    parse_cadence,
    tally,
)
from duban.engine.domain.calendar import WorkCalendar
from duban.engine.domain.errors import DefinitionError
from duban.engine.domain.policy import Escalation
from duban.engine.domain.workflow import parse_workflow
from duban.workflows import BUILTIN_DIR

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
FRIDAY = Cadence("weekday", 5)
STATES = frozenset({"in_progress"})


def local(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=TZ).astimezone(UTC)


def fail(key: str, detail: str) -> Exception:
    return ValueError(f"{key}: {detail}")


# --- reading cadences -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("每周五", Cadence("weekday", 5)),
        ("每星期一", Cadence("weekday", 1)),
        ("每周日", Cadence("weekday", 7)),
        ("every Friday", Cadence("weekday", 5)),
        ("每月25日", Cadence("month_day", 25)),
        ("每月２５号", Cadence("month_day", 25)),
        ("每月末", Cadence("month_day", 31)),
        ("每10个工作日", Cadence("working_days", 10)),
        ({"weekday": 5}, Cadence("weekday", 5)),
        ({"weekday": "friday"}, Cadence("weekday", 5)),
        ({"month_day": 25}, Cadence("month_day", 25)),
        ({"working_days": 10}, Cadence("working_days", 10)),
    ],
)
def test_cadences_as_offices_write_them(raw: object, expected: Cadence) -> None:
    assert parse_cadence(raw, "reporting.every", fail) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("每月0日", "never"),
        ("每月32日", "never"),
        ({"weekday": 8}, "never"),
        ("每0个工作日", "never"),
        ("每999个工作日", "never"),
        ("每周八", "not a day of the week"),
        ("下周五", "cannot read"),
        ({"fortnight": 1}, "unknown key"),
        (5, "expected a cadence"),
    ],
)
def test_a_cadence_that_never_fires_is_refused(raw: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_cadence(raw, "reporting.every", fail)


def _workflow(reporting: str) -> str:
    text = (BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8")
    return text.split("\nreporting:")[0] + "\n" + reporting


def test_the_builtin_rectification_workflow_asks_ongoing_tasks_for_monthly_reports() -> None:
    spec = parse_workflow((BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8"), "rectification.yaml")
    assert spec.reporting is not None
    assert spec.reporting.every == Cadence("month_day", 25) and spec.reporting.tasks == "ongoing"
    assert spec.reporting_states() == {"in_progress"}  # where `progress` fires from
    assert spec.deadlines.ongoing_report_every_days == 0  # the cadence replaces the silence chasing
    assert spec.reporting.cadence_for("x", ongoing=False) is None
    assert spec.reporting.cadence_for("x", ongoing=True) == Cadence("month_day", 25)


@pytest.mark.parametrize(
    ("block", "key"),
    [
        ("reporting:\n  every: 每月32日\n", "reporting.every"),
        ("reporting:\n  every: 每周五\n  at: '25:00'\n", "reporting.at"),
        ("reporting:\n  every: 每周五\n  tasks: some\n", "reporting.tasks"),
        ("reporting:\n  every: 每周五\n  trigger: report\n", "reporting.trigger"),
        ("reporting:\n  every: 每周五\n  often: true\n", "reporting.often"),
        ("reporting:\n  at: '17:00'\n", "reporting.every"),
        ("reporting:\n  every: 每周五\n  campaigns: {专项: 每0个工作日}\n", "reporting.campaigns.专项"),
        (
            "reporting:\n  every: 每周五\n  escalate:\n    - {level: 2, after_working_days: 1}\n",
            "reporting.escalate[0].level",
        ),
        (
            "reporting:\n  every: 每周五\n  escalate:\n    - {level: 1, after_working_days: 3}\n"
            "    - {level: 2, after_working_days: 2}\n",
            "reporting.escalate[1].after_working_days",
        ),
        ("reporting:\n  every: 每周五\n  remind: {notify: [nobody]}\n", "reporting.remind.notify"),
    ],
)
def test_bad_reporting_blocks_are_refused_with_file_and_key(block: str, key: str) -> None:
    with pytest.raises(DefinitionError) as err:
        parse_workflow(_workflow(block), "workflows/mine.yaml")
    message = err.value.render("en")
    assert "workflows/mine.yaml" in message and key in message, message


def test_a_campaign_has_its_own_cadence() -> None:
    spec = parse_workflow(
        _workflow("reporting:\n  every: 每月25日\n  campaigns: {2026年专项: 每周五}\n"), "workflows/mine.yaml"
    )
    assert spec.reporting is not None and spec.reporting.tasks == "all"
    assert spec.deadlines.stale_progress_days is None  # every task reports on the cadence
    assert spec.reporting.cadence_for("2026年专项", ongoing=False) == FRIDAY
    assert spec.reporting.cadence_for("其他", ongoing=False) == Cadence("month_day", 25)
    assert spec.reporting.cadence_for(None, ongoing=False) == Cadence("month_day", 25)


# --- due days on the statutory calendar ------------------------------------------------------------------


def test_every_friday_moves_off_a_holiday_to_the_next_working_day() -> None:
    # 25 September 2026 is 中秋 (a holiday): the report moves to Monday the 28th. 2 October is in the National
    # Day holiday (1–7 October): moved to Thursday the 8th, the day before Friday the 9th, it merges into it.
    days = FRIDAY.due_days(date(2026, 9, 1), date(2026, 9, 20), date(2026, 10, 16), CAL)
    assert days == [date(2026, 9, 28), date(2026, 10, 9), date(2026, 10, 16)]
    assert FRIDAY.due_days(date(2026, 9, 1), date(2026, 9, 20), date(2026, 10, 8), CAL) == [date(2026, 9, 28)]


def test_the_25th_and_the_month_end_clamped() -> None:
    monthly = Cadence("month_day", 25).due_days(date(2026, 1, 1), date(2026, 9, 1), date(2026, 11, 30), CAL)
    assert monthly == [date(2026, 9, 28), date(2026, 10, 26), date(2026, 11, 25)]  # 9-25 中秋, 10-25 a Sunday
    month_end = Cadence("month_day", 31).due_days(date(2026, 1, 1), date(2026, 2, 2), date(2026, 4, 30), CAL)
    assert month_end == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]  # 2-28: a worked Saturday


def test_every_ten_working_days_counts_from_the_first_day_of_work() -> None:
    days = Cadence("working_days", 10).due_days(date(2026, 9, 7), date(2026, 9, 7), date(2026, 10, 31), CAL)
    # 9-20 (a Sunday) is worked, the tenth working day; 10-1…10-7 are off: the statutory calendar
    assert days == [CAL.add_working_days(date(2026, 9, 7), n) for n in (10, 20, 30)]
    assert days[0] == date(2026, 9, 20) and days[2] < date(2026, 10, 31)


# --- duties replayed from the steps ----------------------------------------------------------------------


def steps(*extra: Step) -> list[Step]:
    return [
        Step(local(2026, 9, 7), "assign", "assigned", 1),
        Step(local(2026, 9, 8), "start", "in_progress", 1),
        *extra,
    ]


def report(m: int, d: int, h: int = 10) -> Step:
    return Step(local(2026, m, d, h), "progress", "in_progress", 1)


def test_on_time_late_missed_and_open() -> None:
    h = history(
        steps(report(9, 10), report(9, 11), report(9, 21), report(10, 9, 18)),
        STATES,
        "progress",
        local(2026, 10, 31),
    )
    found = duties(FRIDAY, time(17, 0), h, local(2026, 10, 12), CAL, TZ)
    assert [(d.day, d.status) for d in found] == [
        (date(2026, 9, 11), "on_time"),  # two reports in the window settle one duty
        (date(2026, 9, 18), "late"),  # reported on the 21st, before the next due day
        (date(2026, 9, 28), "missed"),  # nothing until the next due day (10-09 17:00) had passed
        (date(2026, 10, 9), "late"),  # reported at 18:00, after 17:00
        (date(2026, 10, 16), "open"),
    ]
    assert tally(found) == tally(found[:-1])
    t = tally(found)
    assert (t.due, t.on_time, t.late, t.missed) == (4, 1, 2, 1)
    on_the_12th = duties(
        FRIDAY, time(17, 0), history(steps(), STATES, "progress", local(2026, 10, 12)), local(2026, 10, 12), CAL, TZ
    )
    assert [d.status for d in on_the_12th][-2:] == ["missed", "open"]  # 10-09: none yet on the as-of date


def test_a_past_date_replays_what_was_known_then() -> None:
    h_all = steps(report(9, 10), report(9, 21))
    early = duties(
        FRIDAY, time(17, 0), history(h_all, STATES, "progress", local(2026, 9, 19)), local(2026, 9, 19), CAL, TZ
    )
    assert [d.status for d in early] == ["on_time", "missed", "open"]  # the 18th: not yet reported on the 19th
    later = duties(
        FRIDAY, time(17, 0), history(h_all, STATES, "progress", local(2026, 9, 22)), local(2026, 9, 22), CAL, TZ
    )
    assert [d.status for d in later] == ["on_time", "late", "open"]


def test_no_duty_while_a_report_cannot_be_made() -> None:
    h = history(
        steps(
            report(9, 10),
            Step(local(2026, 9, 14), "suspend", "suspended", 1),
            Step(local(2026, 10, 12), "resume", "in_progress", 1),
            Step(local(2026, 10, 20), "submit", "submitted", 1),
        ),
        STATES,
        "progress",
        local(2026, 11, 30),
    )
    found = duties(FRIDAY, time(17, 0), h, local(2026, 11, 30), CAL, TZ)
    assert [(d.day, d.status) for d in found] == [(date(2026, 9, 11), "on_time"), (date(2026, 10, 16), "missed")]


def test_duties_name_the_unit_in_charge_on_the_due_day() -> None:
    h = history(steps(Step(local(2026, 9, 14), "transfer", "in_progress", 2)), STATES, "progress", local(2026, 9, 30))
    found = duties(FRIDAY, time(17, 0), h, local(2026, 9, 30), CAL, TZ)
    assert [(d.day, d.unit) for d in found[:2]] == [(date(2026, 9, 11), 1), (date(2026, 9, 18), 2)]


# --- what the sweep sends ------------------------------------------------------------------------------

POLICY = ReportingPolicy(
    every=FRIDAY,
    remind_before_working_days=(1, 0),
    escalation=(Escalation(1, 1, ("unit_head",)), Escalation(2, 3, ("lead_leader",))),
)


def actions_at(now: datetime, *reports: Step) -> list[tuple[str, int, date]]:
    h = history(steps(*reports), STATES, "progress", now)
    found = duties(FRIDAY, POLICY.due_at, h, now, CAL, TZ)
    return [(a.rule, a.level, a.day) for a in duty_actions(POLICY, found, h.reports, now, CAL, TZ)]


def test_reminders_before_the_due_day_and_escalation_after_a_missed_one() -> None:
    assert actions_at(local(2026, 9, 9)) == []
    assert actions_at(local(2026, 9, 10)) == [("report_remind", 1, date(2026, 9, 11))]
    assert actions_at(local(2026, 9, 11)) == [("report_remind", 0, date(2026, 9, 11))]
    assert actions_at(local(2026, 9, 11), report(9, 9)) == []  # already reported: nobody is reminded
    assert actions_at(local(2026, 9, 14)) == [("report_escalate", 1, date(2026, 9, 11))]
    assert actions_at(local(2026, 9, 16)) == [("report_escalate", 2, date(2026, 9, 11))]  # only the level reached
    assert actions_at(local(2026, 9, 16), report(9, 15)) == []  # a late report stops the ladder
