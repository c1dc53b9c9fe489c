"""The supervision chain as offices run it (issue 15), on SQLite and PostgreSQL.

Sign-for time limits (签收时限), where a task comes from (立项), returning and reassigning (退办/转办) and
suspension (挂起): each declared in YAML and refused there with the file and the key, enforced by the
engine, chased by the sweep, bound to the chain, shown by list/show/export and the circular, as of a day.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from engine.app import App
from engine.domain.errors import DefinitionError
from engine.domain.workflow import parse_workflow
from engine.services.audit import verify
from engine.services.ledger import ExportFilter, export_ledger
from engine.services.queries import TaskFilter, list_tasks, show_task
from engine.services.report import ReportRequest, build_report
from engine.services.sweep import sweep
from engine.services.tasks import fire

from .conftest import DEPUTY, PRINCIPAL, ROOT, SUPERVISOR, UNIT_HEAD
from .helpers import check_history, new_task

TZ = ZoneInfo("Asia/Shanghai")
RECTIFICATION = (ROOT / "workflows" / "rectification.yaml").read_text(encoding="utf-8")


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ)


def notices(app: App, rules: tuple[str, ...]) -> list[tuple[str, int, str]]:
    marks = ", ".join(f"'{r}'" for r in rules)
    with app.db.engine.connect() as conn:
        found = conn.execute(
            text(f"SELECT rule, level, recipient_id FROM notifications WHERE rule IN ({marks}) ORDER BY id")
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


def refused(source: str, yaml_text: str) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_workflow(yaml_text, source)
    return str(info.value)


# --- 2. sign-for time limit (签收时限) -------------------------------------------------------------------


def test_sign_for_policy_is_validated_naming_file_and_key() -> None:
    no_column = RECTIFICATION.replace("report: not_started", "report: in_progress")
    message = refused("my.yaml", no_column)
    assert "my.yaml" in message and "deadlines.sign_for" in message and "not_started" in message
    zero = RECTIFICATION.replace("within_working_days: 2", "within_working_days: 0")
    assert "deadlines.sign_for.within_working_days" in refused("my.yaml", zero)
    early = RECTIFICATION.replace(
        "before_working_days: [0]\n      notify: [unit_head, responsible_person]\n    escalate",
        "before_working_days: [5]\n      notify: [unit_head, responsible_person]\n    escalate",
    )
    assert "deadlines.sign_for.remind.before_working_days" in refused("my.yaml", early)
    unknown = RECTIFICATION.replace("within_working_days: 2", "within_working_days: 2\n    whithin: 3")
    assert "deadlines.sign_for.whithin" in refused("my.yaml", unknown)
    bad_level = RECTIFICATION.replace(
        "- {level: 2, after_working_days: 3, notify: [supervisors, lead_leader]}",
        "- {level: 2, after_working_days: 1, notify: [supervisors, lead_leader]}",
    )
    assert "deadlines.sign_for.escalate[1].after_working_days" in refused("my.yaml", bad_level)
    who = RECTIFICATION.replace("notify: [unit_head, parent_unit_head]", "notify: [unit_boss]")
    assert "deadlines.sign_for.escalate[0].notify" in refused("my.yaml", who)


def test_an_unsigned_task_is_reminded_and_escalated_on_its_own_ladder(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    code = new_task(app, deadline=date(2026, 12, 31))  # assigned Monday 2026-09-07: sign for by Wednesday
    assert show_task(app, code).summary.sign_by == date(2026, 9, 9)
    plan = [
        (at(2026, 9, 8), []),
        (at(2026, 9, 9), [("sign_remind", 0)]),
        (at(2026, 9, 9, 11), [("sign_remind", 0)]),  # again: nothing new
        (at(2026, 9, 10), [("sign_remind", 0), ("sign_escalate", 1)]),
        (at(2026, 9, 14), [("sign_remind", 0), ("sign_escalate", 1), ("sign_escalate", 2)]),
    ]
    rules = ("sign_remind", "sign_escalate")
    for now, expected in plan:
        clock.set(now)
        sweep(app)
        sweep(app)
        assert sorted({(r[0], r[1]) for r in notices(app, rules)}) == sorted(expected), now
    told = {(r[0], r[1]): set() for r in notices(app, rules)}
    for rule, level, who in notices(app, rules):
        told[(rule, level)].add(who)
    assert told[("sign_escalate", 1)] == {UNIT_HEAD, PRINCIPAL}  # the unit head, and the head of its parent unit
    assert SUPERVISOR in told[("sign_escalate", 2)] and DEPUTY in told[("sign_escalate", 2)]
    assert notices(app, ("remind", "escalate")) == []  # the deadline's own ladder is months away
    summary = list_tasks(app, TaskFilter())[0]
    assert summary.sign_late and summary.signed_at is None
    fire(app, UNIT_HEAD, code, "start")  # 签收, late
    before = len(notices(app, rules))
    clock.set(at(2026, 9, 30))
    sweep(app)
    assert len(notices(app, rules)) == before  # signed for: its ladder stops
    shown = show_task(app, code).summary
    assert shown.signed_at == at(2026, 9, 14) and not shown.sign_late
    assert verify(app).ok
    check_history(app)


def test_sign_for_time_is_recorded_once_and_not_by_cancelling(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    signed = new_task(app)
    cancelled = new_task(app)
    clock.set(at(2026, 9, 8, 15))
    fire(app, UNIT_HEAD, signed, "start")
    fire(app, PRINCIPAL, cancelled, "cancel", comment="重复交办")
    assert show_task(app, signed).summary.signed_at == at(2026, 9, 8, 15)
    assert show_task(app, cancelled).summary.signed_at is None
    assert show_task(app, cancelled).summary.sign_late is False


def test_sign_for_in_show_list_export_and_the_circular_as_of(app: App, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, second = new_task(app), new_task(app)
    clock.set(at(2026, 9, 10))
    fire(app, UNIT_HEAD, first, "start")
    clock.set(at(2026, 9, 20))
    # the circular of 9 September: both not yet signed for; of today: one
    past = build_report(app, ReportRequest(period="week", as_of=date(2026, 9, 9)))
    assert past.totals.not_started == 2
    now = build_report(app, ReportRequest(period="week"))
    assert now.totals.not_started == 1
    rows = {}
    out = tmp_path / "ledger.csv"
    export_ledger(app, out, ExportFilter(as_of=date(2026, 9, 9)))
    with out.open(encoding="utf-8-sig") as fh:
        rows = {r["编号"]: r for r in csv.DictReader(fh)}
    assert rows[first]["签收时限"] == "2026-09-09" and rows[first]["签收时间"] == ""  # signed later
    export_ledger(app, out, ExportFilter())
    with out.open(encoding="utf-8-sig") as fh:
        rows = {r["编号"]: r for r in csv.DictReader(fh)}
    assert rows[first]["签收时间"] == "2026-09-10 10:00" and rows[second]["签收时间"] == ""


def test_sign_for_through_the_command_line(call, db_url: str) -> None:  # type: ignore[no-untyped-def]
    made = call(
        "--db",
        db_url,
        "--as",
        PRINCIPAL,
        "assign",
        "--title",
        "路灯",
        "--unit",
        "社会事务科",
        "--leader",
        DEPUTY,
        "--deadline",
        "年底前",
        "--json",
    )
    code = made.json()["code"]
    shown = call("--db", db_url, "show", code, "--json").json()
    assert (shown["sign_by"], shown["signed_at"], shown["sign_late"]) == ("2026-09-09", None, False)
    assert call("--db", db_url, "--as", UNIT_HEAD, "start", code).code == 0
    listed = call("--db", db_url, "list", "--json").json()
    assert listed[0]["signed_at"].startswith("2026-09-07T09:00")
    text_out = call("--db", db_url, "--lang", "zh", "show", code).out
    assert "签收时限" in text_out and "2026-09-09" in text_out and "签收时间" in text_out
