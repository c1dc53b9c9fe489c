"""A real browser (chromium via Playwright) through the assign form, the ledger, the unit board and the
circulars, as a leader and a supervisor; screenshots at 1280 and 375 px (tests/artifacts/browser/, gitignored).

The server, the browser launch and the screenshot helper are those of tests/e2e/test_web_browser.py.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from duban.engine.services.tasks import NewTask, assign, resolve_deadline
from tests.conftest import DEPUTY, PRINCIPAL, SUPERVISOR, UNIT
from tests.e2e.test_web_browser import CHROMIUM, Person, playwright_api, served  # noqa: F401  (fixtures)
from tests.web_support import ADMIN, Web, signed_in_as

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
