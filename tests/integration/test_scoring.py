"""Scores against hand-computed breakdowns, replayed at past dates; accountability records (问责) on the chain.

The ledger (clock starts Monday 2026-09-07 09:00 Shanghai; 2026-09-20 is a working Sunday, 09-25 中秋):
  A 社会事务科, priority 高, due 09-18: started, reported 09-09, sent back 09-10, reported 09-11, closed 09-14.
  B 社会事务科, due 09-11: started 09-08, then nothing (overdue; 约谈 opened on 09-24 at the red level).
  C 阳光社区党支部, priority 低, due 10-30: started, first report on 09-25 (18 days after assignment).

The test policy: base 100; closed on time +2; a working day overdue -1 (capped at 10); escalation level 1 -1,
level 3 -3 (level 2 counts as 1); a late or missing report -1 (after 10 days); sent back -2; 约谈 -4;
weights 高 2, 低 0.5; bands 优秀 from 95, 合格 80–95, 不合格 below 80.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.accountability import NotRedLevel
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import BadFile, InvalidInput, NotPermitted
from duban.engine.domain.scoring import load_policies, parse_policies
from duban.engine.services.accountability import close_record, list_records, open_record
from duban.engine.services.audit import verify
from duban.engine.services.scoring import ScoreRequest, compute_scores
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, SUPERVISOR, UNIT, UNIT_HEAD
from tests.helpers import new_task
from tests.integration.test_audit import tampering

SH = ZoneInfo("Asia/Shanghai")
B_UNIT, B_HEAD = "阳光社区党支部", "liuxia"

POLICY = """
scoring:
  - name: 测试考核
    version: 3
    base: 100
    weights: {高: 2, 低: 0.5}
    rules:
      closed_on_time: {points: 2}
      overdue_working_day: {points: 1, cap: 10}
      escalation: {levels: {1: 1, 3: 3}}
      late_progress: {points: 1, after_days: 10}
      sent_back: {points: 2}
      accountability: {kinds: {约谈: 4}}
    bands:
      - {name: 优秀, from: 95}
      - {name: 合格, from: 80, below: 95}
      - {name: 不合格, below: 80}
