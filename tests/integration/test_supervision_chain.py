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

from duban.engine.app import App
from duban.engine.domain.errors import DefinitionError
from duban.engine.domain.workflow import parse_workflow
from duban.engine.services.audit import verify
from duban.engine.services.ledger_export import ExportFilter, export_ledger
from duban.engine.services.queries import TaskFilter, list_tasks, show_task
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, ROOT, SUPERVISOR, UNIT_HEAD
from tests.helpers import check_history, new_task, snapshot

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


# --- 1. where a task comes from (立项) ---------------------------------------------------------------------


def test_sources_are_validated_naming_file_and_key() -> None:
    twice = RECTIFICATION.replace("  - {name: 群众反映, en: public complaint}", "  - {name: 审计发现}")
    assert "sources[6].name" in refused("w.yaml", twice) and "twice" in refused("w.yaml", twice)
    two = RECTIFICATION.replace("{name: 会议决定, en: meeting decision}", "{name: 会议决定, instruction: true}")
    assert "sources[4].instruction" in refused("w.yaml", two)
    odd = RECTIFICATION.replace("{name: 会议决定, en: meeting decision}", "{name: 会议决定, colour: red}")
    assert "w.yaml" in refused("w.yaml", odd) and "sources[4].colour" in refused("w.yaml", odd)
    assert "sources" in refused("w.yaml", RECTIFICATION.replace("sources:\n", "sources: 巡视\nunused:\n"))


def test_a_task_cites_its_source_and_bad_sources_write_nothing(app: App) -> None:
    from duban.engine.domain.errors import InvalidInput

    code = new_task(app, source="巡视巡察反馈", source_ref="县委巡察反馈意见 第3条", source_date=date(2026, 9, 1))
    s = show_task(app, code).summary
    assert (s.source, s.source_ref, s.source_date, s.instruction) == (
        "巡视巡察反馈",
        "县委巡察反馈意见 第3条",
        date(2026, 9, 1),
        None,
    )
    before = snapshot(app)
    for bad in (
        {"source": "小道消息"},  # not in the workflow's list
        {"source_ref": "第3条"},  # a reference without its source
        {"source": "审计发现", "source_date": date(2026, 12, 1)},  # after today
    ):
        with pytest.raises(InvalidInput):
            new_task(app, **bad)
    assert snapshot(app) == before
    assert verify(app).ok


