"""`audit verify` re-checks accountability records (问责) against the policy: who opened and who closed each one,
with their roles as recorded then, and that the account that wrote the step is that person's (or a recorder's).

A record written straight through the repository, with a valid chain continuation, by someone the policy does
not allow (bypassing the service and its checks) is named; one written by the service verifies. On SQLite.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from duban.engine.app import App
from duban.engine.domain.accountability import KIND, AccountabilityRecord
from duban.engine.domain.audit import RecordFacts
from duban.engine.domain.clock import FixedClock
from duban.engine.services.accountability import close_record, open_record
from duban.engine.services.audit import verify
from duban.engine.services.tasks import fire
from duban.engine.services.workspace import init_workspace
from tests.conftest import DEPUTY, SUPERVISOR, UNIT, UNIT_HEAD
from tests.helpers import new_task
from tests.integration.test_audit import desk, org_with_accounts

SH = ZoneInfo("Asia/Shanghai")


def at(clock: FixedClock, when: str) -> None:
    clock.set(datetime.fromisoformat(when).replace(tzinfo=SH))


def red_task(app: App, clock: FixedClock) -> str:
    """A task due 09-11, started, and by 09-24 nine working days overdue: the red level (level 3)."""
    code = new_task(app, title="公示栏未更新", deadline=date(2026, 9, 11))
    at(clock, "2026-09-08T10:00")
    fire(app, UNIT_HEAD, code, "start")
    at(clock, "2026-09-24T10:00")
    return code


def forge(app: App, number: str, body: dict[str, Any], account: str, operator: str) -> None:
    """What someone with database access can do: append a record through the repository, chain and all."""
    with app.uow(write=True) as uow:
        uow.records.append(RecordFacts(KIND, number, body, app.clock.now(), account, operator))
        uow.commit()


def record(code: str, opened_by: str, number: str = "WZ-2026-0002") -> AccountabilityRecord:
    return AccountabilityRecord(
        number=number,
        task=code,
        unit=UNIT,
        kind="约谈",
        persons=("冯磊",),
        decision="约谈科室负责人",
        decided_on=date(2026, 9, 24),
        status="open",
        opened_by=opened_by,
    )


def said(app: App, lang: str = "en") -> list[str]:
    return [b.said(lang) for b in verify(app).breaks]


def test_records_written_by_the_service_verify(sqlite_app: App, clock: FixedClock) -> None:
    code = red_task(sqlite_app, clock)
    opened = open_record(sqlite_app, SUPERVISOR, code, kind="约谈", persons=["冯磊"], decision="约谈科室负责人")
    close_record(sqlite_app, DEPUTY, opened.number, "已整改到位")  # the built-in policy: leaders may close
    assert verify(sqlite_app).ok, said(sqlite_app)


def test_a_record_opened_by_someone_the_policy_does_not_allow_is_named(sqlite_app: App, clock: FixedClock) -> None:
    code = red_task(sqlite_app, clock)
    open_record(sqlite_app, SUPERVISOR, code, kind="约谈", persons=["冯磊"], decision="约谈科室负责人")
    forged = record(code, opened_by=UNIT_HEAD)
    forge(sqlite_app, forged.number, forged.body(), str(sqlite_app.account), UNIT_HEAD)
    en = said(sqlite_app)
    assert en == [
        "accountability record WZ-2026-0002 opened by fenglei, whom the policy does not allow to open one "
        "(open: supervisor)"
    ]
    assert said(sqlite_app, "zh") == [
        "问责记录 WZ-2026-0002 由 fenglei 启动，而问责政策不允许其启动问责（可启动：supervisor）"
    ]


def test_a_record_closed_by_someone_the_policy_does_not_allow_is_named(sqlite_app: App, clock: FixedClock) -> None:
    code = red_task(sqlite_app, clock)
    opened = open_record(sqlite_app, SUPERVISOR, code, kind="约谈", persons=["冯磊"], decision="约谈科室负责人")
    closed = opened.body() | {
        "status": "closed",
        "closed_by": UNIT_HEAD,
        "closed_on": "2026-09-24",
        "closing_note": None,
    }
    forge(sqlite_app, opened.number, closed, str(sqlite_app.account), UNIT_HEAD)
    assert said(sqlite_app) == [
        "accountability record WZ-2026-0001 closed by fenglei, whom the policy does not allow to close one "
        "(close: leader or supervisor)"
    ]
    assert "由 fenglei 办结，而问责政策不允许其办结问责" in said(sqlite_app, "zh")[0]


def test_a_record_changed_other_than_by_closing_is_named(sqlite_app: App, clock: FixedClock) -> None:
    code = red_task(sqlite_app, clock)
    opened = open_record(sqlite_app, SUPERVISOR, code, kind="约谈", persons=["冯磊"], decision="约谈科室负责人")
    softer = opened.body() | {"decision": "口头提醒"}
    forge(sqlite_app, opened.number, softer, str(sqlite_app.account), SUPERVISOR)
    assert said(sqlite_app) == [
        "accountability record WZ-2026-0001 was changed other than by closing it (written behind the engine's back)"
    ]


def test_the_policy_in_force_is_the_one_verify_reads(sqlite_app: App, clock: FixedClock, tmp_path: Path) -> None:
    """No policy version is stored with a record: verify reads the current policy, as the docs say."""
    from dataclasses import replace

    code = red_task(sqlite_app, clock)
    open_record(sqlite_app, SUPERVISOR, code, kind="约谈", persons=["冯磊"], decision="约谈科室负责人")
    stricter = tmp_path / "accountability.yaml"
    stricter.write_text("accountability:\n  kinds: [约谈]\n  open: [leader]\n  close: [leader]\n", encoding="utf-8")
    sqlite_app.settings = replace(
        sqlite_app.settings, extra={**sqlite_app.settings.extra, "DUBAN_ACCOUNTABILITY": str(stricter)}
    )
    assert said(sqlite_app) == [
        "accountability record WZ-2026-0001 opened by huangtao, whom the policy does not allow to open one "
        "(open: leader)"
    ]


def test_on_a_shared_workspace_the_account_that_wrote_the_step_must_be_the_persons(
    tmp_path: Path, clock: FixedClock
) -> None:
    org = org_with_accounts(
        tmp_path, {"wangjun": "os:wangjun", "fenglei": "os:fenglei", "huangtao": "os:huangtao", "clerk": "os:clerk"}
    )
    path = str(tmp_path / "shared.db")
    init_workspace(desk(path, clock, "os:wangjun", tmp_path), org)
    leader = desk(path, clock, "os:wangjun", tmp_path)
    unit = desk(path, clock, "os:fenglei", tmp_path)
    supervisor = desk(path, clock, "os:huangtao", tmp_path)
    clerk = desk(path, clock, "os:clerk", tmp_path)
    code = new_task(leader, deadline=date(2026, 9, 11))
    at(clock, "2026-09-08T10:00")
    fire(unit, None, code, "start")
    at(clock, "2026-09-24T10:00")
    open_record(supervisor, None, code, kind="约谈", persons=["冯磊"], decision="约谈科室负责人")
    keyed = open_record(clerk, SUPERVISOR, code, kind="通报批评", persons=["冯磊"], decision="全县通报")  # 代录
    assert verify(leader).ok, said(leader)
    # the unit head's own account appends a record that says the supervisor opened it
    forged = record(code, opened_by=SUPERVISOR, number="WZ-2026-0003")
    forge(unit, forged.number, forged.body(), "os:fenglei", UNIT_HEAD)
    assert said(leader) == [
        "accountability record WZ-2026-0003 says it was opened by huangtao, but it was written by os:fenglei (fenglei)"
    ]
    assert said(leader, "zh") == ["问责记录 WZ-2026-0003 称由 huangtao 启动，但写入它的是 os:fenglei（fenglei）"]
    assert keyed.opened_by == SUPERVISOR
    for app in (leader, unit, supervisor, clerk):
        app.close()
