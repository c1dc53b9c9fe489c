"""The task page's supervision forms over HTTP (TestClient) on a real SQLite file: 退办 → 改派 / 坚持交办,
提请转办 → consent / decline, 申请挂起 → 挂起 → 恢复办理, 签收 with its deadline, 复核 with evidence, the reply
to a 督办单, 问责 records, and the task's source. Each form: refused when the person may not take the step,
stale when the task moved on, the bad input beside its field in the person's language; nothing written.
The JSON API takes the same steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.services import accounts
from duban.engine.services.accountability import open_record
from duban.engine.services.instructions import register_instruction
from duban.engine.services.supervision_notices import list_notices
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress
from duban.engine.services.transfers import insist
from tests.conftest import DEPUTY, OTHER_UNIT_MEMBER, PRINCIPAL, START, SUPERVISOR, UNIT, UNIT_HEAD
from tests.web_support import Web, build_template, csrf_of, make_web, own_password, sign_in, signed_in_as

OTHER_UNIT = "阳光社区党支部"  # liuxia's unit
MEMBER = "hejuan"  # a member of 社会事务科, not its head
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"photo"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def supervision_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("web-supervision-template"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def web(supervision_template: Path, tmp_path: Path, clock: FixedClock) -> Iterator[Web]:
    w = make_web(supervision_template, tmp_path, clock=clock)
    yield w
    w.close()


def new_task(web: Web, **more: object) -> str:
    fields: dict[str, object] = {"title": "路灯损坏", "unit": UNIT, "leader": DEPUTY, "deadline": date(2026, 10, 9)}
    with signed_in_as(PRINCIPAL):
        return assign(web.server, PRINCIPAL, NewTask(**(fields | more)))  # type: ignore[arg-type]


def as_(web: Web, person: str, lang: str = "zh") -> TestClient:
    c = web.client()
    assert sign_in(c, person).status_code == 200
    if lang == "en":
        c.get("/lang/en")
    return c


def events_of(app: App, code: str) -> list[tuple[int, str, str, str]]:
    with app.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.seq, e.trigger, e.to_state, e.via FROM events e JOIN tasks t ON t.id = e.task_id "
                "WHERE t.code = :c ORDER BY e.seq"
            ),
            {"c": code},
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def task_row(app: App, code: str) -> tuple[str, str, int]:
    """(state, unit name, version)."""
    with app.db.engine.connect() as conn:
        row = conn.execute(
            text("SELECT t.state, u.name, t.version FROM tasks t JOIN units u ON u.id = t.unit_id WHERE t.code = :c"),
            {"c": code},
        ).one()
    return str(row[0]), str(row[1]), int(row[2])


def form_html(html: str, form_id: str) -> str:
    """The markup of the element with this id up to the end of its form."""
    start = html.index(f'id="{form_id}"')
    return html[start : html.index("</form>", start)]


def error_beside(html: str, form_id: str, field: str) -> str:
    """The error shown right after the field's label in that form ('' when none)."""
    part = form_html(html, form_id)
    at = part.index(f'name="{field}"')
    found = re.match(
        r'[^<]*(?:<(?!/label>)[^<]*)*</label>\s*<p class="field-error" role="alert">([^<]*)</p>', part[at:]
    )
    return found.group(1) if found else ""


def post(c: TestClient, page: str, url: str, **data: str) -> object:
    return c.post(url, data={"csrf": csrf_of(page)} | data)


def to_reviewed(web: Web, code: str) -> None:
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start")
        report_progress(web.server, UNIT_HEAD, code, ProgressInput(100, "已全部修复"))
        fire(web.server, UNIT_HEAD, code, "submit")
    with signed_in_as(DEPUTY):
        fire(web.server, DEPUTY, code, "approve")


# --- 退办 → 改派 / 坚持交办 ----------------------------------------------------------------------------------


