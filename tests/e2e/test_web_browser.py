"""A real browser (Debian's chromium, driven by Playwright) through a whole task, three people at once.

The server is uvicorn in a thread on a free loopback port, serving the same app
``duban serve`` serves, as the web service account. Screenshots of every page
at 1280 and 375 px wide go to tests/artifacts/browser/ (gitignored).

Under CI=true a missing chromium or Playwright fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from duban.engine.services.audit import verify
from duban.engine.services.tasks import NewTask, assign
from tests.conftest import DEPUTY, IN_CI, PRINCIPAL, SUPERVISOR, UNIT, UNIT_HEAD
from tests.web_support import PASSWORD, Web, build_template, make_web, signed_in_as

# One broker (or browser) at a time: with `-n 2`, tests sharing it run in one worker, one after another.
pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM = Path(os.environ.get("DUBAN_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
WIDTHS = (1280, 375)


def _need(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must run, not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("Playwright for Python is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        _need(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Web, str]]:
    import uvicorn

    from duban.web.app import create_app

    (tmp_path / "template").mkdir()
    w = make_web(build_template(tmp_path / "template"), tmp_path)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine=w.server), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield w, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    w.close()


class Person:
    """One browser context: its own cookies, so three people are signed in at once."""

    def __init__(self, browser: Any, base: str, who: str) -> None:
        self.context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.base, self.who = base, who

    def sign_in(self) -> None:
        self.page.goto(self.base + "/")
        assert "/signin" in self.page.url
        self.page.fill("input[name=account]", self.who)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form[action='/signin'] button[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)

    def step(self, trigger: str, comment: str | None = None) -> None:
        if not self.page.evaluate(f"document.getElementById('form-{trigger}').open"):
            self.page.click(f"#form-{trigger} summary")
        if comment is not None:
            self.page.fill(f"#form-{trigger} textarea[name=comment]", comment)
        self.page.click(f"#form-{trigger} button[type=submit]")
        self.page.wait_for_load_state()

    def shoot(self, name: str) -> None:
        """The page as it is, at each width; at 375 px nothing may stick out sideways."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            if width == 375:
                overflow = self.page.evaluate("document.documentElement.scrollWidth")
                assert overflow <= 380, f"{name} is {overflow} px wide at 375 px"
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_a_task_from_assignment_to_closing_in_three_browsers(
    served: tuple[Web, str], playwright_api: Any, tmp_path: Path
) -> None:
    from PIL import Image

    web, base = served
    with signed_in_as(PRINCIPAL):  # the assign page is not part of the workspace yet
        code = assign(
            web.server,
            PRINCIPAL,
            NewTask(
                title="老旧小区路灯损坏",
                unit=UNIT,
                leader=DEPUTY,
                deadline=date(2026, 10, 9),
                measures=["全面排查", "限期维修"],
                problem="和平小区 3 栋至 7 栋路灯损坏，夜间出行不便。",
            ),
        )
    photo = tmp_path / "现场照片.jpg"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(photo, "JPEG")

    with playwright_api() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            leader, unit, supervisor = (Person(browser, base, p) for p in (DEPUTY, UNIT_HEAD, SUPERVISOR))
            leader.open("/signin")
            leader.shoot("01-signin")
            for p in (leader, unit, supervisor):
                p.sign_in()

            unit.shoot("02-unit-inbox")
            assert code in unit.page.content()
            unit.page.click(f"a[href='/tasks/{code}']")
            unit.shoot("03-task-assigned")
            unit.step("start")
            assert "整改中" in unit.page.content()

            unit.page.click("#form-progress summary")
            unit.page.fill("#form-progress input[name=percent]", "60")
            unit.page.fill("#form-progress textarea[name=note]", "已完成全面排查，更换灯具 12 盏")
            unit.page.set_input_files("#form-progress input[name=files]", str(photo))
            unit.shoot("04-progress-form")
            unit.page.click("#form-progress button[type=submit]")
            unit.page.wait_for_load_state()
            assert "现场照片.jpg" in unit.page.content() and "60%" in unit.page.content()
            unit.shoot("05-task-with-progress")
            unit.step("submit")
            assert "待审核" in unit.page.content()

            leader.open("/")
            assert "待我审核" in leader.page.content() and code in leader.page.content()
            leader.shoot("06-leader-inbox")
            leader.open(f"/tasks/{code}")
            leader.page.click("#form-reject summary")
            leader.page.click("#form-reject button[type=submit]")  # no reason: refused next to the field
            assert "请填写理由" in leader.page.content()
            leader.shoot("07-reject-needs-reason")
            leader.step("reject", "佐证材料不全，请补充维修后照片")

            supervisor.open(f"/tasks/{code}")
            assert "佐证材料不全" in supervisor.page.content()
            supervisor.shoot("08-supervisor-task")

            unit.open(f"/tasks/{code}")
            unit.step("submit")
            leader.open(f"/tasks/{code}")
            leader.step("approve")
            assert "已审核" in leader.page.content()
            leader.step("close")
            assert "已销号" in leader.page.content()
            leader.shoot("09-task-closed")

            leader.open(f"/lang/en?next=/tasks/{code}")
            assert "Timeline" in leader.page.content()
            leader.shoot("10-task-closed-english")
            with leader.page.expect_download() as download:
                leader.page.click("a[href^='/evidence/']")
            assert download.value.suggested_filename == "现场照片.jpg"
        finally:
            browser.close()

    from sqlalchemy import text

    with web.server.db.engine.connect() as conn:
        vias = conn.execute(
            text(
                "SELECT e.trigger, e.via FROM events e JOIN tasks t ON t.id = e.task_id WHERE t.code = :c ORDER BY e.seq"
            ),
            {"c": code},
        ).all()
    assert [tuple(v) for v in vias] == [
        ("assign", "web:wangjun"),
        ("start", "web:fenglei"),
        ("progress", "web:fenglei"),
        ("submit", "web:fenglei"),
        ("reject", "web:zhangwei"),
        ("submit", "web:fenglei"),
        ("approve", "web:zhangwei"),
        ("close", "web:zhangwei"),
    ]
    verdict = verify(web.admin)
    assert verdict.ok, verdict.breaks
