"""A real browser (chromium via Playwright) through the assign form, the ledger, the unit board and the
circulars, as a leader and a supervisor, and through the task page's 退办 → 改派 and 挂起; screenshots at 1280 and 375 px (tests/artifacts/browser/, gitignored).

The server, the browser launch and the screenshot helper are those of tests/e2e/test_web_browser.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress, resolve_deadline
from tests.conftest import DEPUTY, OTHER_UNIT_MEMBER, PRINCIPAL, SUPERVISOR, UNIT, UNIT_HEAD
from tests.e2e.test_web_browser import CHROMIUM, Person, playwright_api, served  # noqa: F401  (fixtures)
from tests.web_support import ADMIN, Web, signed_in_as

OTHER_UNIT = "阳光社区党支部"  # liuxia's unit

# One broker (or browser) at a time: with `-n 2`, tests sharing it run in one worker, one after another.
pytestmark = pytest.mark.xdist_group("browser")


def test_assign_ledger_board_and_circulars_in_a_browser(served: tuple[Web, str], playwright_api: Any) -> None:  # noqa: F811
    web, base = served
    with signed_in_as(PRINCIPAL):
        for i, due in enumerate((date(2026, 9, 1), date(2026, 9, 9), date(2026, 11, 30))):
            assign(web.server, PRINCIPAL, NewTask(title=f"已有任务{i}", unit=UNIT, leader=DEPUTY, deadline=due))
    with playwright_api() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            leader, supervisor = Person(browser, base, PRINCIPAL), Person(browser, base, SUPERVISOR)
            leader.sign_in()
            supervisor.sign_in()

            leader.page.click("nav a[href='/assign']")
            leader.page.fill("input[name=title]", "背街小巷积水")
            leader.page.select_option("select[name=unit]", UNIT)
            leader.page.select_option("select[name=leader]", DEPUTY)
            leader.page.fill("textarea[name=measures]", "疏通排水管网\n加装雨水篦子")
            leader.page.fill("input[name=deadline]", "10个工作日内")
            leader.page.wait_for_selector("#deadline-date")  # htmx asked the server what it means
            spec = web.server.registry.machine("rectification").spec
            due = resolve_deadline(web.server, spec, "10个工作日内", None, web.server.clock.now())
            assert due is not None and due.due is not None
            assert due.due.isoformat() in leader.page.inner_text("#deadline-preview")
            leader.shoot("pages-01-assign-preview")
            leader.page.fill("input[name=deadline]", "看心情")
            leader.page.wait_for_selector("#deadline-preview .field-error")
            leader.shoot("pages-02-assign-bad-deadline")
            leader.page.fill("input[name=deadline]", "10个工作日内")
            leader.page.wait_for_selector("#deadline-date")
            leader.page.click("#assign-form button[type=submit]")
            leader.page.wait_for_load_state()
            assert "/tasks/" in leader.page.url, leader.page.inner_text("main")[:800]
            leader.page.wait_for_url(re.compile(r"/tasks/ZG-2026-\d+"))
            code = leader.page.url.rsplit("/", 1)[-1].split("?")[0]
            assert "背街小巷积水" in leader.page.content()

            leader.page.click("nav a[href='/ledger']")
            assert code in leader.page.content()
            leader.page.fill("input[name=text]", "积水")
            leader.page.click("form.filters button[type=submit]")
            leader.page.wait_for_load_state()
            assert code in leader.page.content() and "已有任务0" not in leader.page.content()
            leader.shoot("pages-03-ledger-filtered")

            leader.page.click("nav a[href='/board']")
            assert UNIT in leader.page.content()
            leader.shoot("pages-04-board")
            leader.page.click(f"table.board a:has-text('{UNIT}')")
            leader.page.wait_for_load_state()
            assert code in leader.page.content()
            leader.shoot("pages-05-unit")

            supervisor.page.click("nav a[href='/circulars']")
            supervisor.page.wait_for_load_state("networkidle")
            width = supervisor.page.evaluate("document.querySelector('img.chart').naturalWidth")
            assert width > 100, "the chart did not load"
            supervisor.shoot("pages-06-circulars")
            with supervisor.page.expect_download() as download:
                supervisor.page.click(".downloads a[href^='/circulars/report.docx']")
            assert download.value.suggested_filename.endswith(".docx")
            supervisor.open("/ledger?light=red")
            assert "已有任务0" in supervisor.page.content() and "已有任务2" not in supervisor.page.content()
            supervisor.shoot("pages-07-ledger-red")

            admin = Person(browser, base, ADMIN)
            admin.sign_in()
            admin.page.click("nav a[href='/admin']")
            assert "已设置" in admin.page.content()
            admin.shoot("pages-08-admin")
            admin.open("/admin/workflows")
            boxes = admin.page.evaluate("document.querySelectorAll('.diagram svg rect').length")
            assert boxes >= len(web.server.registry.machine("rectification").spec.states)
            admin.shoot("pages-09-workflows")
        finally:
            browser.close()


def test_return_reassign_suspension_verification_and_a_notice_in_a_browser(
    served: tuple[Web, str],  # noqa: F811
    playwright_api: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """退办 → 改派 to another unit, which signs for it, asks to suspend, is suspended and resumed; 复核 sends it
    back with a photo; weeks later the sweep issues 督办单 and the unit replies on the page."""
    web, base = served
    with signed_in_as(PRINCIPAL):
        code = assign(
            web.server,
            PRINCIPAL,
            NewTask(
                title="老旧小区路灯损坏",
                unit=UNIT,
                leader=DEPUTY,
                deadline=date(2026, 10, 30),
                source="巡视巡察反馈",
                source_ref="县委第二巡察组反馈意见 第3条",
                source_date=date(2026, 8, 28),
            ),
        )
    with playwright_api() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            unit, leader = Person(browser, base, UNIT_HEAD), Person(browser, base, DEPUTY)
            other = Person(browser, base, OTHER_UNIT_MEMBER)
            for p in (unit, leader, other):
                p.sign_in()

            unit.open(f"/tasks/{code}")
            assert "县委第二巡察组反馈意见 第3条" in unit.page.inner_text("#task-source")
            assert "签收时限" in unit.page.inner_text("#task-source")
            unit.page.click("#form-return summary")
            unit.page.click("#form-return button[type=submit]")  # no reason
            unit.page.wait_for_selector("#form-return .field-error")
            assert unit.page.inner_text("#form-return .field-error") == "请填写理由"
            unit.shoot("chain-01-return-needs-a-reason")
            unit.step("return", "该路段路灯由城管局管护，不属本科职责")
            assert "已退办" in unit.page.inner_text("main")

            leader.open(f"/tasks/{code}")
            assert "该路段路灯由城管局管护" in leader.page.inner_text("#decide-return")
            leader.page.click("#form-reassign button[type=submit]")  # no unit chosen: the browser asks
            assert leader.page.evaluate("document.querySelector('#form-reassign select').validity.valueMissing")
            leader.shoot("chain-02-returned-for-the-leader")
            leader.page.select_option("#form-reassign select[name=unit]", OTHER_UNIT)
            leader.page.fill("#form-reassign textarea[name=comment]", "点位在阳光社区，请社区办理")
            leader.page.click("#form-reassign button[type=submit]")
            leader.page.wait_for_load_state()
            assert OTHER_UNIT in leader.page.inner_text("dl.facts") and "已交办" in leader.page.inner_text("main")
            leader.shoot("chain-03-reassigned")

            other.open(f"/tasks/{code}")
            other.step("start")
            assert "签收时间" in other.page.inner_text("#task-source")
            other.step("ask_suspension", "需待区住建局旧改项目批复后施工")
            other.shoot("chain-04-suspension-asked")

            leader.open(f"/tasks/{code}")
            assert "需待区住建局旧改项目批复后施工" in leader.page.inner_text("#decide-suspension")
            leader.shoot("chain-05-suspension-to-decide")
            leader.step("suspend", "同意挂起：待旧改项目批复")
            assert "已挂起" in leader.page.inner_text("main")
            leader.shoot("chain-06-suspended")
            leader.step("resume")
            assert "整改中" in leader.page.inner_text("main")

            # 复核: the unit reports and submits, the leader approves; a supervisor sends it back with a photo
            with signed_in_as(OTHER_UNIT_MEMBER):
                report_progress(web.server, OTHER_UNIT_MEMBER, code, ProgressInput(100, "已更换路灯12盏"))
                fire(web.server, OTHER_UNIT_MEMBER, code, "submit")
            with signed_in_as(DEPUTY):
                fire(web.server, DEPUTY, code, "approve")
            supervisor = Person(browser, base, SUPERVISOR)
            supervisor.sign_in()
            supervisor.open(f"/tasks/{code}")
            supervisor.page.click("#form-verify summary")
            supervisor.page.click("#form-verify button[value=send_back]")  # nothing said about what was checked
            supervisor.page.wait_for_selector("#form-verify .field-error")
            supervisor.shoot("chain-07-verify-needs-what-was-checked")
            photo = tmp_path / "夜间复核.jpg"
            photo.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"photo")
            supervisor.page.fill("#form-verify textarea[name=comment]", "夜间实地查看：仍有2盏不亮")
            supervisor.page.check("#form-verify input[name=on_site]")
            supervisor.page.set_input_files("#form-verify input[name=files]", str(photo))
            supervisor.page.click("#form-verify button[value=send_back]")
            supervisor.page.wait_for_load_state()
            assert "整改中" in supervisor.page.inner_text("main")
            assert "夜间实地查看" in supervisor.page.inner_text("ol.timeline")

            # 督办单: weeks overdue, the sweep issues notices; the unit replies on the page
            web.server.clock.set(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # type: ignore[attr-defined]
            sweep(web.server)
            other.sign_in()  # the session ended with the weeks gone by
            other.open(f"/tasks/{code}")
            assert "红色督办单" in other.page.inner_text("#task-notices")
            reply = other.page.locator("#task-notices details").first
            reply.locator("summary").click()
            reply.locator("textarea[name=note]").fill("已更换剩余2盏，并建立夜间巡查台账")
            reply.locator("button[type=submit]").click()
            other.page.wait_for_load_state()
            assert "已更换剩余2盏" in other.page.inner_text("#task-notices")
            other.shoot("chain-08-notice-replied")
        finally:
            browser.close()