def test_the_unit_returns_and_the_lead_leader_reassigns_to_a_unit_chosen_on_the_page(web: Web) -> None:
    code = new_task(web)
    unit = as_(web, UNIT_HEAD)
    page = unit.get(f"/tasks/{code}").text
    assert 'id="form-return"' in page and 'id="form-reassign"' not in page
    before = events_of(web.server, code)
    empty = unit.post(f"/tasks/{code}/step", data={"csrf": csrf_of(page), "trigger": "return", "if_version": "1"})
    assert empty.status_code == 400 and error_beside(empty.text, "form-return", "comment") == "请填写理由"
    assert events_of(web.server, code) == before
    done = post(unit, page, f"/tasks/{code}/step", trigger="return", comment="该路段属城管局管辖", if_version="1")
    assert done.status_code == 200 and "已保存" in done.text  # type: ignore[attr-defined]
    assert task_row(web.server, code)[0] == "returned"

    leader = as_(web, DEPUTY)
    page = leader.get(f"/tasks/{code}").text
    assert "责任单位退办" in page and "该路段属城管局管辖" in page
    choices = re.findall(r"<option ?(?:selected)?>([^<]+)</option>", form_html(page, "form-reassign"))
    assert OTHER_UNIT in choices and UNIT not in choices  # another unit, never its own
    assert 'id="form-insist"' in page
    before = events_of(web.server, code)
    no_unit = post(leader, page, f"/tasks/{code}/move", trigger="reassign", unit="", if_version="2")
    assert no_unit.status_code == 400  # type: ignore[attr-defined]
    assert error_beside(no_unit.text, "form-reassign", "unit") == "请选择单位"  # type: ignore[attr-defined]
    same = post(leader, page, f"/tasks/{code}/move", trigger="reassign", unit=UNIT, if_version="2")
    assert same.status_code == 400  # type: ignore[attr-defined]
    assert "另一单位" in error_beside(same.text, "form-reassign", "unit")  # type: ignore[attr-defined]
    unknown = post(leader, page, f"/tasks/{code}/move", trigger="reassign", unit="不存在的科", if_version="2")
    assert unknown.status_code == 400 and "不存在的科" in error_beside(unknown.text, "form-reassign", "unit")  # type: ignore[attr-defined]
    assert events_of(web.server, code) == before
    moved = post(
        leader,
        page,
        f"/tasks/{code}/move",
        trigger="reassign",
        unit=OTHER_UNIT,
        comment="请阳光社区办理",
        if_version="2",
    )
    assert moved.status_code == 200  # type: ignore[attr-defined]
    assert task_row(web.server, code)[:2] == ("assigned", OTHER_UNIT)
    assert events_of(web.server, code)[-1][1:] == ("reassign", "assigned", f"web:{DEPUTY}")
    timeline = leader.get(f"/tasks/{code}").text
    assert f"{UNIT} → {OTHER_UNIT}" in timeline[timeline.index('class="timeline"') :]
    # the old unit no longer sees the task; the new one may sign for it or return it
    assert unit.get(f"/tasks/{code}").status_code == 404
    new_page = as_(web, OTHER_UNIT_MEMBER).get(f"/tasks/{code}").text
    assert 'id="form-start"' in new_page and 'id="form-return"' in new_page


def test_reassigning_is_the_lead_leaders_and_a_stale_form_writes_nothing(web: Web) -> None:
    code = new_task(web)
    with signed_in_as(UNIT_HEAD):
        from duban.engine.services.transfers import return_task

        return_task(web.server, UNIT_HEAD, code, "不属本科职责")
    unit = as_(web, UNIT_HEAD)
    page = unit.get(f"/tasks/{code}").text
    assert 'id="form-reassign"' not in page and 'id="form-insist"' not in page  # only for the lead leader
    before = events_of(web.server, code)
    refused = post(unit, page, f"/tasks/{code}/move", trigger="reassign", unit=OTHER_UNIT, if_version="2")
    assert refused.status_code == 403 and "责任领导" in refused.text  # type: ignore[attr-defined]
    stranger = as_(web, OTHER_UNIT_MEMBER)
    assert post(stranger, page, f"/tasks/{code}/move", trigger="reassign", unit=OTHER_UNIT).status_code == 403  # type: ignore[attr-defined]
    # (403: the forged form carries another session's token; with its own, the task is not found)
    own = stranger.get("/").text
    hidden = post(stranger, own, f"/tasks/{code}/move", trigger="reassign", unit=OTHER_UNIT, if_version="2")
    assert hidden.status_code == 404  # type: ignore[attr-defined]
    assert events_of(web.server, code) == before

    leader = as_(web, DEPUTY)
    page = leader.get(f"/tasks/{code}").text
    with signed_in_as(DEPUTY):  # meanwhile, from another browser, the leader insists
        insist(web.server, DEPUTY, code, "职责清单明确由社会事务科负责")
    before = events_of(web.server, code)
    stale = post(leader, page, f"/tasks/{code}/move", trigger="reassign", unit=OTHER_UNIT, if_version="2")
    assert stale.status_code == 409 and "已被他人更新" in stale.text and "已交办" in stale.text  # type: ignore[attr-defined]
    assert events_of(web.server, code) == before