def test_a_leaders_instruction_is_registered_first_and_tasks_point_back(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.domain.errors import InvalidInput, NotPermitted, UnknownInstruction
    from duban.engine.services.instructions import list_instructions, register_instruction, show_instruction

    code = register_instruction(
        app,
        SUPERVISOR,
        leader="张伟",
        text="路灯问题要抓紧解决",
        ref="县委办批件〔2026〕12号",
        issued_on=date(2026, 9, 4),
    )
    assert code == "PS-2026-0001"
    first = new_task(app, instruction=code, title="东区路灯")
    second = new_task(app, instruction=code, title="西区路灯", source_ref="批示第2点")
    other = new_task(app, source="审计发现")
    s = show_task(app, first).summary
    assert (s.source, s.source_ref, s.source_date, s.instruction) == (
        "领导批示",
        "县委办批件〔2026〕12号",
        date(2026, 9, 4),
        code,
    )
    assert show_task(app, second).summary.source_ref == "批示第2点"
    view = show_instruction(app, code)
    assert [t.code for t in view.tasks] == [first, second] and view.row.tasks == 2 and view.row.closed == 0
    assert [t.code for t in list_tasks(app, TaskFilter(instruction=code))] == [first, second]
    assert [t.code for t in list_tasks(app, TaskFilter(source="审计发现"))] == [other]
    assert list_instructions(app)[0].leader_id == DEPUTY
    before = snapshot(app)
    with pytest.raises(NotPermitted):  # a unit head does not register leaders' instructions
        register_instruction(app, UNIT_HEAD, leader="张伟", text="x", ref=None, issued_on=date(2026, 9, 4))
    with pytest.raises(InvalidInput):  # only a leader gives one
        register_instruction(app, SUPERVISOR, leader=UNIT_HEAD, text="x", ref=None, issued_on=date(2026, 9, 4))
    with pytest.raises(InvalidInput):
        register_instruction(app, SUPERVISOR, leader="张伟", text="x", ref=None, issued_on=date(2026, 9, 30))
    with pytest.raises(UnknownInstruction):
        new_task(app, instruction="PS-2026-0099")
    with pytest.raises(InvalidInput):  # a task turned from an instruction comes from 领导批示
        new_task(app, instruction=code, source="审计发现")
    assert snapshot(app) == before
    assert verify(app).ok


def test_sources_in_the_circular_and_the_export_as_of(app: App, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audit_task = new_task(app, source="审计发现", source_ref="审计报告 第2条")
    new_task(app, source="巡视巡察反馈")
    new_task(app)
    clock.set(at(2026, 9, 20))
    fire(app, UNIT_HEAD, audit_task, "start")
    report = build_report(app, ReportRequest(period="week"))
    assert {k: v.tasks for k, v in report.by_source.items()} == {"审计发现": 1, "巡视巡察反馈": 1, "—": 1}
    past = build_report(app, ReportRequest(period="week", as_of=date(2026, 9, 8), source="审计发现"))
    assert past.totals.tasks == 1 and past.totals.not_started == 1 and past.source == "审计发现"
    assert build_report(app, ReportRequest(period="week", source="-")).totals.tasks == 1
    from duban.engine.domain.report import from_dict, to_dict

    assert from_dict(to_dict(report)).by_source == report.by_source
    out = tmp_path / "ledger.csv"
    export_ledger(app, out, ExportFilter(source="审计发现", as_of=date(2026, 9, 8)))
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["编号"], r["问题来源"], r["来源文号"]) for r in rows] == [(audit_task, "审计发现", "审计报告 第2条")]


def test_the_ledger_brings_its_sources_in(app: App, tmp_path: Path) -> None:
    from duban.engine.ledger.rows import LedgerInvalid
    from duban.engine.services.ledger_import import ImportOptions, import_ledger

    good = tmp_path / "台账.csv"
    good.write_text(
        "序号,存在问题,责任单位,牵头领导,完成时限,问题来源,来源文号,来源日期\n"
        "1,路灯损坏,社会事务科,张伟,2026-12-31,巡视巡察反馈,县委巡察反馈意见 第3条,2026-08-30\n"
        "2,台账不全,社会事务科,张伟,2026-12-31,,,\n",
        encoding="utf-8",
    )
    result = import_ledger(app, PRINCIPAL, good, ImportOptions(campaign="2026年主题教育整改"))
    assert result.imported == 2
    cited = list_tasks(app, TaskFilter(source="巡视巡察反馈"))
    assert [(t.source_ref, t.source_date) for t in cited] == [("县委巡察反馈意见 第3条", date(2026, 8, 30))]
    assert len(list_tasks(app, TaskFilter(source="-"))) == 1
    assert verify(app).ok
    bad = tmp_path / "坏.csv"
    bad.write_text(
        "序号,存在问题,责任单位,牵头领导,完成时限,问题来源\n1,井盖缺失,社会事务科,张伟,2026-12-31,道听途说\n",
        encoding="utf-8",
    )
    before = snapshot(app)
    with pytest.raises(LedgerInvalid) as info:
        import_ledger(app, PRINCIPAL, bad, ImportOptions(campaign="2026年主题教育整改"))
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "问题来源")]
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE tasks SET source = '群众反映' WHERE source IS NOT NULL", "title or content"),
        ("UPDATE tasks SET instruction = NULL", "title or content"),
        ("UPDATE instructions SET text = '不用管'", "instruction 'PS-2026-0001' differs from its record in text"),
        ("DELETE FROM instructions", "instruction 'PS-2026-0001' is on record but missing"),
    ],
)
def test_audit_verify_names_sources_and_instructions_edited(app: App, statement: str, named: str) -> None:
    from duban.engine.services.instructions import register_instruction
    from tests.integration.test_audit import tampering

    code = register_instruction(app, DEPUTY, leader="张伟", text="抓紧", ref=None, issued_on=date(2026, 9, 4))
    new_task(app, instruction=code)
    assert verify(app).ok
    with tampering(app) as conn:
        if statement.startswith("DELETE"):
            conn.execute(text("UPDATE tasks SET instruction = NULL"))  # type: ignore[attr-defined]
        conn.execute(text(statement))  # type: ignore[attr-defined]
    found = [b.what for b in verify(app).breaks]
    assert any(named in w for w in found), found


