"""Substitutes (代理): a person away names someone to stand in; their head or an admin approves; the substitute
acts with the absent person's roles and relations over the dates, hears what was meant for them, and every
step names both; the end is a date; bad input is one line and nothing written. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import DubanError, InvalidInput, NotPermitted
from duban.engine.domain.substitution import NotStandingIn, SubstitutionDecided, parse_substitution_policy
from duban.engine.services.audit import verify
from duban.engine.services.identity import acting_for
from duban.engine.services.inbox import inbox
from duban.engine.services.queries import show_task
from duban.engine.services.substitutes import (
    cancel_substitution,
    decide_substitution,
    list_substitutions,
    request_substitution,
)
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from duban.engine.services.workspace import init_workspace
from tests.conftest import DEPUTY, UNIT_HEAD
from tests.helpers import connection_of, new_task
from tests.integration.test_audit import desk, org_with_accounts

AWAY = DEPUTY  # zhangwei, leader of 县社区管理服务中心, the tasks' lead leader
STAND_IN = "chenjing"  # another leader of the same unit
ADMIN = "zhouqiang"
HEAD = "wangjun"  # head of 县社区管理服务中心


@contextmanager
def acting_as_substitute_for(absent: str) -> Iterator[None]:
    token = acting_for.set(absent)
    try:
        yield
    finally:
        acting_for.reset(token)


def approved(app: App, start: date, end: date, *, by: str = ADMIN) -> str:
    code = request_substitution(app, AWAY, substitute=STAND_IN, starts_on=start, ends_on=end, reason="外出培训")
    decide_substitution(app, by, code, approve=True)
    return code


def outbox_rows(app: App) -> list[tuple[str, str, str]]:
    with app.uow(write=False) as uow:
        rows = (
            connection_of(uow)
            .execute(text("SELECT rule, recipient_id, body FROM notifications ORDER BY id"))
            .fetchall()
        )
    return [(r[0], r[1], r[2]) for r in rows]


def counts(app: App) -> tuple[int, int, int]:
    with app.uow(write=False) as uow:
        return (
            connection_of(uow).execute(text("SELECT COUNT(*) FROM substitutions")).scalar_one(),
            connection_of(uow).execute(text("SELECT COUNT(*) FROM records WHERE kind = 'substitution'")).scalar_one(),
            connection_of(uow).execute(text("SELECT COUNT(*) FROM events")).scalar_one(),
        )


def test_the_substitute_acts_for_the_absent_person_and_both_names_are_recorded(app: App, clock: FixedClock) -> None:
    code = new_task(app)
    sub = approved(app, date(2026, 9, 8), date(2026, 9, 11))
    fire(app, UNIT_HEAD, code, "start")
    report_progress(app, UNIT_HEAD, code, ProgressInput(100, "已完成"))
    fire(app, UNIT_HEAD, code, "submit")
    with pytest.raises(NotPermitted):  # a leader, but not this task's lead leader: not on their own
        fire(app, STAND_IN, code, "approve")
    with acting_as_substitute_for(AWAY), pytest.raises(NotStandingIn):  # approved, but not yet in force
        fire(app, STAND_IN, code, "approve")
    clock.set(datetime(2026, 9, 8, 2, 0, tzinfo=clock.now().tzinfo))
    with acting_as_substitute_for(AWAY):
        fire(app, STAND_IN, code, "approve")
    last = show_task(app, code).events[-1]
    assert (last.trigger, last.actor, last.operator, last.substitution) == ("approve", AWAY, STAND_IN, sub)
    assert verify(app).ok


def test_notifications_for_the_absent_person_go_to_the_substitute_during_the_range(app: App, clock: FixedClock) -> None:
    code = new_task(app)
    approved(app, date(2026, 9, 8), date(2026, 9, 8))
    fire(app, UNIT_HEAD, code, "start")
    report_progress(app, UNIT_HEAD, code, ProgressInput(100, "已完成"))
    clock.set(datetime(2026, 9, 8, 2, 0, tzinfo=clock.now().tzinfo))
    before = len(outbox_rows(app))
    fire(app, UNIT_HEAD, code, "submit")  # tells the lead leader
    told = [(rule, who, body) for rule, who, body in outbox_rows(app)[before:] if rule == "event"]
    assert {who for _r, who, _b in told} == {STAND_IN}
    assert all("代理张伟接收" in body or "substitute for 张伟" in body for _r, _w, body in told)
    fire(app, DEPUTY, code, "reject", comment="材料不全")
    report_progress(app, UNIT_HEAD, code, ProgressInput(100, "已补充"))
    clock.set(datetime(2026, 9, 9, 2, 0, tzinfo=clock.now().tzinfo))  # the range has ended by itself
    before = len(outbox_rows(app))
    fire(app, UNIT_HEAD, code, "submit")
    assert {who for rule, who, _b in outbox_rows(app)[before:] if rule == "event"} == {AWAY}


def test_the_substitutes_inbox_shows_the_absent_persons_work(app: App, clock: FixedClock) -> None:
    code = new_task(app)
    fire(app, UNIT_HEAD, code, "start")
    report_progress(app, UNIT_HEAD, code, ProgressInput(100, "已完成"))
    fire(app, UNIT_HEAD, code, "submit")
    sub = approved(app, date(2026, 9, 7), date(2026, 9, 9))
    box = inbox(app, STAND_IN)
    assert [(s.substitution, s.absent_id) for s in box.standing_in] == [(sub, AWAY)]
    assert code in [t.code for t in box.standing_in[0].inbox.approvals]
    cancel_substitution(app, AWAY, sub)  # back early
    assert inbox(app, STAND_IN).standing_in == []


def test_approval_follows_the_policy_and_nobody_approves_their_own(app: App) -> None:
    sub = request_substitution(
        app, AWAY, substitute=STAND_IN, starts_on=date(2026, 9, 8), ends_on=date(2026, 9, 9), reason="休假"
    )
    for who, error in ((AWAY, InvalidInput), (STAND_IN, InvalidInput), (UNIT_HEAD, NotPermitted)):
        with pytest.raises(error):
            decide_substitution(app, who, sub, approve=True)
    assert decide_substitution(app, HEAD, sub, approve=True).status == "approved"  # head of zhangwei's unit
    with pytest.raises(SubstitutionDecided):
        decide_substitution(app, ADMIN, sub, approve=False)
    # a unit head away: their own unit head is themselves, so an admin approves
    own = request_substitution(
        app, UNIT_HEAD, substitute="hejuan", starts_on=date(2026, 9, 8), ends_on=date(2026, 9, 9), reason="休假"
    )
    with pytest.raises(InvalidInput):
        decide_substitution(app, UNIT_HEAD, own, approve=True)
    assert decide_substitution(app, ADMIN, own, approve=False).status == "denied"
    told = {(rule, who) for rule, who, _b in outbox_rows(app)}
    assert ("substitution", HEAD) in told and ("substitution", STAND_IN) in told


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"substitute": AWAY}, "own substitute"),
        ({"starts_on": date(2026, 9, 10), "ends_on": date(2026, 9, 9)}, "before the first day"),
        ({"starts_on": date(2026, 9, 1)}, "before today"),
        ({"ends_on": date(2026, 12, 31)}, "more than the 30 days"),
        ({"substitute": "guoliang"}, "may not stand in"),  # a grid worker, not of the leaders' unit
        ({"substitute": "nobody"}, "no person 'nobody'"),
        ({"reason": " "}, "say why"),
    ],
)
def test_bad_requests_are_one_clear_line_and_nothing_is_written(app: App, kwargs: dict, words: str) -> None:  # type: ignore[type-arg]
    args = {"substitute": STAND_IN, "starts_on": date(2026, 9, 8), "ends_on": date(2026, 9, 9), "reason": "休假"}
    args.update(kwargs)
    before = counts(app)
    with pytest.raises(DubanError) as caught:
        request_substitution(app, AWAY, **args)
    assert words in caught.value.render("en")
    assert "\n" not in caught.value.render("zh")
    assert counts(app) == before


def test_ranges_may_not_overlap_nor_chain(app: App) -> None:
    approved(app, date(2026, 9, 8), date(2026, 9, 11))
    with pytest.raises(InvalidInput, match="may not overlap"):
        request_substitution(
            app, AWAY, substitute="lihong", starts_on=date(2026, 9, 11), ends_on=date(2026, 9, 14), reason="休假"
        )
    with pytest.raises(InvalidInput, match="is away"):  # the absent person cannot stand in for another then
        request_substitution(
            app, "lihong", substitute=AWAY, starts_on=date(2026, 9, 9), ends_on=date(2026, 9, 9), reason="休假"
        )
    # after it, a new range is fine
    request_substitution(
        app, AWAY, substitute="lihong", starts_on=date(2026, 9, 12), ends_on=date(2026, 9, 14), reason="休假"
    )


def test_cancel_ends_it_at_once_and_a_past_day_reads_as_it_was(app: App, clock: FixedClock) -> None:
    code = new_task(app)
    sub = approved(app, date(2026, 9, 7), date(2026, 9, 11))
    clock.set(clock.now() + timedelta(days=1))  # Tuesday 8 September
    with acting_as_substitute_for(AWAY):
        fire(app, STAND_IN, code, "remind", comment="请抓紧")
    clock.set(clock.now() + timedelta(hours=1))
    cancel_substitution(app, AWAY, sub)
    with acting_as_substitute_for(AWAY), pytest.raises(NotStandingIn):
        fire(app, STAND_IN, code, "remind", comment="再催")
    with pytest.raises(SubstitutionDecided):
        cancel_substitution(app, AWAY, sub)
    [then] = list_substitutions(app, on=date(2026, 9, 7))
    [now] = list_substitutions(app)
    assert (then.in_force, now.in_force, now.s.status) == (True, False, "cancelled")
    # the event taken under it still names both, read from the range as recorded
    remind = [e for e in show_task(app, code).events if e.trigger == "remind"][-1]
    assert (remind.operator, remind.substitution) == (STAND_IN, sub)
    assert verify(app).ok


def test_on_a_shared_workspace_verify_accepts_the_substitute_only_within_the_range(
    tmp_path: Path, clock: FixedClock
) -> None:
    org = org_with_accounts(
        tmp_path,
        {"wangjun": "os:wangjun", "zhangwei": "os:zhangwei", "chenjing": "os:chenjing", "fenglei": "os:fenglei"},
    )
    path = str(tmp_path / "shared.db")
    init_workspace(desk(path, clock, "os:wangjun", tmp_path), org)
    leader = desk(path, clock, "os:wangjun", tmp_path)
    code = new_task(leader)
    away = desk(path, clock, "os:zhangwei", tmp_path)
    sub = request_substitution(
        away, None, substitute=STAND_IN, starts_on=date(2026, 9, 7), ends_on=date(2026, 9, 8), reason="外出培训"
    )
    decide_substitution(leader, None, sub, approve=True)
    unit = desk(path, clock, "os:fenglei", tmp_path)
    fire(unit, None, code, "start")
    report_progress(unit, None, code, ProgressInput(100, "已完成"))
    fire(unit, None, code, "submit")
    substitute = desk(path, clock, "os:chenjing", tmp_path)
    with pytest.raises(NotPermitted):  # without --for: their own roles, not the lead leader
        fire(substitute, None, code, "approve")
    with acting_as_substitute_for(AWAY):
        fire(substitute, None, code, "approve")
    assert verify(substitute).ok
    # the same step written outside the range is named: the substitution did not cover it
    with substitute.uow(write=True) as uow:
        connection_of(uow).execute(
            text("UPDATE substitutions SET ends_on = :d WHERE code = :c"), {"d": date(2026, 9, 20), "c": sub}
        )
        uow.commit()
    found = [b.what for b in verify(substitute).breaks]
    assert any("substitution" in w and "changed behind the engine's back" in w for w in found), found
    for app in (leader, away, unit, substitute):
        app.close()


def test_the_policy_names_the_file_and_the_key() -> None:
    with pytest.raises(DubanError, match=r"p.yaml: substitution.scope: 'town' is not one of"):
        parse_substitution_policy({"substitution": {"scope": "town"}}, "p.yaml")
    with pytest.raises(DubanError, match=r"substitution.approve: unknown approver 'boss'"):
        parse_substitution_policy({"substitution": {"approve": ["boss"]}}, "p.yaml")
    with pytest.raises(DubanError, match=r"substitution.max_days: expected a whole number"):
        parse_substitution_policy({"substitution": {"max_days": 0}}, "p.yaml")
    with pytest.raises(DubanError, match=r"substitution.extra: unknown key"):
        parse_substitution_policy({"substitution": {"extra": 1}}, "p.yaml")
    assert parse_substitution_policy({"substitution": {"count": "working_days"}}, "p.yaml").count == "working_days"


def test_the_cli_requests_approves_lists_and_acts_for(call, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    db = ("--db", sqlite_url)
    code = call(
        *db,
        "--as",
        "wangjun",
        "assign",
        "--title",
        "路灯损坏",
        "--unit",
        "社会事务科",
        "--leader",
        "张伟",
        "--deadline",
        "2026-10-30",
    ).out.strip()
    made = call(
        *db,
        "--json",
        "--as",
        AWAY,
        "substitute",
        "request",
        "--substitute",
        "陈静",
        "--from",
        "2026-09-07",
        "--to",
        "2026-09-09",
        "--reason",
        "外出培训",
    )
    assert made.code == 0, made.err
    sub = made.json()["code"]
    own = call(*db, "--lang", "zh", "--as", STAND_IN, "substitute", "approve", sub)
    assert own.code == 2 and own.err.count("\n") == 1 and "不能审批自己" in own.err
    assert call(*db, "--as", ADMIN, "substitute", "approve", sub).code == 0
    listed = call(*db, "substitute", "list", "--json").json()
    assert [(r["code"], r["absent"], r["substitute"], r["status"], r["in_force"]) for r in listed] == [
        (sub, AWAY, STAND_IN, "approved", True)
    ]
    refused = call(*db, "--as", "hejuan", "--for", AWAY, "remind", code)
    assert refused.code == 4 and "not an approved substitute" in refused.err
    acted = call(*db, "--as", STAND_IN, "--for", AWAY, "remind", code)
    assert acted.code == 0, acted.err
    event = call(*db, "show", code, "--json").json()["events"][-1]
    assert (event["actor"], event["operator"], event["on_behalf_of"], event["substitution"]) == (
        AWAY,
        STAND_IN,
        AWAY,
        sub,
    )
    assert "陈静 代 张伟" in call(*db, "--lang", "zh", "show", code).out
    self_sub = call(
        *db,
        "--lang",
        "zh",
        "--as",
        AWAY,
        "substitute",
        "request",
        "--substitute",
        AWAY,
        "--from",
        "2026-09-10",
        "--to",
        "2026-09-11",
        "--reason",
        "休假",
    )
    assert self_sub.code == 2 and "不能做自己的代理人" in self_sub.err


def test_an_approval_forged_by_the_substitute_is_named(tmp_path: Path, clock: FixedClock) -> None:
    """Writing the table and a record that says an admin approved does not pass: the record names the account."""
    from duban.engine.services.chain import record_changes

    org = org_with_accounts(
        tmp_path, {"zhouqiang": "os:zhouqiang", "zhangwei": "os:zhangwei", "chenjing": "os:chenjing"}
    )
    path = str(tmp_path / "shared.db")
    init_workspace(desk(path, clock, "os:zhouqiang", tmp_path), org)
    away = desk(path, clock, "os:zhangwei", tmp_path)
    sub = request_substitution(
        away, None, substitute=STAND_IN, starts_on=date(2026, 9, 7), ends_on=date(2026, 9, 8), reason="外出培训"
    )
    substitute = desk(path, clock, "os:chenjing", tmp_path)
    assert verify(substitute).ok
    with substitute.uow(write=True) as uow:
        uow.substitutions.decide(sub, "approved", ADMIN, clock.now())
        record_changes(
            substitute,
            uow,
            "substitution",
            uow.substitutions.bodies([sub]),
            account="os:chenjing",
            operator_id=STAND_IN,
        )
        uow.commit()
    found = [b.what for b in verify(substitute).breaks]
    assert any(f"substitution record of '{sub}' (approved) was written by os:chenjing" in w for w in found), found
    away.close()
    substitute.close()