def test_after_the_leader_insists_the_unit_cannot_return_it_again(web: Web) -> None:
    code = new_task(web)
    unit = as_(web, UNIT_HEAD)
    page = unit.get(f"/tasks/{code}").text
    post(unit, page, f"/tasks/{code}/step", trigger="return", comment="不属本科职责", if_version="1")
    leader = as_(web, DEPUTY)
    page = leader.get(f"/tasks/{code}").text
    empty = post(leader, page, f"/tasks/{code}/step", trigger="insist", comment="", if_version="2")
    assert error_beside(empty.text, "form-insist", "comment") == "请填写理由"  # type: ignore[attr-defined]
    post(leader, page, f"/tasks/{code}/step", trigger="insist", comment="职责清单明确由本科负责", if_version="2")
    assert task_row(web.server, code)[:2] == ("assigned", UNIT)
    page = unit.get(f"/tasks/{code}").text
    assert 'id="form-return"' not in page and 'id="form-start"' in page  # once only: sign for it now
    before = events_of(web.server, code)
    again = post(unit, page, f"/tasks/{code}/step", trigger="return", comment="仍不属本科", if_version="3")
    assert again.status_code == 400 and "不能再次退办" in again.text  # type: ignore[attr-defined]
    assert events_of(web.server, code) == before


# --- 提请转办 → consent / decline -------------------------------------------------------------------------


def test_a_supervisor_proposes_a_transfer_and_the_lead_leader_declines_then_consents(web: Web) -> None:
    code = new_task(web)
    sup = as_(web, SUPERVISOR, lang="en")
    page = sup.get(f"/tasks/{code}").text
    assert 'id="form-propose_transfer"' in page
    no_reason = post(sup, page, f"/tasks/{code}/move", trigger="propose_transfer", unit=OTHER_UNIT, if_version="1")
    assert no_reason.status_code == 400  # type: ignore[attr-defined]
    assert error_beside(no_reason.text, "form-propose_transfer", "comment") == "give the reason for the transfer"  # type: ignore[attr-defined]
    assert f"<option selected>{OTHER_UNIT}</option>" in no_reason.text  # type: ignore[attr-defined]  # kept
    unit = as_(web, UNIT_HEAD)
    unit_page = unit.get(f"/tasks/{code}").text
    assert 'id="form-propose_transfer"' not in unit_page
    refused = post(unit, unit_page, f"/tasks/{code}/move", trigger="propose_transfer", unit=OTHER_UNIT, comment="x")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    post(
        sup,
        page,
        f"/tasks/{code}/move",
        trigger="propose_transfer",
        unit=OTHER_UNIT,
        comment="问题点位在阳光社区",
        if_version="1",
    )
    page = sup.get(f"/tasks/{code}").text
    assert 'id="form-propose_transfer"' not in page and "Proposed transfer to " + OTHER_UNIT in page  # one at a time

    leader = as_(web, DEPUTY)
    box = leader.get("/").text  # the proposal waits in the lead leader's inbox, with a link to the task
    waiting = box[box.index("待我决定的转办与挂起") :]
    assert (
        f'href="/tasks/{code}"' in waiting and "提请转办至 " + OTHER_UNIT in waiting and "问题点位在阳光社区" in waiting
    )
    page = leader.get(f"/tasks/{code}").text
    assert "提请转办至 " + OTHER_UNIT in page and "问题点位在阳光社区" in page
    decide = form_html(page, "form-transfer-decide")
    assert 'value="transfer"' in decide and 'value="decline_transfer"' in decide
    before = events_of(web.server, code)
    bare = post(leader, page, f"/tasks/{code}/step", trigger="decline_transfer", comment="", if_version="2")
    assert bare.status_code == 400 and "请填写理由" in form_html(bare.text, "form-transfer-decide")  # type: ignore[attr-defined]
    assert events_of(web.server, code) == before
    post(leader, page, f"/tasks/{code}/step", trigger="decline_transfer", comment="仍由本科牵头", if_version="2")
    assert task_row(web.server, code)[:2] == ("assigned", UNIT)
    assert "待我决定的转办与挂起" not in leader.get("/").text  # decided: no longer waiting
    page = leader.get(f"/tasks/{code}").text
    assert 'id="form-transfer-decide"' not in page
    post(
        sup,
        sup.get(f"/tasks/{code}").text,
        f"/tasks/{code}/move",
        trigger="propose_transfer",
        unit=OTHER_UNIT,
        comment="再次提请",
    )
    page = leader.get(f"/tasks/{code}").text
    post(
        leader,
        page,
        f"/tasks/{code}/step",
        trigger="transfer",
        comment="",
        if_version=str(task_row(web.server, code)[2]),
    )
    assert task_row(web.server, code)[:2] == ("assigned", OTHER_UNIT)


