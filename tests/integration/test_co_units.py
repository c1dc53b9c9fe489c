"""Lead unit and co-units (牵头/配合), on SQLite and PostgreSQL.

Each co-unit signs for its part and reports on it; the lead unit submits only when every co-unit has
reported or the lead leader waived it with a reason; the steps are events naming both units, told to the
right people, shown by show/list, chased when late and counted apart in the circular, as of a day.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.errors import CoUnitPartDone, CoUnitsPending, DefinitionError, NotACoUnit, NotPermitted
from duban.engine.domain.workflow import parse_workflow
from duban.engine.services.audit import verify
from duban.engine.services.co_units import co_unit_step
from duban.engine.services.inbox import inbox
from duban.engine.services.ledger_export import ExportFilter, export_ledger
from duban.engine.services.queries import TaskFilter, list_page, show_task
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, ROOT, UNIT_HEAD
from tests.helpers import check_history, new_task, snapshot

TZ = ZoneInfo("Asia/Shanghai")
RECTIFICATION = (ROOT / "workflows" / "rectification.yaml").read_text(encoding="utf-8")
SUNSHINE, SUNSHINE_HEAD = "阳光社区党支部", "liuxia"
PEACE, PEACE_HEAD = "和平社区党支部", "xuming"


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ)


def recipients(app: App, code: str) -> list[tuple[str, str]]:
    with app.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT n.rule, n.recipient_id FROM notifications n JOIN tasks t ON t.id = n.task_id "
                "WHERE t.code = :c ORDER BY n.id"
            ),
            {"c": code},
        )
        return [(r[0], r[1]) for r in rows]


def test_the_policy_and_the_steps_are_validated_naming_file_and_key() -> None:
    bad = RECTIFICATION.replace("sign_for_working_days: 2", "sign_for_working_days: 0")
    with pytest.raises(DefinitionError) as info:
        parse_workflow(bad, "my.yaml")
    assert "my.yaml" in str(info.value) and "deadlines.co_units.sign_for_working_days" in str(info.value)
    who = RECTIFICATION.replace("late_notify: [co_unit_head, unit_head]", "late_notify: [co_boss]")
    with pytest.raises(DefinitionError) as info:
        parse_workflow(who, "my.yaml")
    assert "deadlines.co_units.late_notify" in str(info.value) and "co_boss" in str(info.value)
    typo = RECTIFICATION.replace("report_within_working_days: 10", "report_within_working_day: 10")
    with pytest.raises(DefinitionError) as info:
        parse_workflow(typo, "my.yaml")
    assert "deadlines.co_units.report_within_working_day" in str(info.value)
    stray = RECTIFICATION.replace(
        "requires: [progress_report, co_units_settled, sub_tasks_done]", "requires: [co_unit_data]"
    )
    with pytest.raises(DefinitionError) as info:
        parse_workflow(stray, "my.yaml")
    assert "requires" in str(info.value) and "co_unit_data" in str(info.value)


def test_the_lead_submits_only_when_every_co_unit_reported_or_was_waived(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(2026, 9, 7, 9))  # Monday
    code = new_task(app, co_units=[SUNSHINE, PEACE], deadline=date(2026, 10, 30))
    d = show_task(app, code)
    parts = {p.unit: p for p in d.co_parts}
    assert set(parts) == {SUNSHINE, PEACE}
    # signs for within 2 working days; reports 3 working days before the lead's deadline (Tue 2026-10-27)
    assert parts[SUNSHINE].sign_by == date(2026, 9, 9) and parts[SUNSHINE].report_by == date(2026, 10, 27)
    # the co-units' heads hear of the assignment
    heard = {r for _rule, r in recipients(app, code)}
    assert {SUNSHINE_HEAD, PEACE_HEAD, UNIT_HEAD} <= heard
    # a co-unit sees the task in its list, with the co-units named
    page = list_page(app, TaskFilter(visible_to=SUNSHINE_HEAD))
    assert [(r.code, set(r.co_units)) for r in page.rows] == [(code, {SUNSHINE, PEACE})]
    # … and in its inbox, with the steps its part waits for
    todo = {i.task.code: i.steps for i in inbox(app, SUNSHINE_HEAD).todo}
    assert set(todo[code]) == {"co_sign", "co_report"}

    fire(app, UNIT_HEAD, code, "start")
    report_progress(app, UNIT_HEAD, code, ProgressInput(100, "已完成"))
    before = snapshot(app)
    with pytest.raises(CoUnitsPending) as info:
        fire(app, UNIT_HEAD, code, "submit")
    assert SUNSHINE in info.value.render("zh") and PEACE in info.value.render("en")
    assert "\n" not in info.value.render("zh")
    assert snapshot(app) == before  # nothing written

    # only a co-unit signs for and reports on its part; the lead unit cannot do it for them
    with pytest.raises(NotPermitted):
        co_unit_step(app, UNIT_HEAD, code, "report", SUNSHINE, "代为报送")
    clock.set(at(2026, 9, 8))
    co_unit_step(app, SUNSHINE_HEAD, code, "sign", None, None)
    with pytest.raises(CoUnitPartDone):
        co_unit_step(app, SUNSHINE_HEAD, code, "sign", None, None)
    co_unit_step(app, SUNSHINE_HEAD, code, "report", None, "已排查辖区路灯并报送清单")
    with pytest.raises(CoUnitsPending) as info:
        fire(app, UNIT_HEAD, code, "submit")
    assert PEACE in info.value.render("zh") and SUNSHINE not in info.value.render("zh")

    # waiving takes the lead leader, and a reason
    with pytest.raises(NotPermitted):
        co_unit_step(app, UNIT_HEAD, code, "waive", PEACE, "不需要")
    with pytest.raises(NotPermitted):
        co_unit_step(app, PRINCIPAL, code, "waive", PEACE, "不需要")  # a leader, but not this task's lead leader
    with pytest.raises(Exception) as no_reason:
        co_unit_step(app, DEPUTY, code, "waive", PEACE, None)
    assert "理由" in no_reason.value.render("zh")  # type: ignore[attr-defined]
    with pytest.raises(NotACoUnit):
        co_unit_step(app, DEPUTY, code, "waive", "党建办公室", "不需要")
    co_unit_step(app, DEPUTY, code, "waive", PEACE, "该片区路灯已由供电部门统一更换")
    fire(app, UNIT_HEAD, code, "submit")
    assert code not in {i.task.code for i in inbox(app, SUNSHINE_HEAD).todo}  # its part is done

    d = show_task(app, code, viewer=DEPUTY)
    states = {p.unit: p.state for p in d.co_parts}
    assert states == {SUNSHINE: "reported", PEACE: "waived"}
    steps = [e for e in d.events if e.trigger.startswith("co_")]
    assert [e.trigger for e in steps] == ["co_sign", "co_report", "co_waive"]
    for e in steps:  # the events name both units
        assert e.data is not None and e.data["unit"] == "社会事务科" and e.data["co_unit"] in (SUNSHINE, PEACE)
    assert steps[-1].comment == "该片区路灯已由供电部门统一更换"
    # the lead unit hears of the co-unit's report; the waived co-unit hears of the waiver
    heard = recipients(app, code)
    assert ("event", PEACE_HEAD) in heard[-6:]
    check_history(app)
    assert verify(app).ok


def test_late_parts_are_chased_once_and_shown_apart_in_the_circular_as_of_a_day(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(2026, 9, 7, 9))
    code = new_task(app, co_units=[SUNSHINE, PEACE], deadline=date(2026, 9, 25))  # report by Mon 2026-09-21
    fire(app, UNIT_HEAD, code, "start")
    clock.set(at(2026, 9, 8))
    co_unit_step(app, PEACE_HEAD, code, "report", None, "已完成")
    clock.set(at(2026, 9, 10, 9))  # Thursday: 阳光 has not signed for (due Wednesday)
    sweep(app)
    late_sign = [r for rule, r in recipients(app, code) if rule == "co_unit_late"]
    assert SUNSHINE_HEAD in late_sign and PEACE_HEAD not in late_sign
    sweep(app)
    assert [r for rule, r in recipients(app, code) if rule == "co_unit_late"] == late_sign  # once
    clock.set(at(2026, 9, 24, 9))  # Thursday after the report-by day
    sweep(app)
    late = [r for rule, r in recipients(app, code) if rule == "co_unit_late"]
    assert len(late) > len(late_sign)

    report = build_report(app, ReportRequest(as_of=date(2026, 9, 24)))
    assert [(p.code, p.co_unit, p.unit) for p in report.co_unit_parts] == [(code, SUNSHINE, "社会事务科")]
    assert report.co_unit_parts[0].days_late == 3 and report.co_unit_parts[0].reported_on is None
    # the task counts for the lead unit alone
    assert [u.unit for u in report.units] == ["社会事务科"]
    clock.set(at(2026, 9, 28))
    co_unit_step(app, SUNSHINE_HEAD, code, "report", None, "迟报")
    # a circular for the past day reads the same after the late report; today's shows it reported late
    again = build_report(app, ReportRequest(as_of=date(2026, 9, 24)))
    assert again.co_unit_parts == report.co_unit_parts
    now = build_report(app, ReportRequest(as_of=date(2026, 9, 28)))
    assert (
        now.co_unit_parts[0].reported_on == date(2026, 9, 28) and now.co_unit_parts[0].days_late == 4
    )  # 2026-09-25 is the Mid-Autumn holiday


def test_the_export_gives_each_part_as_of_its_day(app: App, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(2026, 9, 7, 9))
    code = new_task(app, co_units=[SUNSHINE, PEACE], deadline=date(2026, 10, 30))
    clock.set(at(2026, 9, 8))
    co_unit_step(app, SUNSHINE_HEAD, code, "sign", None, None)
    clock.set(at(2026, 9, 9))
    co_unit_step(app, SUNSHINE_HEAD, code, "report", None, "已配合")

    def parts(as_of: date | None) -> str:
        out = tmp_path / f"{as_of}.csv"
        export_ledger(app, out, ExportFilter(as_of=as_of))
        with out.open(encoding="utf-8-sig") as fh:
            return {r["编号"]: r for r in csv.DictReader(fh)}[code]["配合情况"]

    assert parts(None) == f"{PEACE}：待签收；{SUNSHINE}：已报送"
    assert parts(date(2026, 9, 8)) == f"{PEACE}：待签收；{SUNSHINE}：已签收"
    assert parts(date(2026, 9, 7)) == f"{PEACE}：待签收；{SUNSHINE}：待签收"


def test_the_command_line_assigns_with_co_units_and_refuses_bad_input_in_one_line(call, db_url: str) -> None:  # type: ignore[no-untyped-def]
    made = call(
        "--db", db_url, "--as", PRINCIPAL, "assign", "--title", "路灯", "--unit", "社会事务科", "--leader", DEPUTY,
        "--deadline", "年底前", "--co-unit", SUNSHINE, "--co-unit", PEACE, "--json",
    )  # fmt: skip
    code = made.json()["code"]
    shown = call("--db", db_url, "show", code, "--json").json()
    assert sorted(shown["co_units"]) == sorted([SUNSHINE, PEACE])
    assert {p["unit"]: p["state"] for p in shown["co_unit_parts"]} == {SUNSHINE: "assigned", PEACE: "assigned"}
    assert set(shown["co_unit_parts"][0]) == {
        "unit", "state", "sign_by", "report_by", "signed_on", "settled_on", "days_late",
    }  # fmt: skip
    assert sorted(call("--db", db_url, "list", "--json").json()[0]["co_units"]) == sorted([SUNSHINE, PEACE])
    assert "配合单位" in call("--db", db_url, "--lang", "zh", "list").out
    assert "已交办" in call("--db", db_url, "--lang", "zh", "show", code).out

    def refused(*args: str, lang: str = "zh") -> tuple[int, str]:
        r = call("--db", db_url, "--lang", lang, *args)
        assert r.code != 0 and "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1, r.err
        return r.code, r.err

    status, err = refused("--as", DEPUTY, "co-unit", "waive", code, "-m", "无需")
    assert status == 2 and "--unit" in err
    status, err = refused("--as", DEPUTY, "co-unit", "waive", code, "--unit", PEACE)
    assert status == 5 and "理由" in err
    status, err = refused("--as", SUNSHINE_HEAD, "co-unit", "report", code)
    assert status == 2 and "配合" in err
    assert call("--db", db_url, "--as", PEACE_HEAD, "co-unit", "report", code, "-m", "已配合", "--json").code == 0
    status, err = refused("--as", DEPUTY, "co-unit", "waive", code, "--unit", "党建办公室", "-m", "无需")
    assert status == 5 and "不是任务" in err
    status, err = refused("--as", DEPUTY, "co-unit", "waive", code, "--unit", PEACE, "-m", "无需", lang="en")
    assert status == 5 and "already reported" in err
    call("--db", db_url, "--as", UNIT_HEAD, "start", code)
    call("--db", db_url, "--as", UNIT_HEAD, "progress", code, "--percent", "100", "--note", "完成")
    status, err = refused("--as", UNIT_HEAD, "submit", code)
    assert status == 5 and SUNSHINE in err and PEACE not in err