def test_sources_through_the_command_line(call, db_url: str) -> None:  # type: ignore[no-untyped-def]
    made = call(
        "--db",
        db_url,
        "--as",
        SUPERVISOR,
        "instruction",
        "add",
        "--leader",
        "张伟",
        "--text",
        "抓紧",
        "--date",
        "2026-09-04",
        "--ref",
        "批件12号",
        "--json",
    )
    assert made.code == 0, made.err
    ps = made.json()["code"]
    code = call(
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
        "--instruction",
        ps,
        "--json",
    ).json()["code"]
    shown = call("--db", db_url, "instruction", "show", ps, "--json").json()
    assert shown["tasks"][0]["code"] == code and shown["ref"] == "批件12号" and shown["tasks"] and shown["closed"] == 0
    assert call("--db", db_url, "list", "--source", "领导批示", "--json").json()[0]["instruction"] == ps
    bad = call(
        "--db",
        db_url,
        "--lang",
        "zh",
        "--as",
        PRINCIPAL,
        "assign",
        "--title",
        "x",
        "--unit",
        "社会事务科",
        "--leader",
        DEPUTY,
        "--source",
        "小道消息",
    )
    assert bad.code == 2 and bad.err.count("\n") == 1 and "小道消息" in bad.err and "问题来源" in bad.err
    assert call("--db", db_url, "instruction", "show", "PS-2026-0042").code == 3
    report = call("--db", db_url, "report", "--source", "领导批示", "--json").json()
    assert report["scope"]["source"] == "领导批示" and report["by_source"]["领导批示"]["tasks"] == 1


# --- 5. return and transfer (退办/转办) -------------------------------------------------------------------

OTHER = "督查室"  # another unit of examples/org.yaml; its head is the supervisor huangtao


def unit_of(app: App, code: str) -> str:
    return show_task(app, code).summary.unit


def test_transfer_policy_is_validated() -> None:
    bad = RECTIFICATION.replace("  transfer:\n    clock: restart", "  transfer:\n    clock: sometimes")
    assert "deadlines.transfer.clock" in refused("w.yaml", bad)
    odd = RECTIFICATION.replace("  transfer:\n    clock: restart", "  transfer:\n    clocks: keep")
    assert "deadlines.transfer" in refused("w.yaml", odd)