# --- 签收, 申请挂起 → 挂起 → 恢复办理 -----------------------------------------------------------------------


def test_sign_for_shows_its_deadline_and_time_and_a_suspension_is_asked_granted_and_resumed(web: Web) -> None:
    code = new_task(web)
    unit = as_(web, UNIT_HEAD)
    page = unit.get(f"/tasks/{code}").text
    source = page[page.index('id="task-source"') :]
    assert "签收时限" in source and "2026-09-09" in source and "未签收" in source  # 2 working days from Monday
    post(unit, page, f"/tasks/{code}/step", trigger="start", if_version="1")
    page = unit.get(f"/tasks/{code}").text
    assert "2026-09-07 09:00" in page[page.index('id="task-source"') :]  # signed for, in Shanghai time
    assert 'id="form-ask_suspension"' in page and 'id="form-suspend"' not in page
    empty = post(unit, page, f"/tasks/{code}/step", trigger="ask_suspension", comment="", if_version="2")
    assert error_beside(empty.text, "form-ask_suspension", "comment") == "请填写理由"  # type: ignore[attr-defined]
    refused = post(unit, page, f"/tasks/{code}/step", trigger="suspend", comment="自己挂起", if_version="2")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    post(unit, page, f"/tasks/{code}/step", trigger="ask_suspension", comment="待市级审批立项", if_version="2")

    leader = as_(web, DEPUTY)
    box = leader.get("/").text
    assert "单位申请挂起" in box[box.index("待我决定的转办与挂起") :]
    page = leader.get(f"/tasks/{code}").text
    assert "责任单位申请挂起" in page and "待市级审批立项" in page and 'id="form-suspend"' in page
    version = str(task_row(web.server, code)[2])
    post(leader, page, f"/tasks/{code}/step", trigger="suspend", comment="同意：待市级审批", if_version=version)
    assert task_row(web.server, code)[0] == "suspended"
    assert "待我决定的转办与挂起" not in leader.get("/").text
    page = leader.get(f"/tasks/{code}").text
    assert "责任单位申请挂起" not in page and 'id="form-resume"' in page
    post(leader, page, f"/tasks/{code}/step", trigger="resume", if_version=str(task_row(web.server, code)[2]))
    assert task_row(web.server, code)[0] == "in_progress"


# --- 复核 ------------------------------------------------------------------------------------------------


