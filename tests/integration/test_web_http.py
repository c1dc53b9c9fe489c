"""The web workspace over HTTP (Starlette's TestClient) on real SQLite files, and once on PostgreSQL."""

from __future__ import annotations

import inspect
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.clock import FixedClock
from duban.engine.persistence.models import Record
from duban.engine.services import accounts
from duban.engine.services import inbox as inbox_service
from duban.engine.services.audit import verify
from duban.engine.services.tasks import NewTask, assign, fire
from duban.engine.services.workspace import init_workspace
from duban.web.app import ROUTERS, create_app
from duban.web.serving import own_socket_per_worker
from tests.conftest import DEPUTY, ORG, PRINCIPAL, START, SUPERVISOR, UNIT, UNIT_HEAD
from tests.helpers import connection_of
from tests.web_support import PASSWORD, Web, build_template, csrf_of, make_web, own_password, sign_in, signed_in_as

OTHER_HEAD = "liuxia"  # head of 阳光社区党支部: not 社会事务科
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"photo"


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("web-template"))


@pytest.fixture
def web(web_template: Path, tmp_path: Path) -> Iterator[Web]:
    w = make_web(web_template, tmp_path)
    yield w
    w.close()


def new_task(web: Web, title: str = "路灯损坏", unit: str = UNIT, **more: object) -> str:
    with signed_in_as(PRINCIPAL):
        return assign(
            web.server,
            PRINCIPAL,
            NewTask(title=title, unit=unit, leader=DEPUTY, deadline=date(2026, 10, 9), measures=["排查"], **more),  # type: ignore[arg-type]
        )


def events_of(app: App, code: str) -> list[tuple[int, str, str | None, str | None]]:
    with app.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.seq, e.trigger, e.account, e.via FROM events e JOIN tasks t ON t.id = e.task_id "
                "WHERE t.code = :c ORDER BY e.seq"
            ),
            {"c": code},
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def signin_outcomes(app: App) -> list[str]:
    with app.db.engine.connect() as conn:
        bodies = conn.execute(select(Record.body).where(Record.kind == "signin").order_by(Record.chain_seq)).scalars()
        return [b["outcome"] for b in bodies]


# --- signing in -------------------------------------------------------------------------------------------