def test_a_unit_returns_a_task_and_the_leader_reassigns_it(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.services.transfers import reassign, return_task

    code = new_task(app, deadline=date(2026, 10, 9))  # assigned Monday 7 September
    clock.set(at(2026, 9, 8))
    before = len(notices(app, ("event",)))
    return_task(app, UNIT_HEAD, code, "属住建部门职责")
    told = notices(app, ("event",))[before:]
    assert {who for _r, _l, who in told} == {DEPUTY}  # the lead leader hears of it
    assert show_task(app, code).summary.state == "returned"
    clock.set(at(2026, 9, 10))
    reassign(app, DEPUTY, code, OTHER, "改由督查室牵头")
    s = show_task(app, code).summary
    assert (s.unit, s.state, s.original_deadline, s.signed_at) == (OTHER, "assigned", date(2026, 10, 9), None)
    allowance = app.calendar.working_days_between(date(2026, 9, 7), date(2026, 10, 9))  # the National Day week too
    assert s.deadline == app.calendar.add_working_days(date(2026, 9, 10), allowance)  # restart: its first allowance
    assert s.sign_by == date(2026, 9, 14)  # the new unit signs for it within two working days
    events = show_task(app, code).events
    assert events[-2].data["unit"] == "社会事务科" and events[-2].data["to_leader"] == DEPUTY
    assert (events[-1].data["from_unit"], events[-1].data["to_unit"]) == ("社会事务科", OTHER)
    assert notices(app, ("event",))[-1][2] == SUPERVISOR  # the new unit's head is told
    fire(app, SUPERVISOR, code, "start")  # the new unit signs for it
    assert verify(app).ok
    check_history(app)


def test_bad_returns_and_reassignments_write_nothing(app: App) -> None:
    from duban.engine.domain.errors import InvalidInput, InvalidTransition, NotPermitted, ReasonRequired
    from duban.engine.services.transfers import insist, reassign, return_task

    code = new_task(app)
    started = new_task(app)
    fire(app, UNIT_HEAD, started, "start")
    before = snapshot(app)
    with pytest.raises(ReasonRequired):
        return_task(app, UNIT_HEAD, code, None)
    with pytest.raises(NotPermitted):  # another unit cannot return it
        return_task(app, SUPERVISOR, code, "不是我们的")
    with pytest.raises(InvalidTransition):  # signed for: too late to return
        return_task(app, UNIT_HEAD, started, "不是我们的")
    assert snapshot(app) == before
    return_task(app, UNIT_HEAD, code, "不是我们的")
    before = snapshot(app)
    with pytest.raises(InvalidTransition):  # returning twice
        return_task(app, UNIT_HEAD, code, "再退一次")
    with pytest.raises(InvalidInput):  # a reassignment goes to another unit
        reassign(app, DEPUTY, code, "社会事务科", None)
    with pytest.raises(NotPermitted):  # only the lead leader reassigns
        reassign(app, PRINCIPAL, code, OTHER, None)
    assert snapshot(app) == before
    insist(app, DEPUTY, code, "职责清单第5条")
    assert show_task(app, code).summary.unit == "社会事务科"
    before = snapshot(app)
    with pytest.raises(InvalidInput) as info:  # after the leader insisted, the unit does it
        return_task(app, UNIT_HEAD, code, "还是不是我们的")
    assert "insisted" in info.value.render("en")
    assert snapshot(app) == before


def test_a_transfer_needs_the_lead_leaders_consent(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.domain.errors import InvalidInput, NotPermitted
    from duban.engine.services.transfers import decide_transfer, propose_transfer

    code = new_task(app)
    fire(app, UNIT_HEAD, code, "start")
    before = snapshot(app)
    with pytest.raises(InvalidInput):  # nothing proposed yet
        decide_transfer(app, DEPUTY, code, True, None)
    with pytest.raises(NotPermitted):  # a unit does not propose its own transfer
        propose_transfer(app, UNIT_HEAD, code, OTHER, "想转走")
    assert snapshot(app) == before
    propose_transfer(app, SUPERVISOR, code, OTHER, "职能调整")
    assert unit_of(app, code) == "社会事务科"
    with pytest.raises(InvalidInput):  # one proposal at a time
        propose_transfer(app, SUPERVISOR, code, OTHER, "再提一次")
    with pytest.raises(NotPermitted):  # consent is the lead leader's
        decide_transfer(app, PRINCIPAL, code, True, None)
    decide_transfer(app, DEPUTY, code, False, "暂不调整")
    assert unit_of(app, code) == "社会事务科"
    clock.set(at(2026, 9, 21))
    propose_transfer(app, SUPERVISOR, code, OTHER, "职能已调整")
    decide_transfer(app, DEPUTY, code, True, "同意")
    s = show_task(app, code).summary
    assert (s.unit, s.state, s.signed_at) == (OTHER, "assigned", None)  # the new unit signs for it afresh
    last = show_task(app, code).events[-1]
    assert (last.trigger, last.data["from_unit"], last.data["to_unit"]) == ("transfer", "社会事务科", OTHER)
    assert verify(app).ok
    check_history(app)


def test_the_lead_leaders_inbox_lists_the_transfers_and_suspensions_waiting_for_them(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    """A supervisor's 转办 proposal and a unit's 挂起 request wait for the lead leader, as extension requests do:
    listed in their inbox (oldest first) until decided, or until the task moves on; nobody else's."""
    from duban.engine.services.inbox import inbox
    from duban.engine.services.transfers import decide_transfer, propose_transfer

    moved, halted, left = new_task(app, title="转办"), new_task(app, title="挂起"), new_task(app, title="无申请")
    led_by_other = new_task(app, title="他人分管", leader=PRINCIPAL)
    for code in (moved, halted, left, led_by_other):
        fire(app, UNIT_HEAD, code, "start")
    assert inbox(app, DEPUTY).decisions == []
    propose_transfer(app, SUPERVISOR, moved, OTHER, "职能调整")
    clock.set(at(2026, 9, 9))
    fire(app, UNIT_HEAD, halted, "ask_suspension", comment="等待住建局审批")
    propose_transfer(app, SUPERVISOR, led_by_other, OTHER, "另一位领导决定")
    waiting = inbox(app, DEPUTY).decisions
    assert [(d.code, d.kind, d.to_unit, d.reason) for d in waiting] == [
        (moved, "transfer", OTHER, "职能调整"),
        (halted, "suspension", None, "等待住建局审批"),
    ]
    assert [d.code for d in inbox(app, PRINCIPAL).decisions] == [led_by_other]
    assert [d.code for d in inbox(app, "zhouqiang").decisions] == [moved, halted, led_by_other]  # the admin: all
    assert inbox(app, UNIT_HEAD).decisions == [] and inbox(app, SUPERVISOR).decisions == []
    decide_transfer(app, DEPUTY, moved, False, "暂不调整")
    fire(app, DEPUTY, halted, "suspend", comment="同意挂起")
    assert inbox(app, DEPUTY).decisions == []
    propose_transfer(app, SUPERVISOR, moved, OTHER, "再次提请")  # a new proposal after the decline waits again
    fire(app, DEPUTY, halted, "resume")
    assert [(d.code, d.reason) for d in inbox(app, DEPUTY).decisions] == [(moved, "再次提请")]
    decide_transfer(app, DEPUTY, moved, True, "同意")
    assert inbox(app, DEPUTY).decisions == []


def test_a_past_circular_credits_the_unit_that_held_the_task_then(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.services.transfers import reassign, return_task

    code = new_task(app)
    clock.set(at(2026, 9, 8))
    return_task(app, UNIT_HEAD, code, "不是我们的")
    clock.set(at(2026, 9, 21))
    reassign(app, DEPUTY, code, OTHER, None)

    def units(day: date | None) -> dict[str, int]:
        report = build_report(app, ReportRequest(period="week", as_of=day))
        return {u.unit: u.counts.tasks for u in report.units}

    assert units(date(2026, 9, 14)) == {"社会事务科": 1}
    assert units(None) == {OTHER: 1}
    clock.set(at(2027, 9, 21))  # next year, the same day's circular reads the same
    assert units(date(2026, 9, 14)) == {"社会事务科": 1}


def test_audit_verify_names_an_events_unit_edited(app: App) -> None:
    from duban.engine.services.transfers import reassign, return_task
    from tests.integration.test_audit import tampering

    code = new_task(app)
    return_task(app, UNIT_HEAD, code, "不是我们的")
    reassign(app, DEPUTY, code, OTHER, None)
    assert verify(app).ok
    with tampering(app) as conn:
        conn.execute(text("UPDATE events SET unit_id = (SELECT MIN(id) FROM units) WHERE trigger = 'reassign'"))  # type: ignore[attr-defined]
    assert [b.what for b in verify(app).breaks] == ["its unit differs from the unit its row facts bind"]


def test_return_and_transfer_through_the_command_line(call, db_url: str) -> None:  # type: ignore[no-untyped-def]
    code = call(
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
    ).json()["code"]
    returned = call("--db", db_url, "--as", UNIT_HEAD, "return", code, "-m", "不是我们的", "--json").json()
    assert (returned["trigger"], returned["to"]) == ("return", "returned")
    again = call("--db", db_url, "--lang", "zh", "--as", UNIT_HEAD, "return", code, "-m", "再退")
    assert again.code == 5 and again.err.count("\n") == 1 and "已退办" in again.err
    same = call("--db", db_url, "--as", DEPUTY, "reassign", code, "--unit", "社会事务科")
    assert same.code == 2 and same.err.count("\n") == 1
    assert call("--db", db_url, "--as", DEPUTY, "reassign", code, "--unit", OTHER).code == 0
    shown = call("--db", db_url, "--lang", "zh", "show", code).out
    assert "社会事务科 → 督查室" in shown
    assert (
        call("--db", db_url, "--as", SUPERVISOR, "transfer", "propose", code, "--unit", "社会事务科", "-m", "转回").code
        == 0
    )
    assert call("--db", db_url, "--as", DEPUTY, "transfer", "consent", code).code == 0
    assert call("--db", db_url, "show", code, "--json").json()["unit"] == "社会事务科"
    assert call("--db", db_url, "--as", DEPUTY, "transfer", "decline", code, "-m", "x").code == 2


# --- 6. suspension (挂起) ---------------------------------------------------------------------------------


def test_a_suspended_task_stops_its_clock_and_resumes_with_its_deadline_moved(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.domain.errors import InvalidTransition, NotPermitted, ReasonRequired

    code = new_task(app, deadline=date(2026, 9, 30))
    fire(app, UNIT_HEAD, code, "start")
    clock.set(at(2026, 9, 9))
    fire(app, UNIT_HEAD, code, "ask_suspension", comment="等待住建局审批")
    assert notices(app, ("event",))[-1][2] == DEPUTY  # the lead leader hears the request
    before = snapshot(app)
    with pytest.raises(NotPermitted):  # the unit cannot suspend its own task
        fire(app, UNIT_HEAD, code, "suspend", comment="等待审批")
    with pytest.raises(ReasonRequired):
        fire(app, DEPUTY, code, "suspend")
    with pytest.raises(InvalidTransition):  # resuming a task not suspended
        fire(app, DEPUTY, code, "resume")
    assert snapshot(app) == before
    fire(app, DEPUTY, code, "suspend", comment="等待住建局审批")
    clock.set(at(2026, 9, 28))  # the deadline draws near while suspended: nobody is chased
    sweep(app)
    assert notices(app, ("remind", "escalate", "stale")) == []
    s = list_tasks(app, TaskFilter(states=("suspended",)))[0]
    assert s.light is None and s.days_overdue == 0
    clock.set(at(2026, 10, 12))
    fire(app, DEPUTY, code, "resume")
    waited = app.calendar.working_days_between(date(2026, 9, 9), date(2026, 10, 12))
    shown = show_task(app, code)
    assert shown.summary.original_deadline == date(2026, 9, 30)
    assert shown.summary.deadline == app.calendar.add_working_days(date(2026, 9, 30), waited)
    data = shown.events[-1].data
    assert data["suspended_working_days"] == waited and data["deadline_from"] == "2026-09-30"
    assert verify(app).ok
    check_history(app)


def test_the_circular_lists_suspended_tasks_apart_as_of_a_day(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.domain.report import from_dict, to_dict
    from duban.engine.reporting.tables import sections

    waiting, working = new_task(app), new_task(app)
    for code in (waiting, working):
        fire(app, UNIT_HEAD, code, "start")
    clock.set(at(2026, 9, 9))
    fire(app, DEPUTY, waiting, "suspend", comment="等待法院判决")
    clock.set(at(2026, 9, 21))
    fire(app, DEPUTY, waiting, "resume")
    past = build_report(app, ReportRequest(period="week", as_of=date(2026, 9, 13)))
    assert (past.totals.suspended, past.totals.in_progress) == (1, 1)
    assert [(t.code, t.since, t.reason) for t in past.suspended_tasks] == [(waiting, date(2026, 9, 9), "等待法院判决")]
    assert "suspended" in [s.key for s in sections(past, "zh")]
    assert "挂起1项" in to_dict(past, "zh")["headline"]
    assert from_dict(to_dict(past)).suspended_tasks == past.suspended_tasks
    now = build_report(app, ReportRequest(period="week"))
    assert now.totals.suspended == 0 and now.suspended_tasks == []
    assert "suspended" not in [s.key for s in sections(now, "zh")]
    clock.set(at(2027, 9, 21))  # next year, the same past circular
    again = build_report(app, ReportRequest(period="week", as_of=date(2026, 9, 13)))
    assert again.suspended_tasks == past.suspended_tasks and again.totals == past.totals


def test_suspension_through_the_command_line(call, db_url: str) -> None:  # type: ignore[no-untyped-def]
    code = call(
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
    ).json()["code"]
    call("--db", db_url, "--as", UNIT_HEAD, "start", code)
    bad = call("--db", db_url, "--lang", "zh", "--as", DEPUTY, "resume", code)
    assert bad.code == 5 and bad.err.count("\n") == 1 and "恢复办理" in bad.err
    done = call("--db", db_url, "--as", DEPUTY, "suspend", code, "-m", "等待审批", "--json").json()
    assert done["to"] == "suspended"
    assert [t["code"] for t in call("--db", db_url, "list", "--state", "suspended", "--json").json()] == [code]
    assert call("--db", db_url, "--as", DEPUTY, "resume", code, "--json").json()["to"] == "in_progress"


# --- 8. verification before closing (复核) ----------------------------------------------------------------


def test_verification_is_someone_elses_with_evidence_and_may_send_back(app: App, tmp_path: Path) -> None:
    from duban.engine.domain.errors import CommandRequired, InvalidInput, InvalidTransition, NotPermitted
    from duban.engine.services.verification import verify_task
    from tests.helpers import to_submitted

    photo = tmp_path / "现场.jpg"
    photo.write_bytes(b"\xff\xd8 on site")
    code = new_task(app)
    to_submitted(app, code)
    before = snapshot(app)
    with pytest.raises(InvalidTransition):  # only a reviewed task is verified
        verify_task(app, SUPERVISOR, code, True, "看过", on_site=True, files=())
    fire(app, DEPUTY, code, "approve")
    before = snapshot(app)
    with pytest.raises(NotPermitted):  # the unit does not verify its own work
        verify_task(app, UNIT_HEAD, code, True, "看过", on_site=True, files=())
    with pytest.raises(InvalidInput):  # what was checked must be said
        verify_task(app, SUPERVISOR, code, True, "", on_site=True, files=())
    with pytest.raises(CommandRequired):  # not through a bare step: the findings come with it
        fire(app, SUPERVISOR, code, "verify", comment="看过")
    assert snapshot(app) == before
    own = new_task(app, unit=OTHER)  # 督查室's own task: its supervisor may not verify it
    fire(app, SUPERVISOR, own, "start")
    report_progress(app, SUPERVISOR, own, ProgressInput(100, "完成"))
    fire(app, SUPERVISOR, own, "submit")
    fire(app, DEPUTY, own, "approve")
    with pytest.raises(NotPermitted) as info:
        verify_task(app, SUPERVISOR, own, True, "看过", on_site=True, files=())
    assert "outside the responsible unit" in info.value.render("en")
    verify_task(app, SUPERVISOR, code, False, "现场仍有两处未修复", on_site=True, files=(photo,))
    shown = show_task(app, code)
    last = shown.events[-1]
    assert (shown.summary.state, last.trigger, last.comment) == ("in_progress", "send_back", "现场仍有两处未修复")
    assert last.data["on_site"] is True and last.data["files"][0]["name"] == "现场.jpg"
    assert app.evidence.path_of(last.data["files"][0]["sha256"]).read_bytes() == photo.read_bytes()
    fire(app, UNIT_HEAD, code, "submit")
    fire(app, DEPUTY, code, "approve")
    verify_task(app, SUPERVISOR, code, True, "已全部修复", on_site=False, files=(photo,))
    assert show_task(app, code).summary.state == "verified"
    assert build_report(app, ReportRequest(period="week")).totals.reviewed == 2  # both still await closing
    fire(app, DEPUTY, code, "close")
    assert verify(app).ok
    check_history(app)


def test_verification_through_the_command_line(call, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = call(
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
        "--json",
    ).json()["code"]
    for who, step in ((UNIT_HEAD, "start"),):
        call("--db", db_url, "--as", who, step, code)
    call("--db", db_url, "--as", UNIT_HEAD, "progress", code, "--percent", "100", "--note", "完成")
    call("--db", db_url, "--as", UNIT_HEAD, "submit", code)
    call("--db", db_url, "--as", DEPUTY, "approve", code)
    neither = call("--db", db_url, "--as", SUPERVISOR, "verify", code, "-m", "看过")
    assert neither.code == 2 and neither.err.count("\n") == 1
    mine = call("--db", db_url, "--lang", "zh", "--as", UNIT_HEAD, "verify", code, "--confirm", "-m", "看过")
    assert mine.code == 4 and "督查人员" in mine.err
    done = call("--db", db_url, "--as", SUPERVISOR, "verify", code, "--confirm", "-m", "看过", "--json").json()
    assert done["to"] == "verified"


# --- 1. an optional review before dispatch (拟办 → 领导审核 → 交办), declared in YAML alone -----------------------


def test_a_review_before_dispatch_is_a_workflow_option(db_url: str, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.config.settings import Settings
    from duban.engine.domain.errors import NotPermitted

    folder = tmp_path / "workflows"
    folder.mkdir()
    text_ = RECTIFICATION.replace("initial: assigned", "initial: drafted").replace(
        "  - {key: assigned,",
        "  - {key: drafted,     zh: 拟办, en: drafted, clock: false, report: excluded}\n  - {key: assigned,",
    )
    text_ = text_.replace(
        "transitions:\n",
        "transitions:\n"
        "  - trigger: dispatch\n    zh: 审核交办\n    en: dispatch\n    source: drafted\n    dest: assigned\n"
        "    who:\n      - {roles: [leader], relation: lead_leader}\n    notify: [unit_head, responsible_person]\n\n",
        1,
    )
    (folder / "rectification.yaml").write_text(text_, encoding="utf-8")
    app = App.build(Settings(database_url=db_url, workflow_dirs=(folder,), evidence_dir=tmp_path / "ev"), clock=clock)
    try:
        code = new_task(app)
        assert show_task(app, code).summary.state == "drafted"
        assert build_report(app, ReportRequest(period="week")).totals.tasks == 0  # a draft is no task yet
        with pytest.raises(NotPermitted):  # the lead leader reviews it
            fire(app, UNIT_HEAD, code, "dispatch")
        clock.set(at(2026, 9, 10))
        fire(app, DEPUTY, code, "dispatch")
        s = show_task(app, code).summary
        assert (s.state, s.sign_by) == ("assigned", date(2026, 9, 14))  # the sign-for limit runs from 交办
        assert verify(app).ok
    finally:
        app.close()