"""


def at(clock: FixedClock, when: str) -> None:
    clock.set(datetime.fromisoformat(when).replace(tzinfo=SH))


@pytest.fixture
def scored(app: App, clock: FixedClock, tmp_path: Path) -> tuple[App, dict[str, str]]:
    policy = tmp_path / "scoring.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    app.settings = replace(app.settings, extra={**app.settings.extra, "DUBAN_SCORING": str(policy)})
    codes = {
        "A": new_task(app, title="A 路灯", deadline=date(2026, 9, 18), priority="高"),
        "B": new_task(app, title="B 公示", deadline=date(2026, 9, 11)),
        "C": new_task(app, title="C 班子", unit=B_UNIT, deadline=date(2026, 10, 30), priority="低"),
    }
    at(clock, "2026-09-08T10:00")
    fire(app, UNIT_HEAD, codes["A"], "start")
    fire(app, UNIT_HEAD, codes["B"], "start")
    fire(app, B_HEAD, codes["C"], "start")
    at(clock, "2026-09-09T10:00")
    report_progress(app, UNIT_HEAD, codes["A"], ProgressInput(50, "排查"))
    fire(app, UNIT_HEAD, codes["A"], "submit")
    at(clock, "2026-09-10T10:00")
    fire(app, DEPUTY, codes["A"], "reject", comment="材料不全")
    at(clock, "2026-09-11T10:00")
    report_progress(app, UNIT_HEAD, codes["A"], ProgressInput(100, "修复"))
    fire(app, UNIT_HEAD, codes["A"], "submit")
    at(clock, "2026-09-14T10:00")
    fire(app, DEPUTY, codes["A"], "approve")
    fire(app, DEPUTY, codes["A"], "close")
    at(clock, "2026-09-24T10:00")
    open_record(app, SUPERVISOR, codes["B"], kind="约谈", persons=["冯磊"], decision="约谈科室负责人")
    at(clock, "2026-09-25T10:00")
    report_progress(app, B_HEAD, codes["C"], ProgressInput(30, "已开会"))
    at(clock, "2026-11-25T10:00")  # scores are asked for long after: the past is replayed
    return app, codes


def breakdown(app: App, day: date) -> dict[str, tuple[Decimal, str | None, int, list[tuple[str | None, str, Decimal]]]]:
    result = compute_scores(app, ScoreRequest(as_of=day))
    return {s.unit: (s.score, s.band, s.rank, [(i.task, i.rule, i.points) for i in s.items]) for s in result.scores}


def test_scores_match_the_hand_count_on_the_30th(scored: tuple[App, dict[str, str]]) -> None:
    app, c = scored
    # premises: the calendar the hand count used
    assert app.calendar.working_days_between(date(2026, 9, 11), date(2026, 9, 30)) == 13
    got = breakdown(app, date(2026, 9, 30))
    assert got[UNIT] == (
        Decimal("82.00"),
        "合格",
        2,
        [
            (c["A"], "closed_on_time", Decimal("4.00")),  # 2 × 高 2
            (c["A"], "sent_back", Decimal("-4.00")),  # one return × 2 × 高 2
            (c["B"], "overdue_working_day", Decimal("-13.00")),
            (c["B"], "escalation", Decimal("-3.00")),  # level 3
            (c["B"], "late_progress", Decimal("-1.00")),  # nothing reported since it was assigned
            (c["B"], "accountability", Decimal("-4.00")),  # 约谈
            (None, "cap", Decimal("3.00")),  # overdue days capped at 10
        ],
    )
    assert got[B_UNIT] == (Decimal("99.50"), "优秀", 1, [(c["C"], "late_progress", Decimal("-0.50"))])


def test_scores_replay_for_a_past_date_and_read_the_same_later(
    scored: tuple[App, dict[str, str]], clock: FixedClock
) -> None:
    app, c = scored
    later = breakdown(app, date(2026, 9, 18))
    # on the 18th: B 5 working days overdue (level 2, which the policy counts as level 1), no 约谈 yet
    assert later[UNIT] == (
        Decimal("93.00"),
        "合格",
        2,
        [
            (c["A"], "closed_on_time", Decimal("4.00")),
            (c["A"], "sent_back", Decimal("-4.00")),
            (c["B"], "overdue_working_day", Decimal("-5.00")),
            (c["B"], "escalation", Decimal("-1.00")),
            (c["B"], "late_progress", Decimal("-1.00")),
        ],
    )
    assert later[B_UNIT][0] == Decimal("99.50")  # nothing reported for 11 days: missing
    at(clock, "2026-09-18T20:00")  # the same date asked on the day itself, from the task rows
    assert breakdown(app, date(2026, 9, 18)) == later


def test_accountability_is_for_red_tasks_and_by_policy(scored: tuple[App, dict[str, str]]) -> None:
    app, c = scored
    with pytest.raises(NotRedLevel) as refused:
        open_record(app, SUPERVISOR, c["A"], kind="约谈", persons=["冯磊"], decision="x")
    assert "not at the red level" in refused.value.render("en")
    assert "\n" not in refused.value.render("en")
    with pytest.raises(NotPermitted):
        open_record(app, UNIT_HEAD, c["B"], kind="约谈", persons=["冯磊"], decision="x")
    with pytest.raises(InvalidInput):
        open_record(app, SUPERVISOR, c["B"], kind="罚款", persons=["冯磊"], decision="x")
    second = open_record(app, SUPERVISOR, c["B"], kind="通报批评", persons=["冯磊", "王军"], decision="全县通报")
    assert second.number == "WZ-2026-0002"
    assert [r.number for r in list_records(app, person="王军")] == ["WZ-2026-0002"]
    assert [r.number for r in list_records(app, unit=UNIT)] == ["WZ-2026-0001", "WZ-2026-0002"]
    closed = close_record(app, DEPUTY, "WZ-2026-0001", "已整改到位")
    assert closed.status == "closed" and closed.closed_by == DEPUTY
    assert [r.number for r in list_records(app, status="open")] == ["WZ-2026-0002"]
    assert verify(app).ok


def test_an_edited_accountability_record_breaks_the_chain(scored: tuple[App, dict[str, str]]) -> None:
    app, _ = scored
    with tampering(app) as conn:
        conn.execute(
            text("UPDATE records SET body = replace(body, '约谈科室负责人', '口头提醒') WHERE kind = 'accountability'")
        )
    breaks = [b.what for b in verify(app).breaks]
    assert any("accountability record of 'WZ-2026-0001'" in w for w in breaks), breaks


def test_bad_policies_are_refused_with_file_and_key(tmp_path: Path) -> None:
    overlapping = POLICY.replace("{name: 合格, from: 80, below: 95}", "{name: 合格, from: 80, below: 96}")
    with pytest.raises(BadFile) as refused:
        parse_policies(__import__("yaml").safe_load(overlapping), "scoring.yaml")
    assert "scoring.yaml: scoring[0].bands" in refused.value.render("en")
    assert "overlaps" in refused.value.render("en")
    gap = POLICY.replace("{name: 合格, from: 80, below: 95}", "{name: 合格, from: 81, below: 95}")
    with pytest.raises(BadFile, match="no band holds scores from 80 to 81"):
        parse_policies(__import__("yaml").safe_load(gap), "scoring.yaml")
    unknown = POLICY.replace("sent_back: {points: 2}", "sent_back: {points: 2, per: task}")
    with pytest.raises(BadFile, match=r"scoring\[0\].rules.sent_back.per: unknown key"):
        parse_policies(__import__("yaml").safe_load(unknown), "scoring.yaml")
    path = tmp_path / "p.yaml"
    path.write_text(POLICY.replace("version: 3", "version: 4"), encoding="utf-8")
    v4 = load_policies(path)[0]
    path.write_text(POLICY, encoding="utf-8")
    v3 = load_policies(path)[0]
    assert v3.digest != v4.digest and v3.version == "3"


def test_builtin_policy_loads(app_factory: Callable[[], None] | None = None) -> None:
    from duban.engine.services.scoring import BUILTIN

    [policy] = load_policies(BUILTIN)
    assert [b.name for b in policy.bands] == ["优秀", "良好", "合格", "不合格"]


def test_the_circular_ranks_by_score_and_keeps_its_policy_version(
    scored: tuple[App, dict[str, str]], tmp_path: Path, clock: FixedClock
) -> None:
    from docx import Document

    from duban.engine.domain.report import to_dict
    from duban.engine.services.circulars import get_circular, issue
    from duban.engine.services.report import ReportRequest, build_report
    from duban.engine.services.report_files import render_report

    app, c = scored
    request = ReportRequest(period="month", as_of=date(2026, 9, 30))
    d = to_dict(build_report(app, request), "zh")
    assert d["scores"]["policy"]["version"] == "3"
    assert [(u["unit"], u["rank"], u["score"], u["band"]) for u in d["scores"]["units"]] == [
        (B_UNIT, 1, 99.5, "优秀"),
        (UNIT, 2, 82, "合格"),
    ]
    assert d["scores"]["units"][1]["by_rule"] == {
        "closed_on_time": 4,
        "overdue_working_day": -13,
        "escalation": -3,
        "late_progress": -1,
        "sent_back": -4,
        "accountability": -4,
        "cap": 3,
    }
    assert [(a["number"], a["task"], a["kind"], a["status"]) for a in d["accountability"]] == [
        ("WZ-2026-0001", c["B"], "约谈", "open")
    ]
    other = ReportRequest(period="month", as_of=date(2026, 9, 30), campaign="2026年专项巡察")
    assert to_dict(build_report(app, other), "zh")["accountability"] == []  # B is not of that campaign
    report = build_report(app, request)
    html = render_report(report, "html", "zh").decode("utf-8")
    assert "考核评分排名" in html and "99.5" in html and "问责情况" in html and "WZ-2026-0001" in html
    docx_path = tmp_path / "c.docx"
    docx_path.write_bytes(render_report(report, "docx", "zh"))
    cells = [cell.text for t in Document(str(docx_path)).tables for row in t.rows for cell in row.cells]
    assert "82" in cells and "合格" in cells and "约谈" in cells

    circular_id = issue(app, request)
    assert circular_id is not None
    policy_path = Path(app.settings.extra["DUBAN_SCORING"])
    policy_path.write_text(POLICY.replace("version: 3", "version: 4").replace("{points: 2}", "{points: 5}"), "utf-8")
    kept = get_circular(app, circular_id).report.scores
    assert kept is not None and kept.policy["version"] == "3"
    assert [line.score for line in kept.lines] == [99.5, 82]
    fresh = build_report(app, request).scores
    assert fresh is not None and fresh.policy["version"] == "4"
    # an accountability record closed before a period began is not named in that period's circular
    close_record(app, SUPERVISOR, "WZ-2026-0001", "已整改")
    at(clock, "2026-12-10T10:00")
    december = to_dict(build_report(app, ReportRequest(period="week", as_of=date(2026, 12, 9))), "zh")
    assert december["accountability"] == []
    assert to_dict(build_report(app, request), "zh")["accountability"][0]["status"] == "open"  # as it stood then


@pytest.fixture
def overdue_workspace(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """A copy of the workspace with one task due 09-11 (red by the 30th) and one due in October."""
    import shutil

    from duban.engine.config.settings import Settings

    db = str(tmp_path / "duban.db")
    shutil.copy(sqlite_template, db)
    app = App.build(Settings(database_url=db), clock=FixedClock(datetime(2026, 9, 7, 1, 0, tzinfo=ZoneInfo("UTC"))))
    red = new_task(app, deadline=date(2026, 9, 11))
    green = new_task(app, deadline=date(2026, 10, 30))
    app.close()
    return db, red, green


def test_cli_score_and_accountability(call, overdue_workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db, red, green = overdue_workspace
    call("--db", db, "list")  # the workspace is readable on the 7th
    monkeypatch.setenv("DUBAN_NOW", "2026-09-30T10:00")
    refused = call(
        "--db",
        db,
        "--as",
        SUPERVISOR,
        "accountability",
        "open",
        green,
        "--kind",
        "约谈",
        "--person",
        "冯磊",
        "--decision",
        "约谈",
    )
    assert refused.code == 5 and refused.err.count("\n") == 1 and "not at the red level" in refused.err
    zh = call(
        "--db",
        db,
        "--lang",
        "zh",
        "--as",
        SUPERVISOR,
        "accountability",
        "open",
        green,
        "--kind",
        "约谈",
        "--person",
        "冯磊",
        "--decision",
        "约谈",
    )
    assert zh.code == 5 and zh.err.startswith("duban：错误：") and "未到红色督办层级" in zh.err
    not_allowed = call(
        "--db",
        db,
        "--as",
        UNIT_HEAD,
        "accountability",
        "open",
        red,
        "--kind",
        "约谈",
        "--person",
        "冯磊",
        "--decision",
        "约谈",
    )
    assert not_allowed.code == 4 and "supervisor" in not_allowed.err
    bad_kind = call(
        "--db",
        db,
        "--as",
        SUPERVISOR,
        "accountability",
        "open",
        red,
        "--kind",
        "罚款",
        "--person",
        "冯磊",
        "--decision",
        "x",
    )
    assert bad_kind.code == 2 and "'罚款' is not one of 约谈" in bad_kind.err
    opened = call(
        "--db",
        db,
        "--as",
        SUPERVISOR,
        "accountability",
        "open",
        red,
        "--kind",
        "约谈",
        "--person",
        "冯磊",
        "--decision",
        "约谈科长",
        "--json",
    )
    assert opened.code == 0, opened.err
    assert opened.json()["number"] == "WZ-2026-0001" and opened.json()["status"] == "open"
    listed = call("--db", db, "accountability", "list", "--person", "冯磊", "--json")
    assert [r["number"] for r in listed.json()] == ["WZ-2026-0001"]
    closed = call("--db", db, "--as", UNIT_HEAD, "accountability", "close", "WZ-2026-0001")
    assert closed.code == 4
    again = call("--db", db, "--as", SUPERVISOR, "accountability", "close", "WZ-2026-0009")
    assert again.code == 3 and "no accountability record WZ-2026-0009" in again.err
    scored = call("--db", db, "score", "--unit", UNIT, "--json")
    assert scored.code == 0, scored.err
    d = scored.json()
    assert set(d) == {"as_of", "period", "scope", "policy", "units"}
    [line] = d["units"]
    assert set(line) == {"unit", "rank", "score", "band", "tasks", "by_rule", "items", "previous_score", "change"}
    assert {i["rule"] for i in line["items"]} >= {"overdue_working_day", "escalation", "accountability"}
    assert sum(i["points"] for i in line["items"]) == pytest.approx(line["score"] - 100)
    table = call("--db", db, "--lang", "zh", "score", "--unit", UNIT)
    assert "得分明细" in table.out and "问责" in table.out
    bad = call("--db", db, "score", "--as-of", "2027-01-01")
    assert bad.code == 2 and "after today" in bad.err
    verified = call("--db", db, "audit", "verify")
    assert verified.code == 0, verified.err


def test_cli_refuses_a_bad_policy_file_with_file_and_key(call, overdue_workspace, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db, _red, _green = overdue_workspace
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("{name: 合格, from: 80, below: 95}", "{name: 合格, from: 80, below: 99}"), "utf-8")
    monkeypatch.setenv("DUBAN_SCORING", str(bad))
    for args in (["score"], ["report"]):
        result = call("--db", db, *args)
        assert result.code == 2, result.err
        assert (
            result.err.count("\n") == 1
            and f"{bad}: scoring[0].bands[0]: band '优秀' overlaps band '合格'" in result.err
        )