def test_sign_in_and_out_are_records_and_the_cookie_is_guarded(web: Web) -> None:
    c = web.client()
    assert c.get("/").url.path == "/signin"  # nobody signed in: to the sign-in page
    page = c.get("/signin")
    reply = c.post(
        "/signin",
        data={"account": UNIT_HEAD, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    cookie = reply.headers["set-cookie"]
    assert "duban_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Max-Age=43200" in cookie and "Secure" not in cookie  # 12 hours; plain http on a test server
    home = c.get("/")
    assert home.status_code == 200 and "我的待办" in home.text and "web:fenglei" in home.text
    c.post("/signout", data={"csrf": csrf_of(home.text)})
    assert c.get("/").url.path == "/signin"
    assert signin_outcomes(web.server)[-2:] == ["ok", "signed_out"]
    with web.server.db.engine.connect() as conn:  # the session is kept only as a hash
        stored = conn.execute(text("SELECT token_hash FROM web_sessions")).scalars().all()
    assert stored and reply.cookies.get("duban_session") not in stored


def test_a_session_ends_on_the_server_after_its_hours(web: Web) -> None:
    c = web.client()
    sign_in(c, UNIT_HEAD)
    assert c.get("/").url.path == "/"
    web.server.clock.advance(timedelta(hours=12, minutes=1))  # type: ignore[attr-defined]
    assert c.get("/").url.path == "/signin"  # the cookie is still sent; the server no longer knows it


def test_a_session_ends_when_its_account_changes_hands(web: Web) -> None:
    """The session's account must still be its person's: given to someone else, or no longer theirs, it signs
    nobody in; given back, the same session works again (the session query decides this on every request)."""
    c = web.client()
    sign_in(c, UNIT_HEAD)
    assert c.get("/").url.path == "/"

    def accounts_of(**people: str | None) -> None:
        with web.server.db.engine.begin() as conn:
            for person, value in people.items():
                conn.execute(text("UPDATE people SET accounts = :a WHERE id = :p"), {"a": value, "p": person})

    accounts_of(fenglei=None, liuxia='["web:liuxia", "web:fenglei"]')  # given to someone else
    assert c.get("/").url.path == "/signin"
    accounts_of(fenglei='["web:fenglei"]', liuxia='["web:liuxia"]')  # given back
    assert c.get("/").url.path == "/"
    accounts_of(fenglei='["web:fenglei_x"]')  # no longer anyone's, and this is not a single desk
    assert c.get("/").url.path == "/signin"
    accounts_of(fenglei='["web:fenglei"]', liuxia='["web:liuxia", "Web:FENGLEI"]')  # like it to SQLite's LIKE only
    assert c.get("/").url.path == "/"


def test_the_cookie_is_secure_behind_https(web_template: Path, tmp_path: Path) -> None:
    w = make_web(web_template, tmp_path, extra={"DUBAN_BASE_URL": "https://duban.example.gov.cn"})
    c = w.client()
    reply = c.post(
        "/signin",
        data={"account": UNIT_HEAD, "password": PASSWORD, "csrf": csrf_of(c.get("/signin").text)},
        follow_redirects=False,
    )
    assert "Secure" in reply.headers["set-cookie"]
    w.close()


def test_a_password_set_by_an_admin_must_be_changed_first(web: Web) -> None:
    accounts.set_password(web.admin, None, UNIT_HEAD, "given-by-admin-1")
    c = web.client()
    first = sign_in(c, UNIT_HEAD, "given-by-admin-1")
    assert first.url.path == "/password" and "首次登录" in first.text
    assert c.get("/").url.path == "/password"  # nothing else until then
    weak = c.post(
        "/password", data={"current": "given-by-admin-1", "new": "short", "again": "short", "csrf": csrf_of(first.text)}
    )
    assert weak.status_code == 400 and "至少需要 10 个字符" in weak.text
    done = c.post(
        "/password",
        data={
            "current": "given-by-admin-1",
            "new": "my-own-secret-7",
            "again": "my-own-secret-7",
            "csrf": csrf_of(first.text),
        },
    )
    assert done.url.path == "/" and "我的待办" in done.text
    assert sign_in(web.client(), UNIT_HEAD, "given-by-admin-1").status_code == 401
    assert sign_in(web.client(), UNIT_HEAD, "my-own-secret-7").url.path == "/"


def test_only_an_admin_sets_someone_elses_password(web: Web) -> None:
    from duban.engine.domain.accounts import NotYours

    with signed_in_as(UNIT_HEAD), pytest.raises(NotYours):
        accounts.set_password(web.server, UNIT_HEAD, OTHER_HEAD, "not-yours-to-set")


def test_sign_in_is_throttled_after_five_failures(web: Web) -> None:
    c = web.client()
    for _ in range(5):
        assert sign_in(c, UNIT_HEAD, "wrong-password!").status_code == 401
    throttled = sign_in(c, UNIT_HEAD)  # even the right password, for the window
    assert throttled.status_code == 429 and "登录失败次数过多" in throttled.text
    # another worker (another app on the same database) agrees: the count is in the database
    other = make_web_client_on_same_db(web)
    assert sign_in(other, UNIT_HEAD).status_code == 429
    assert signin_outcomes(web.server)[-7:] == ["failed"] * 5 + ["throttled", "throttled"]
    web.server.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    assert sign_in(c, UNIT_HEAD).url.path == "/"


def make_web_client_on_same_db(web: Web):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    second = App.build(web.server.settings, clock=web.server.clock)
    second.account = web.server.account
    return TestClient(create_app(engine=second), follow_redirects=True)


def test_an_unknown_name_fails_like_a_wrong_password(web: Web) -> None:
    c = web.client()
    nobody, wrong = sign_in(c, "nobody-at-all"), sign_in(c, UNIT_HEAD, "wrong-password!")
    assert nobody.status_code == wrong.status_code == 401
    assert "账号或密码不正确" in nobody.text and "账号或密码不正确" in wrong.text


def test_forms_without_the_csrf_token_are_refused(web: Web) -> None:
    code = new_task(web)
    c = web.client()
    assert c.post("/signin", data={"account": UNIT_HEAD, "password": PASSWORD}).status_code == 403
    sign_in(c, UNIT_HEAD)
    before = events_of(web.server, code)
    for token in (None, "forged-token"):
        data = {"trigger": "start", "if_version": "1"} | ({"csrf": token} if token else {})
        assert c.post(f"/tasks/{code}/step", data=data).status_code == 403
    assert events_of(web.server, code) == before


def test_every_form_is_refused_without_its_csrf_token(web: Web) -> None:
    """A signed-in browser's token is checked when the view reads the session: every POST page must, so
    each is tried here without a token and with a forged one, and nothing may be written."""
    from fastapi.routing import APIRoute

    from duban.web.app import ROUTERS

    code = new_task(web)
    c = web.client()
    sign_in(c, PRINCIPAL)
    before = (events_of(web.server, code), signin_outcomes(web.server))
    posts = [
        r.path
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and "POST" in r.methods and not (router.prefix or r.path).startswith("/api")
    ]
    assert len(posts) >= 12
    for path in posts:
        url = path.replace("{code}", code)
        for token in (None, "forged-token"):
            data = {"trigger": "start", "if_version": "1", "percent": "50", "note": "x", "account": PRINCIPAL}
            answer = c.post(url, data=data | ({"csrf": token} if token else {}))
            assert answer.status_code == 403, (url, token, answer.status_code)
    assert (events_of(web.server, code), signin_outcomes(web.server)) == before


# --- what one may see -------------------------------------------------------------------------------------


def test_another_units_task_and_its_evidence_are_not_found(web: Web, tmp_path: Path) -> None:
    code = new_task(web, title="机密标题：仅本单位可见")
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(JPEG)
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start")
        from duban.engine.services.tasks import ProgressInput, report_progress

        report_progress(web.server, UNIT_HEAD, code, ProgressInput(50, "已排查", (photo,)))
    import hashlib

    digest = hashlib.sha256(JPEG).hexdigest()
    mine, theirs = web.client(), web.client()
    sign_in(mine, UNIT_HEAD)
    sign_in(theirs, OTHER_HEAD)
    assert mine.get(f"/tasks/{code}").status_code == 200
    assert mine.get(f"/evidence/{digest}").content == JPEG
    page = theirs.get(f"/tasks/{code}")
    assert page.status_code == 404 and "机密标题" not in page.text
    assert theirs.get(f"/evidence/{digest}").status_code == 404
    missing = theirs.get("/tasks/ZG-2026-9999")
    assert missing.status_code == 404 and missing.text.replace("9999", "0001") == page.text.replace(
        code, "ZG-2026-0001"
    )
    step = theirs.post(f"/tasks/{code}/step", data={"trigger": "submit", "csrf": csrf_of(theirs.get("/").text)})
    assert step.status_code == 404 and "机密标题" not in step.text
    assert "机密标题" not in theirs.get("/").text
    overseer = web.client()
    sign_in(overseer, SUPERVISOR)
    assert overseer.get(f"/tasks/{code}").status_code == 200


def test_a_co_unit_sees_the_task(web: Web) -> None:
    code = new_task(web, co_units=["阳光社区党支部"])
    c = web.client()
    sign_in(c, OTHER_HEAD)
    assert c.get(f"/tasks/{code}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/evidence/..%2F..%2F..%2Fetc%2Fpasswd",
        "/evidence/../../etc/passwd",
        "/evidence/" + "A" * 64,
        "/evidence/" + "0" * 63,
        "/evidence/" + "0" * 64,
        "/evidence/%2e%2e%2f" + "0" * 58,
    ],
)
def test_evidence_paths_cannot_leave_the_store(web: Web, path: str) -> None:
    c = web.client()
    sign_in(c, SUPERVISOR)
    reply = c.get(path)
    assert reply.status_code == 404 and "root:" not in reply.text


def test_script_in_a_title_or_note_is_shown_as_text(web: Web) -> None:
    code = new_task(web, title="<script>alert('标题')</script>")
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start", comment="<img src=x onerror=alert(1)>")
    c = web.client()
    sign_in(c, UNIT_HEAD)
    for page in (c.get(f"/tasks/{code}").text, c.get("/").text):
        assert "<script>alert(" not in page and "&lt;script&gt;alert(" in page
    assert "<img src=x" not in c.get(f"/tasks/{code}").text


# --- steps on the task page -------------------------------------------------------------------------------


def test_a_step_through_the_web_records_the_signed_in_account_and_verifies(web: Web) -> None:
    code = new_task(web)
    c = web.client()
    sign_in(c, UNIT_HEAD)
    page = c.get(f"/tasks/{code}")
    assert 'value="start"' in page.text and 'value="approve"' not in page.text  # only the steps one may take
    done = c.post(f"/tasks/{code}/step", data={"trigger": "start", "if_version": "1", "csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "已保存" in done.text
    assert events_of(web.server, code)[-1] == (2, "start", "os:duban-web", "web:fenglei")
    verdict = verify(web.admin)
    assert verdict.ok, verdict.breaks


def test_a_stale_form_writes_nothing_and_shows_the_task_as_it_is(web: Web) -> None:
    code = new_task(web)
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start")
    c = web.client()
    sign_in(c, DEPUTY)
    page = c.get(f"/tasks/{code}")
    with signed_in_as(PRINCIPAL):  # someone else acts while the page stands open
        fire(web.server, PRINCIPAL, code, "cancel", comment="合并到另一任务")
    before = events_of(web.server, code)
    stale = c.post(
        f"/tasks/{code}/step",
        data={"trigger": "cancel", "comment": "重复", "if_version": "2", "csrf": csrf_of(page.text)},
    )
    assert stale.status_code == 409 and "已被他人更新" in stale.text and "已撤销" in stale.text
    assert events_of(web.server, code) == before


def test_a_reject_needs_a_reason_shown_by_its_field(web: Web) -> None:
    code = new_task(web)
    with signed_in_as(UNIT_HEAD):
        from duban.engine.services.tasks import ProgressInput, report_progress

        fire(web.server, UNIT_HEAD, code, "start")
        report_progress(web.server, UNIT_HEAD, code, ProgressInput(100, "完成"))
        fire(web.server, UNIT_HEAD, code, "submit")
    c = web.client()
    sign_in(c, DEPUTY)
    page = c.get(f"/tasks/{code}")
    before = events_of(web.server, code)
    refused = c.post(
        f"/tasks/{code}/step", data={"trigger": "reject", "comment": "", "if_version": "4", "csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 400 and 'class="field-error" role="alert">请填写理由' in refused.text
    assert events_of(web.server, code) == before
    c.get("/lang/en")
    english = c.post(f"/tasks/{code}/step", data={"trigger": "reject", "if_version": "4", "csrf": csrf_of(page.text)})
    assert "a reason is required" in english.text


def test_progress_with_a_photo_and_the_upload_limits(web_template: Path, tmp_path: Path) -> None:
    w = make_web(web_template, tmp_path, extra={"DUBAN_WEB_MAX_UPLOAD_MB": "0.01"})  # 10 KB
    code = new_task(w)
    with signed_in_as(UNIT_HEAD):
        fire(w.server, UNIT_HEAD, code, "start")
    c = w.client()
    sign_in(c, UNIT_HEAD)
    token = csrf_of(c.get(f"/tasks/{code}").text)
    form = {"percent": "60", "note": "已完成排查", "if_version": "2", "csrf": token}
    before = events_of(w.server, code)
    big = c.post(
        f"/tasks/{code}/progress",
        data=form,
        files=[("files", ("大图.jpg", io.BytesIO(JPEG + b"\x00" * 20_000), "image/jpeg"))],
    )
    assert big.status_code == 400 and "超过" in big.text and "已完成排查" in big.text  # the note is kept
    fake = c.post(
        f"/tasks/{code}/progress",
        data=form,
        files=[("files", ("photo.jpg", io.BytesIO(b"#!/bin/sh\nrm -rf /"), "image/jpeg"))],
    )
    assert fake.status_code == 400 and "类型不被接受" in fake.text
    exe = c.post(
        f"/tasks/{code}/progress",
        data=form,
        files=[("files", ("tool.exe", io.BytesIO(b"MZ" + b"\x00" * 10), "application/octet-stream"))],
    )
    assert exe.status_code == 400
    bad_percent = c.post(f"/tasks/{code}/progress", data=form | {"percent": "150"})
    assert bad_percent.status_code == 400 and "0 到 100" in bad_percent.text
    assert events_of(w.server, code) == before and not (tmp_path / "evidence").exists()
    ok = c.post(
        f"/tasks/{code}/progress", data=form, files=[("files", ("现场照片.jpg", io.BytesIO(JPEG), "image/jpeg"))]
    )
    assert ok.status_code == 200 and "现场照片.jpg" in ok.text and "60%" in ok.text
    assert events_of(w.server, code)[-1][1:] == ("progress", "os:duban-web", "web:fenglei")
    w.close()


def test_extension_asked_and_granted_on_the_page(web: Web) -> None:
    code = new_task(web)
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start")
    unit, leader = web.client(), web.client()
    sign_in(unit, UNIT_HEAD)
    sign_in(leader, DEPUTY)
    page = unit.get(f"/tasks/{code}")
    missing = unit.post(
        f"/tasks/{code}/extend", data={"to": "", "reason": "", "if_version": "2", "csrf": csrf_of(page.text)}
    )
    assert missing.status_code == 400 and "请填写新的整改时限" in missing.text and "请说明延期理由" in missing.text
    asked = unit.post(
        f"/tasks/{code}/extend",
        data={"to": "2026-11-30", "reason": "材料采购周期长", "if_version": "2", "csrf": csrf_of(page.text)},
    )
    assert asked.status_code == 200
    inbox = leader.get("/")
    assert "待审批的延期申请" in inbox.text and "材料采购周期长" in inbox.text
    decide = leader.get(f"/tasks/{code}")
    request_id = decide.text.split('name="request" value="')[1].split('"')[0]
    granted = leader.post(
        f"/tasks/{code}/extension",
        data={"request": request_id, "decision": "grant", "if_version": "3", "csrf": csrf_of(decide.text)},
    )
    assert granted.status_code == 200 and "2026-11-30" in granted.text


def test_the_inbox_puts_red_first_and_supervisors_remind(web_template: Path, tmp_path: Path) -> None:
    clock = FixedClock(START)
    w = make_web(web_template, tmp_path, clock=clock)
    late = new_task(w, title="逾期任务")
    with signed_in_as(PRINCIPAL):
        fresh = assign(
            w.server, PRINCIPAL, NewTask(title="新任务", unit=UNIT, leader=DEPUTY, deadline=date(2026, 12, 31))
        )
    clock.advance(timedelta(days=40))
    unit = w.client()
    sign_in(unit, UNIT_HEAD)
    text_ = unit.get("/").text
    assert text_.index("逾期任务") < text_.index("新任务") and "红灯 1" in text_
    sup = w.client()
    sign_in(sup, SUPERVISOR)
    home = sup.get("/")
    assert "<h2>逾期任务 (1)</h2>" in home.text and f'hx-post="/tasks/{late}/remind"' in home.text
    with pytest.MonkeyPatch.context() as patch:  # past the cap the heading says so, as the ledger's count does
        patch.setattr(inbox_service, "OVERDUE_CAP", 0)
        assert "<h2>逾期任务 (超过 0)</h2>" in sup.get("/").text
    assert f'hx-post="/tasks/{fresh}/remind"' not in home.text
    # The lead leader of both: suspending or transferring them is always at hand, so neither is a to-do, but the
    # overdue one is named under the tasks they lead, with its 催办.
    lead = w.client()
    sign_in(lead, DEPUTY)
    theirs = lead.get("/").text
    assert "<h2>我牵头的逾期任务 (1)</h2>" in theirs and f'hx-post="/tasks/{late}/remind"' in theirs
    assert "<h2>现在可办 (0)</h2>" in theirs and fresh not in theirs
    # 代理: whoever stands in for the lead leader sees those overdue tasks too, in the block of the one away
    from duban.engine.services.substitutes import decide_substitution, request_substitution

    today = w.server.clock.now().astimezone(w.server.tz).date()
    with signed_in_as(DEPUTY):
        sub = request_substitution(
            w.server, DEPUTY, substitute="chenjing", starts_on=today, ends_on=today, reason="培训"
        )
    with signed_in_as(PRINCIPAL):
        decide_substitution(w.server, PRINCIPAL, sub, approve=True)
    own_password(w, "chenjing")
    stand_in = w.client()
    sign_in(stand_in, "chenjing")
    block = stand_in.get("/").text.split('class="card substitute"')[1]
    assert "其牵头的逾期任务 (1)" in block and late in block and "hx-post" not in block
    reminded = sup.post(f"/tasks/{late}/remind", data={"csrf": csrf_of(home.text)}, headers={"HX-Request": "true"})
    assert reminded.status_code == 200 and "已催办" in reminded.text
    assert events_of(w.server, late)[-1][1:] == ("remind", "os:duban-web", "web:huangtao")
    w.close()


def test_error_pages_show_no_trace(web: Web) -> None:
    c = web.client()
    sign_in(c, UNIT_HEAD)
    c.app.state.duban.registry = None  # type: ignore[attr-defined]  # any page now fails inside the engine
    from fastapi.testclient import TestClient

    raw = TestClient(c.app, raise_server_exceptions=False, cookies=c.cookies)
    reply = raw.get("/")
    assert reply.status_code == 500 and "Traceback" not in reply.text and "服务器内部错误" in reply.text


# --- the JSON API -----------------------------------------------------------------------------------------


def test_the_api_has_the_clis_keys_and_the_same_rules(web: Web) -> None:
    code = new_task(web)
    other = new_task(web, title="别的单位的任务", unit="阳光社区党支部")
    token = accounts.issue_token(web.admin, None, UNIT_HEAD)
    c = web.client()
    assert c.get("/api/v1/tasks").status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    listed = c.get("/api/v1/tasks", headers=auth).json()
    assert [t["code"] for t in listed] == [code]
    assert set(listed[0]) >= {
        "code",
        "title",
        "workflow",
        "state",
        "state_label",
        "unit",
        "leader",
        "leader_name",
        "deadline",
        "version",
        "updated_at",
    }
    assert c.get(f"/api/v1/tasks/{other}", headers=auth).status_code == 404
    shown = c.get(f"/api/v1/tasks/{code}", headers=auth).json()
    assert shown["allowed"] == ["start", "cancel", "extend"] or "start" in shown["allowed"]
    assert {"events", "progress", "measures", "co_units"} <= set(shown)
    moved = c.post(f"/api/v1/tasks/{code}/start", headers=auth, json={"if_version": 1}).json()
    assert moved == {"code": code, "trigger": "start", "from": "assigned", "to": "in_progress", "version": 2}
    stale = c.post(f"/api/v1/tasks/{code}/submit", headers=auth, json={"if_version": 1})
    assert stale.status_code == 409
    c.post(f"/api/v1/tasks/{code}/cancel", headers=auth, json={"comment": "重复"})  # not the unit's to take
    refused = c.post(f"/api/v1/tasks/{code}/cancel", headers=auth, json={"comment": "重复"})
    assert refused.status_code == 403 and "无权" in refused.json()["error"]
    assert c.get("/api/openapi.json").json()["paths"]["/api/v1/tasks"]
    docs = c.get("/api/docs")
    assert docs.status_code == 200 and "/api/v1/tasks/{code}" in docs.text
    assert "cdn" not in docs.text.lower() and "<script" not in docs.text  # served from here, nothing fetched
    with web.server.db.engine.connect() as conn:
        assert token not in conn.execute(text("SELECT token_hash FROM web_api_tokens")).scalars().all()
    assert verify(web.admin).ok


# --- serve refuses a server account that is not a service's -----------------------------------------------


def test_serve_refuses_an_account_that_is_not_a_service(web_template: Path, tmp_path: Path) -> None:
    from tests.integration.test_cli import duban

    db = tmp_path / "duban.db"
    import shutil

    shutil.copy(web_template, db)
    result = duban("--db", str(db), "serve", "--port", "1")
    assert result.returncode == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "init --service-account os:" in lines[0]


def test_each_worker_runs_a_few_views_at_once(web_template: Path, tmp_path: Path) -> None:
    """DUBAN_WEB_THREADS bounds the threads sync views run in (anyio's pool is 40), set in the serving loop."""
    import anyio.to_thread

    def tokens(folder: Path, extra: dict[str, str]) -> int:
        folder.mkdir()
        web = make_web(web_template, folder, extra)
        try:
            with TestClient(create_app(engine=web.server)) as client:  # as a context: the lifespan runs
                assert client.get("/healthz").status_code == 200
                return int(client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens))
        finally:
            web.close()

    assert tokens(tmp_path / "default", {}) == 2
    assert tokens(tmp_path / "six", {"DUBAN_WEB_THREADS": "6"}) == 6


@pytest.mark.parametrize("value", ["0", "lots", "65"])
def test_serve_refuses_a_bad_thread_count_in_one_line(tmp_path: Path, value: str) -> None:
    from tests.integration.test_cli import ENV, duban

    db = serve_workspace(tmp_path)
    result = duban("--db", str(db), "serve", "--port", "1", env={**ENV, "DUBAN_WEB_THREADS": value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DUBAN_WEB_THREADS" in lines[0] and "1" in lines[0] and "64" in lines[0], lines
    option = duban("--db", str(db), "serve", "--port", "1", "--threads", "0")
    assert option.returncode == 2 and "--threads" in option.stderr


def serve_workspace(folder: Path) -> Path:
    """A single-desk workspace, as ``duban serve`` may serve it, with UNIT_HEAD's password set."""
    db = folder / "duban.db"
    app = App.build(Settings(database_url=str(db)), clock=FixedClock(START))
    init_workspace(app, ORG, single_desk=True)
    accounts.set_password(app, UNIT_HEAD, UNIT_HEAD, PASSWORD)
    app.close()
    return db


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(db: Path, port: int, workers: int = 2) -> Iterator[subprocess.Popen[bytes]]:
    """``duban serve --workers N`` as a county runs it, answering /healthz; stopped (SIGTERM) after."""
    import httpx

    from tests.integration.test_cli import ENV

    argv = ["serve", "--port", str(port), "--workers", str(workers), "--db", str(db)]
    server = subprocess.Popen(
        [sys.executable, "-c", "from duban.cli.main import run; run()", *argv],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(300):  # up to a minute for the workers to import and open the file
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_with_two_workers_takes_sixteen_concurrent_steps_on_sqlite(tmp_path: Path) -> None:
    """``duban serve --workers 2`` as a county runs it, on one SQLite file: 16 people's steps at the same
    moment, on 16 tasks, through both worker processes. WAL, the busy timeout and BEGIN IMMEDIATE make the
    writers queue: every step is taken (its 303), none is refused with a locked database, and the chain
    verifies after."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    db = serve_workspace(tmp_path)
    app = App.build(Settings(database_url=str(db)), clock=FixedClock(START))
    codes = [new_task(Web(app, app, tmp_path), title=f"并发任务{i}") for i in range(16)]
    app.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(db, port):
        with httpx.Client(base_url=base) as c:
            page = c.get("/signin")
            c.post("/signin", data={"account": UNIT_HEAD, "password": PASSWORD, "csrf": csrf_of(page.text)})
            cookies, csrf = dict(c.cookies), csrf_of(c.get(f"/tasks/{codes[0]}").text)

        def step(code: str) -> int:
            with httpx.Client(base_url=base, cookies=cookies) as c:  # one connection each: both workers serve
                return c.post(f"/tasks/{code}/step", data={"trigger": "start", "csrf": csrf}).status_code

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(step, codes))
    assert answers == [303] * 16
    after = App.build(Settings(database_url=str(db)), clock=FixedClock(START))
    try:
        assert all(events_of(after, code)[-1][1] == "start" for code in codes)
        assert verify(after).ok
    finally:
        after.close()


def tcp_sockets_on(port: int) -> dict[int, str]:
    """The TCP sockets on local port ``port`` (inode -> state: 0A listening, 01 established), from /proc."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                found[int(fields[9])] = fields[3]
    return found


def socket_inodes_of(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def workers_of(parent: int, port: int) -> dict[int, tuple[set[int], int]]:
    """The parent's children that listen on ``port``: pid -> (their listening sockets, connections they hold)."""
    sockets = tcp_sockets_on(port)
    workers = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, ppid = int(stat.parent.name), int(stat.read_text().rsplit(")", 1)[1].split()[1])
            held = socket_inodes_of(pid) if ppid == parent else set()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        listening = {i for i in held if sockets.get(i) == "0A"}
        if listening:
            workers[pid] = (listening, sum(1 for i in held if sockets.get(i) == "01"))
    return workers


def wait_for(what: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.2)


@pytest.mark.skipif(not own_socket_per_worker(), reason="SO_REUSEPORT groups are Linux's")
def test_serve_spreads_connections_over_its_workers_each_on_a_socket_of_its_own(tmp_path: Path) -> None:
    """24 keep-alive connections opened at once land on both workers (on one shared socket, the first worker
    awake took them all), each worker on its own socket; a killed worker's replacement and the workers after a
    SIGHUP restart listen on the same sockets; SIGTERM stops the parent and its workers."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    db, port = serve_workspace(tmp_path), free_port()
    with serving(db, port) as server:
        wait_for(lambda: len(workers_of(server.pid, port)) == 2)  # both listening: no connection waits for one
        before = workers_of(server.pid, port)
        assert [len(listening) for listening, _ in before.values()] == [1, 1]
        group = set().union(*(listening for listening, _ in before.values()))
        assert len(group) == 2

        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(24)]
        for c in connections:
            c.connect()

        def get(c: http.client.HTTPConnection) -> int:
            c.request("GET", "/signin")
            answer = c.getresponse()
            answer.read()
            return answer.status

        with ThreadPoolExecutor(24) as pool:
            assert list(pool.map(get, connections)) == [200] * 24
        held = [count for _, count in workers_of(server.pid, port).values()]
        assert sum(held) == 24 and min(held) > 0, held
        for c in connections:
            c.close()

        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in (now := workers_of(server.pid, port)) and len(now) == 2)
        replaced = workers_of(server.pid, port)
        assert set().union(*(listening for listening, _ in replaced.values())) == group

        server.send_signal(signal.SIGHUP)  # each worker replaced by a new one on its socket
        wait_for(lambda: len(now := workers_of(server.pid, port)) == 2 and not now.keys() & replaced.keys())
        restarted = workers_of(server.pid, port)
        assert sorted(min(listening) for listening, _ in restarted.values()) == sorted(group)

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in restarted)


def test_serve_refuses_a_taken_port_in_one_line(tmp_path: Path) -> None:
    import socket

    from tests.integration.test_cli import duban

    db = serve_workspace(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        result = duban("--db", str(db), "serve", "--workers", "2", "--port", str(holder.getsockname()[1]))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("duban: error: cannot listen on 127.0.0.1:"), lines


# --- PostgreSQL -------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_web_step_on_postgresql_carries_via_and_verifies(pg_url: str, tmp_path: Path) -> None:
    server = App.build(Settings(database_url=pg_url, evidence_dir=tmp_path / "ev"), clock=FixedClock(START))
    init_workspace(server, ORG, single_desk=True)
    w = Web(server, server, tmp_path)
    own_password(w, UNIT_HEAD)
    code = new_task(w)
    c = w.client()
    sign_in(c, UNIT_HEAD)
    page = c.get(f"/tasks/{code}")
    done = c.post(f"/tasks/{code}/step", data={"trigger": "start", "if_version": "1", "csrf": csrf_of(page.text)})
    assert done.status_code == 200
    seq, trigger, account, via = events_of(server, code)[-1]
    assert (trigger, via) == ("start", "web:fenglei") and account.startswith("pg:")
    assert signin_outcomes(server)[-1] == "ok"
    assert verify(server).ok
    server.close()


def test_the_api_lists_a_page_at_a_time(web: Web) -> None:
    """The API's list is bounded like `duban list`: `limit`, and the next page's `after` in X-Next-After."""
    codes = [new_task(web, title=f"问题{i}") for i in range(5)]
    token = accounts.issue_token(web.admin, None, UNIT_HEAD)
    c = web.client()
    auth = {"Authorization": f"Bearer {token}"}
    first = c.get("/api/v1/tasks", params={"limit": 2}, headers=auth)
    assert [t["code"] for t in first.json()] == codes[:2] and first.headers["X-Next-After"] == codes[1]
    second = c.get("/api/v1/tasks", params={"limit": 2, "after": codes[1]}, headers=auth)
    assert [t["code"] for t in second.json()] == codes[2:4]
    last = c.get("/api/v1/tasks", params={"limit": 2, "after": codes[3]}, headers=auth)
    assert [t["code"] for t in last.json()] == codes[4:] and "X-Next-After" not in last.headers
    assert c.get("/api/v1/tasks", params={"limit": 0}, headers=auth).status_code in (400, 422)


def test_an_admin_resets_a_password_from_the_admin_page(web: Web) -> None:
    """The web path for a forgotten password: a temporary one shown once to the admin, every browser of that
    account signed out, and a forced change at the next sign-in; nobody else may do it."""
    admin = "zhouqiang"
    own_password(web, admin)
    them = web.client()
    sign_in(them, UNIT_HEAD)
    assert them.get("/").url.path == "/"
    outsider = web.client()
    sign_in(outsider, OTHER_HEAD)
    page = outsider.get("/")
    assert outsider.post(f"/admin/accounts/{UNIT_HEAD}/reset", data={"csrf": csrf_of(page.text)}).status_code == 403
    c = web.client()
    sign_in(c, admin)
    home = c.get("/admin")
    assert f'action="/admin/accounts/{UNIT_HEAD}/reset"' in home.text
    done = c.post(f"/admin/accounts/{UNIT_HEAD}/reset", data={"csrf": csrf_of(home.text)})
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    import re

    temporary = re.search(r'id="temporary-password">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    assert them.get("/").url.path == "/signin"  # their browser was signed out
    assert sign_in(web.client(), UNIT_HEAD).status_code == 401  # the old password is gone
    fresh = web.client()
    assert sign_in(fresh, UNIT_HEAD, temporary).url.path == "/password"  # must choose their own first
    assert "password_set" in signin_outcomes(web.server)
    assert verify(web.server).ok


WEB_ROLE = "duban_test_web"


@pytest.mark.postgres
def test_a_web_step_on_postgresql_through_the_service_role_with_operator_checks(pg_url: str, tmp_path: Path) -> None:
    """Not a single desk: every account is checked. The server logs in as its own role with the grants of
    docs/web.md, registered as a service account; a step taken in the browser is stamped with that role by
    the database and carries the signed-in web account as ``via``, and ``audit verify`` passes afterwards."""
    from sqlalchemy import create_engine

    from tests.conftest import PG_URL
    from tests.integration.test_audit import org_with_accounts

    schema = pg_url.split("search_path%3D")[1]
    admin_engine = create_engine(PG_URL)
    with admin_engine.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": WEB_ROLE}).scalar():
            conn.execute(text(f"CREATE ROLE {WEB_ROLE} LOGIN"))
    org = org_with_accounts(tmp_path, {"clerk": "pg:postgres", "fenglei": "web:fenglei", "zhouqiang": "os:zhouqiang"})
    owner = App.build(Settings(database_url=pg_url, evidence_dir=tmp_path / "ev"), clock=FixedClock(START))
    init_workspace(owner, org, service_account=f"pg:{WEB_ROLE}")
    with admin_engine.begin() as conn:  # a person's grants (docs/accountability.md) and the web tables (docs/web.md)
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {WEB_ROLE}'))
        conn.execute(text(f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "{schema}" TO {WEB_ROLE}'))
        conn.execute(text(f'GRANT UPDATE ON "{schema}".tasks, "{schema}".chain_head TO {WEB_ROLE}'))
        conn.execute(text(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {WEB_ROLE}'))
        conn.execute(
            text(
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{schema}".web_sessions, "{schema}".web_signin_attempts, '
                f'"{schema}".web_credentials TO {WEB_ROLE}'
            )
        )
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE ON "{schema}".web_api_tokens TO {WEB_ROLE}'))
    server = App.build(
        Settings(database_url=pg_url.replace("postgres@", f"{WEB_ROLE}@"), evidence_dir=tmp_path / "ev"),
        clock=FixedClock(START),
    )
    try:
        assert accounts.check_may_serve(server) == f"pg:{WEB_ROLE}"
        w = Web(server, owner, tmp_path)
        # the clerk (pg:postgres) records the principal's assignment from a terminal: no web account involved
        code = assign(owner, PRINCIPAL, NewTask(title="路灯损坏", unit=UNIT, leader=DEPUTY, deadline=date(2026, 10, 9)))
        own_password(w, UNIT_HEAD)
        c = w.client()
        assert sign_in(c, UNIT_HEAD).url.path == "/"
        page = c.get(f"/tasks/{code}")
        done = c.post(f"/tasks/{code}/step", data={"trigger": "start", "if_version": "1", "csrf": csrf_of(page.text)})
        assert done.status_code == 200 and done.url.path == f"/tasks/{code}"
        assert events_of(owner, code)[-1][1:] == ("start", f"pg:{WEB_ROLE}", "web:fenglei")
        with owner.db.engine.connect() as conn:
            stamped = conn.execute(
                select(Record.account, Record.via).where(Record.kind == "signin").order_by(Record.chain_seq)
            ).all()
        assert stamped[-1] == (f"pg:{WEB_ROLE}", "web:fenglei")  # the sign-in, as the database stamped it
        report = verify(owner)
        assert report.ok, report.breaks
    finally:
        server.close()
        owner.close()
        with admin_engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {WEB_ROLE}"))
        admin_engine.dispose()


def test_the_inbox_is_a_page_with_a_next_link(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    from duban.engine.services import inbox as inbox_service

    monkeypatch.setattr(inbox_service, "PAGE", 1)
    first_code, second_code = new_task(web, title="第一件"), new_task(web, title="第二件")
    c = web.client()
    sign_in(c, UNIT_HEAD)
    first = c.get("/")
    assert first.status_code == 200 and "现在可办 (2)" in first.text
    import re

    link = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert link is not None
    second = c.get(link.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and 'rel="next"' not in second.text
    shown = {code for code in (first_code, second_code) if f"/tasks/{code}" in first.text}
    shown_next = {code for code in (first_code, second_code) if f"/tasks/{code}" in second.text}
    assert len(shown) == len(shown_next) == 1 and shown | shown_next == {first_code, second_code}
    assert c.get("/?after=not-a-cursor").status_code == 400  # a damaged link is refused, not obeyed


def test_a_substitute_takes_the_absent_leaders_step_on_the_task_page(web: Web) -> None:
    """代理 on the web: the inbox shows the absent leader's work; the task page offers their steps; the step
    records both names and verifies."""
    from duban.engine.services.substitutes import decide_substitution, request_substitution
    from duban.engine.services.tasks import ProgressInput, report_progress

    code = new_task(web)
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start")
        report_progress(web.server, UNIT_HEAD, code, ProgressInput(100, "已完成"))
        fire(web.server, UNIT_HEAD, code, "submit")
    with signed_in_as(DEPUTY):
        sub = request_substitution(
            web.server, DEPUTY, substitute="chenjing", starts_on=START.date(), ends_on=START.date(), reason="培训"
        )
    with signed_in_as(PRINCIPAL):
        decide_substitution(web.server, PRINCIPAL, sub, approve=True)
    own_password(web, "chenjing")
    c = web.client()
    sign_in(c, "chenjing")
    assert sub in c.get("/").text and code in c.get("/").text
    page = c.get(f"/tasks/{code}")
    assert 'action="/tasks/' + code + '/step-for"' in page.text and 'name="for" value="zhangwei"' in page.text
    done = c.post(
        f"/tasks/{code}/step-for",
        data={"for": DEPUTY, "trigger": "approve", "if_version": "4", "csrf": csrf_of(page.text)},
    )
    assert done.status_code == 200 and "已保存" in done.text and "陈静 代 张伟" in done.text
    with web.server.uow(write=False) as uow:
        actor, operator = (
            connection_of(uow).execute(text("SELECT actor_id, operator_id FROM events ORDER BY id DESC LIMIT 1")).one()
        )
    assert (actor, operator) == (DEPUTY, "chenjing")
    refused = c.post(
        f"/tasks/{code}/step-for",
        data={"for": "wangjun", "trigger": "close", "if_version": "5", "csrf": csrf_of(page.text)},
    )
    assert refused.status_code in (403, 404)
    verdict = verify(web.admin)
    assert verdict.ok, verdict.breaks


def test_only_the_short_reads_run_on_the_event_loop(web: Web) -> None:
    app = create_app(engine=web.server)
    assert app.state.pages_on_loop is (web.server.db.dialect == "sqlite")
    marked = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and hasattr(route.endpoint, "__wrapped__")  # web/on_loop.py's quick_page
        for method in route.methods
    }
    assert marked == {("GET", "/"), ("GET", "/ledger"), ("GET", "/tasks/{code}")}
    assert all(
        inspect.iscoroutinefunction(r.endpoint)
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and hasattr(r.endpoint, "__wrapped__")
    )


@pytest.mark.parametrize("path", ["/", "/ledger", "/units/社会事务科"])
def test_the_marked_pages_still_send_a_stranger_to_sign_in(web: Web, path: str) -> None:
    reply = web.client().get(path, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/signin")