def test_a_supervisor_verifies_with_evidence_or_sends_back_and_the_unit_may_not(web: Web) -> None:
    code = new_task(web)
    to_reviewed(web, code)
    unit = as_(web, UNIT_HEAD)
    page = unit.get(f"/tasks/{code}").text
    assert 'id="form-verify"' not in page
    refused = unit.post(
        f"/tasks/{code}/verify", data={"csrf": csrf_of(page), "outcome": "verify", "comment": "自己复核"}
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]

    sup = as_(web, SUPERVISOR)
    page = sup.get(f"/tasks/{code}").text
    form = form_html(page, "form-verify")
    assert 'value="verify"' in form and 'value="send_back"' in form and 'enctype="multipart/form-data"' in form
    before = events_of(web.server, code)
    empty = sup.post(f"/tasks/{code}/verify", data={"csrf": csrf_of(page), "outcome": "send_back", "if_version": "5"})
    assert empty.status_code == 400 and error_beside(empty.text, "form-verify", "comment").startswith(
        "请写明复核了什么"
    )
    bad_file = sup.post(
        f"/tasks/{code}/verify",
        data={"csrf": csrf_of(page), "outcome": "verify", "comment": "现场查看", "if_version": "5"},
        files={"files": ("a.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert bad_file.status_code == 400 and "a.exe" in error_beside(bad_file.text, "form-verify", "files")
    assert events_of(web.server, code) == before
    stale = sup.post(
        f"/tasks/{code}/verify",
        data={"csrf": csrf_of(page), "outcome": "verify", "comment": "现场查看", "if_version": "4"},
    )
    assert stale.status_code == 409 and events_of(web.server, code) == before
    back = sup.post(
        f"/tasks/{code}/verify",
        data={
            "csrf": csrf_of(page),
            "outcome": "send_back",
            "comment": "现场仍有两盏未亮",
            "on_site": "1",
            "if_version": "5",
        },
        files={"files": ("现场.jpg", JPEG, "image/jpeg")},
    )
    assert back.status_code == 200 and task_row(web.server, code)[0] == "in_progress"
    with web.server.db.engine.connect() as conn:
        data = conn.execute(
            text("SELECT e.data FROM events e JOIN tasks t ON t.id = e.task_id WHERE t.code = :c ORDER BY e.seq DESC"),
            {"c": code},
        ).first()
    assert data is not None and "现场.jpg" in str(data[0]) and "on_site" in str(data[0])
    timeline = sup.get(f"/tasks/{code}").text
    timeline = timeline[timeline.index('class="timeline"') :]
    assert "实地复核 · 现场.jpg" in timeline and "现场仍有两盏未亮" in timeline

    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "submit")
    with signed_in_as(DEPUTY):
        fire(web.server, DEPUTY, code, "approve")
    page = sup.get(f"/tasks/{code}").text
    version = str(task_row(web.server, code)[2])
    ok = sup.post(
        f"/tasks/{code}/verify",
        data={"csrf": csrf_of(page), "outcome": "verify", "comment": "书面核对台账，属实", "if_version": version},
    )
    assert ok.status_code == 200 and task_row(web.server, code)[0] == "verified"


# --- source, 督办单, 问责 ---------------------------------------------------------------------------------


def test_the_page_shows_the_source_and_the_instruction_it_came_from(web: Web) -> None:
    with signed_in_as(PRINCIPAL):
        instruction = register_instruction(
            web.server,
            PRINCIPAL,
            leader=PRINCIPAL,
            text="路灯问题要限期解决",
            ref="县委办批件〔2026〕12号",
            issued_on=date(2026, 9, 1),
        )
    code = new_task(
        web,
        source="领导批示",
        source_ref="县委办批件〔2026〕12号",
        source_date=date(2026, 9, 1),
        instruction=instruction,
    )
    c = as_(web, UNIT_HEAD)
    page = c.get(f"/tasks/{code}").text
    source = page[page.index('id="task-source"') :]
    for shown in ("问题来源", "领导批示", "县委办批件〔2026〕12号", "2026-09-01", instruction, "路灯问题要限期解决"):
        assert shown in source, shown
    c.get("/lang/en")
    assert "leader&#39;s instruction" in c.get(f"/tasks/{code}").text


def test_notices_are_replied_to_on_the_page_and_accountability_is_for_those_who_may_see_it(
    web: Web, clock: FixedClock
) -> None:
    code = new_task(web, deadline=date(2026, 9, 11))
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start")
    clock.set(datetime(2026, 9, 24, 10, 0, tzinfo=SH))  # 10 working days overdue: yellow and red notices
    sweep(web.server)
    numbers = [v.notice.number for v in list_notices(web.server, task=code)]
    assert len(numbers) == 2
    with signed_in_as(SUPERVISOR):
        record = open_record(web.server, SUPERVISOR, code, kind="约谈", persons=["张某"], decision="约谈科室负责人")

    unit = as_(web, UNIT_HEAD)
    page = unit.get(f"/tasks/{code}").text
    notices = page[page.index('id="task-notices"') :]
    assert all(n in notices for n in numbers) and "黄色督办单" in notices and "红色督办单" in notices
    assert record.number in page  # the head of the unit concerned sees its 问责
    empty = post(unit, page, f"/tasks/{code}/notice-reply", number=numbers[0], note="")
    assert empty.status_code == 400  # type: ignore[attr-defined]
    assert error_beside(empty.text, "form-reply-2026-1", "note").startswith("请写明反馈内容")  # type: ignore[attr-defined]
    done = post(unit, page, f"/tasks/{code}/notice-reply", number=numbers[0], note="已更换灯具12盏")
    assert done.status_code == 200  # type: ignore[attr-defined]
    page = unit.get(f"/tasks/{code}").text
    assert "已更换灯具12盏" in page and 'id="form-reply-2026-1"' not in page and 'id="form-reply-2026-2"' in page
    again = post(unit, page, f"/tasks/{code}/notice-reply", number=numbers[0], note="再次反馈")
    assert again.status_code == 409 and "不能重复反馈" in again.text  # type: ignore[attr-defined]
    other = new_task(web, title="另一任务")
    wrong_task = post(unit, page, f"/tasks/{other}/notice-reply", number=numbers[1], note="反馈到别的任务")
    assert wrong_task.status_code == 404  # type: ignore[attr-defined]

    sup = as_(web, SUPERVISOR)
    page = sup.get(f"/tasks/{code}").text
    assert record.number in page and "约谈科室负责人" in page and 'id="form-reply-2026-2"' not in page
    refused = post(sup, page, f"/tasks/{code}/notice-reply", number=numbers[1], note="代为反馈")
    assert refused.status_code == 403 and "的人员" in refused.text  # type: ignore[attr-defined]  # beside the notice
    assert [v.reply is not None for v in list_notices(web.server, task=code)] == [True, False]


def test_accountability_is_not_shown_to_a_unit_member_who_is_not_its_head(web: Web, clock: FixedClock) -> None:
    code = new_task(web, deadline=date(2026, 9, 11))
    clock.set(datetime(2026, 9, 24, 10, 0, tzinfo=SH))
    sweep(web.server)
    with signed_in_as(SUPERVISOR):
        record = open_record(web.server, SUPERVISOR, code, kind="约谈", persons=["张某"], decision="约谈")
    own_password(web, MEMBER)
    page = as_(web, MEMBER).get(f"/tasks/{code}").text
    assert 'id="task-notices"' in page and 'id="form-reply-2026-1"' in page  # the unit answers its notices
    assert record.number not in page and 'id="task-accountability"' not in page


# --- the JSON API ------------------------------------------------------------------------------------------


def test_the_api_takes_the_supervision_steps_through_the_same_services(web: Web) -> None:
    code = new_task(web)
    tokens = {}
    for person in (UNIT_HEAD, DEPUTY, SUPERVISOR):
        tokens[person] = accounts.issue_token(web.admin, None, person)
    c = web.client()

    def step(person: str, trigger: str, **body: object) -> object:
        return c.post(
            f"/api/v1/tasks/{code}/{trigger}", json=body, headers={"Authorization": f"Bearer {tokens[person]}"}
        )

    assert step(UNIT_HEAD, "return", comment="不属本科").json()["to"] == "returned"  # type: ignore[attr-defined]
    assert step(DEPUTY, "reassign").status_code == 400  # type: ignore[attr-defined]  # no unit
    assert step(UNIT_HEAD, "reassign", unit=OTHER_UNIT).status_code == 403  # type: ignore[attr-defined]
    stale = step(DEPUTY, "reassign", unit=OTHER_UNIT, if_version=1)
    assert stale.status_code == 409  # type: ignore[attr-defined]
    moved = step(DEPUTY, "reassign", unit=OTHER_UNIT, if_version=2).json()  # type: ignore[attr-defined]
    assert moved == {"code": code, "trigger": "reassign", "from": "returned", "to": "assigned", "version": 3}
    proposed = step(SUPERVISOR, "propose_transfer", unit=UNIT, comment="点位在社会事务科").json()  # type: ignore[attr-defined]
    assert proposed["trigger"] == "propose_transfer"
    assert step(DEPUTY, "transfer").json()["to"] == "assigned"  # type: ignore[attr-defined]
    assert task_row(web.server, code)[1] == UNIT
    to_reviewed(web, code)
    verified = step(SUPERVISOR, "verify", comment="书面核对", on_site=False).json()  # type: ignore[attr-defined]
    assert verified["to"] == "verified"
