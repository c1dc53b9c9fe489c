"""The ledger, board, circulars, assign and admin pages over HTTP (TestClient) on real SQLite files.

Each test names what it proves; the rules themselves (visibility, deadlines, report figures) are the
services', so the tests compare the pages against those services rather than against constants.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from duban.engine.persistence.models import Task
from duban.engine.services import ledger_view
from duban.engine.services.circulars import issue
from duban.engine.services.queries import TaskFilter
from duban.engine.services.report import ReportRequest, build_report
from duban.engine.services.tasks import NewTask, assign, fire, resolve_deadline
from duban.engine.services.visibility import visible_tasks
from tests.conftest import DEPUTY, EXAMPLES, OTHER_UNIT_MEMBER, PRINCIPAL, SUPERVISOR, UNIT, UNIT_HEAD
from tests.web_support import ADMIN, Web, build_template, csrf_of, make_web, sign_in, signed_in_as, web_org

OTHER_UNIT = "阳光社区党支部"  # liuxia's unit
HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def pages_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("web-pages-template"))


@pytest.fixture
def web(pages_template: Path, tmp_path: Path) -> Iterator[Web]:
    w = make_web(pages_template, tmp_path)
    yield w
    w.close()


def task(
    web: Web, title: str = "路灯损坏", unit: str = UNIT, deadline: date | str | None = date(2026, 10, 9), **more: object
) -> str:
    with signed_in_as(PRINCIPAL):
        return assign(web.server, PRINCIPAL, NewTask(title=title, unit=unit, leader=DEPUTY, deadline=deadline, **more))  # type: ignore[arg-type]


def as_(web: Web, person: str):  # type: ignore[no-untyped-def]
    c = web.client()
    assert sign_in(c, person).status_code == 200
    return c


def codes_on(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'<td class="code"><a href="/tasks/([^"]+)"', html)))


def task_count(web: Web) -> int:
    with web.server.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Task)).scalar_one())


# --- permissions -------------------------------------------------------------------------------------------


def test_a_unit_member_cannot_open_assign_import_admin_or_circulars_and_is_told_whom_to_ask(web: Web) -> None:
    c = as_(web, UNIT_HEAD)
    for url in (
        "/assign",
        "/ledger/import",
        "/admin",
        "/admin/workflows",
        "/admin/org",
        "/circulars",
        "/circulars/chart.svg",
        "/circulars/report.csv",
    ):
        r = c.get(url)
        assert r.status_code == 403, url
        assert "请联系系统管理员" in r.text, url  # what to do, not just "forbidden"
    csrf = csrf_of(c.get("/ledger").text)
    r = c.post("/ledger/import", data={"csrf": csrf}, files={"file": ("l.csv", b"x", "text/csv")})
    assert r.status_code == 403
    r = c.post("/admin/org", data={"csrf": csrf}, files={"file": ("o.yaml", b"units: []", "text/yaml")})
    assert r.status_code == 403
    r = c.post("/assign", data={"csrf": csrf, "title": "t", "unit": UNIT, "leader": DEPUTY})
    assert r.status_code == 403 and task_count(web) == 0
    nav = c.get("/ledger").text
    assert 'href="/assign"' not in nav and 'href="/admin"' not in nav and 'href="/ledger"' in nav
    assert c.get("/board").status_code == 200  # the board's figures are for everyone


def test_an_admin_sees_the_admin_pages_and_the_nav_offers_them(web: Web) -> None:
    c = as_(web, ADMIN)
    page = c.get("/admin")
    assert page.status_code == 200 and 'href="/admin"' in page.text
    assert c.get("/admin/workflows").status_code == 200


def test_an_english_refusal_is_in_english(web: Web) -> None:
    c = as_(web, UNIT_HEAD)
    c.get("/lang/en?next=/")
    assert "ask an administrator" in c.get("/assign").text


# --- the ledger: visibility, filters, keyset pages ---------------------------------------------------------


def test_the_ledger_shows_only_what_the_person_may_see(web: Web) -> None:
    mine = task(web, "本单位任务")
    theirs = task(web, "其他单位任务", unit=OTHER_UNIT)
    shared = task(web, "配合任务", unit=OTHER_UNIT, co_units=[UNIT])
    seen = codes_on(as_(web, UNIT_HEAD).get("/ledger").text)
    assert mine in seen and shared in seen and theirs not in seen
    with signed_in_as(UNIT_HEAD):
        assert set(seen) == {t.code for t in visible_tasks(web.server, UNIT_HEAD)}
    assert set(codes_on(as_(web, SUPERVISOR).get("/ledger").text)) == {mine, theirs, shared}
    other = as_(web, OTHER_UNIT_MEMBER).get(f"/units/{UNIT}")
    assert mine not in other.text  # a unit's page through someone else's eyes: nothing they may not see


def test_filters_state_unit_campaign_category_text(web: Web) -> None:
    a = task(web, "路灯维修", campaign="2026年巡察整改", category="民生")
    b = task(web, "道路破损", unit=OTHER_UNIT, campaign="2026年巡察整改", category="环境")
    c_ = task(web, "100%_完成率", category="民生")
    with signed_in_as(UNIT_HEAD):
        from duban.engine.services.tasks import fire

        fire(web.server, UNIT_HEAD, a, "start")
    c = as_(web, PRINCIPAL)
    assert codes_on(c.get("/ledger?state=in_progress").text) == [a]
    assert codes_on(c.get(f"/ledger?unit={OTHER_UNIT}").text) == [b]
    assert set(codes_on(c.get("/ledger?campaign=2026年巡察整改").text)) == {a, b}
    assert set(codes_on(c.get("/ledger?category=民生").text)) == {a, c_}
    assert codes_on(c.get("/ledger?text=道路").text) == [b]
    assert codes_on(c.get("/ledger?text=100%25_").text) == [c_]  # % and _ are literal, not wildcards
    assert codes_on(c.get("/ledger?text=%25").text) == [c_]
    assert c.get("/ledger?state=nonsense").status_code == 400
    assert c.get("/ledger?light=purple").status_code == 400
    assert "没有这个单位" in c.get("/ledger?unit=不存在的单位").text


def test_the_light_filter_agrees_with_the_domain_rule(web: Web) -> None:
    """The SQL date bands must pick exactly the tasks ``standing`` colours so (START is 2026-09-07)."""
    for i, due in enumerate(
        [
            date(2026, 9, 1),
            date(2026, 9, 4),
            date(2026, 9, 7),
            date(2026, 9, 8),
            date(2026, 9, 10),
            date(2026, 9, 11),
            date(2026, 9, 14),
            date(2026, 12, 31),
            None,
        ]
    ):
        task(web, f"时限{i}", deadline=due)
    c = as_(web, PRINCIPAL)
    with signed_in_as(PRINCIPAL):
        for light in ("red", "yellow", "green"):
            expected = {t.code for t in visible_tasks(web.server, PRINCIPAL, TaskFilter(lights=(light,)))}
            assert expected, light
            assert set(codes_on(c.get(f"/ledger?light={light}").text)) == expected, light


def total_on(html: str) -> int:
    found = re.search(r"共 (\d+) 条", html)
    assert found, "no total on the page"
    return int(found.group(1))


def test_a_units_count_by_light_and_state_is_what_it_lists(web: Web) -> None:
    """A unit's count reads its own tasks' ids already filtered by light and state (``visible_among``); the
    tasks it sees by other relations (a co-unit's) are filtered after: the count must be what the page lists."""
    for i, due in enumerate([date(2026, 9, 1), date(2026, 9, 8), date(2026, 12, 31), None]):
        task(web, f"本单位{i}", deadline=due)
        task(web, f"配合{i}", unit=OTHER_UNIT, co_units=[UNIT], deadline=due)
        task(web, f"他单位{i}", unit=OTHER_UNIT, deadline=due)
    started = task(web, "已开始", deadline=date(2026, 9, 1))
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, started, "start")
    for person in (UNIT_HEAD, OTHER_UNIT_MEMBER):
        c = as_(web, person)
        with signed_in_as(person):
            for light in ("red", "yellow", "green"):
                for state in ("", "assigned", "in_progress"):
                    html = c.get(f"/ledger?light={light}&state={state}").text
                    wanted = TaskFilter(lights=(light,), states=(state,) if state else ())
                    expected = {t.code for t in visible_tasks(web.server, person, wanted)}
                    assert set(codes_on(html)) == expected, (person, light, state)
                    assert total_on(html) == len(expected), (person, light, state)


def test_keyset_pages_are_stable_under_inserts(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_view, "PAGE_SIZE", 4)
    made = [task(web, f"任务{i:02d}") for i in range(10)]
    c = as_(web, PRINCIPAL)
    first = c.get("/ledger")
    assert codes_on(first.text) == made[:4] and "共 10 条" in first.text
    nxt = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert nxt
    link = nxt.group(1).replace("&amp;", "&")
    task(web, "翻页之间新增")  # a task added between two pages shifts nothing already seen
    second = c.get(link)
    assert codes_on(second.text) == made[4:8]
    third = c.get(re.search(r'rel="next" href="([^"]+)"', second.text).group(1).replace("&amp;", "&"))  # type: ignore[union-attr]
    assert codes_on(third.text)[:2] == made[8:10]
    # newest first: the (updated_at, id) key
    newest = c.get("/ledger?sort=updated")
    shown = codes_on(newest.text)
    assert len(shown) == 4
    link = re.search(r'rel="next" href="([^"]+)"', newest.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    task(web, "又一个新增")
    later = codes_on(c.get(link).text)
    assert not set(shown) & set(later) and len(later) == 4
    assert "sort=updated" in link


def test_a_damaged_page_link_is_refused_not_obeyed(web: Web) -> None:
    c = as_(web, PRINCIPAL)
    for bad in ("x", "W10", "WyIxIiwiMiIsIjMiXQ", "Wy0xXQ"):
        assert c.get(f"/ledger?after={bad}").status_code == 400
    assert c.get("/ledger?sort=updated&after=WyJub3QgYSBkYXRlIiwiMSJd").status_code == 400


def test_the_count_says_more_than_when_counting_would_be_slow(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_view, "COUNT_CAP", 3)
    for i in range(5):
        task(web, f"任务{i}")
    assert "超过 3 条" in as_(web, PRINCIPAL).get("/ledger").text


# --- export ------------------------------------------------------------------------------------------------


def _csv_codes(content: bytes) -> set[str]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header = rows[0]
    col = header.index("编号") if "编号" in header else header.index("Code")
    return {r[col] for r in rows[1:] if len(r) > col and r[col]}


def test_export_is_the_current_filter_and_never_more_than_one_may_see(web: Web) -> None:
    a = task(web, "本单位")
    b = task(web, "他单位", unit=OTHER_UNIT)
    c = as_(web, PRINCIPAL)
    whole = c.get("/ledger/export.csv")
    assert whole.status_code == 200 and "attachment" in whole.headers["content-disposition"]
    assert _csv_codes(whole.content) == {a, b}
    assert _csv_codes(c.get(f"/ledger/export.csv?unit={OTHER_UNIT}").content) == {b}
    xlsx = c.get("/ledger/export.xlsx")
    assert xlsx.content[:2] == b"PK"
    head = as_(web, UNIT_HEAD)
    assert _csv_codes(head.get("/ledger/export.csv").content) == {a}  # their unit's, not the whole ledger
    assert _csv_codes(head.get(f"/ledger/export.csv?unit={OTHER_UNIT}").content) == set()  # nothing they may not see
    assert c.get("/ledger/export.pdf").status_code == 400
    assert c.get("/ledger/export.csv?unit=没有这个单位").status_code == 400


def test_export_honours_every_filter_the_page_shows(web: Web) -> None:
    """Light, category, text, campaign, state and unit: the file holds exactly the codes the page lists."""
    from datetime import timedelta

    late = task(web, "排水管网改造", deadline=date(2026, 9, 10), category="环境", campaign="2026专项")
    soon = task(web, "路灯维修", deadline=date(2026, 10, 20), category="环境")
    far = task(web, "排水沟清淤", deadline=date(2026, 12, 31), category="安全", campaign="2026专项")
    other = task(web, "排水泵站", unit=OTHER_UNIT, deadline=date(2026, 9, 10), category="环境")
    web.server.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]  # the September ones are red now
    c = as_(web, PRINCIPAL)
    cases = {
        "light=red": {late, other},
        "category=环境": {late, soon, other},
        "text=排水": {late, far, other},
        "campaign=2026专项": {late, far},
        "state=assigned&text=排水沟": {far},
        f"unit={OTHER_UNIT}": {other},
        "light=red&category=环境&text=管网&campaign=2026专项&state=assigned&unit=" + UNIT: {late},
    }
    for query, expected in cases.items():
        listed = set(codes_on(c.get(f"/ledger?{query}").text))
        exported = _csv_codes(c.get(f"/ledger/export.csv?{query}").content)
        assert listed == exported == expected, (query, listed, exported)
    head = as_(web, UNIT_HEAD)  # and a unit member's file is their page: the other unit's red task is not in it
    assert _csv_codes(head.get("/ledger/export.csv?light=red").content) == {late}


# --- import by upload --------------------------------------------------------------------------------------


def test_import_shows_the_dry_run_then_confirm_writes_exactly_once(web: Web) -> None:
    c = as_(web, PRINCIPAL)
    form = c.get("/ledger/import")
    content = (EXAMPLES / "ledger.csv").read_bytes()
    checked = c.post(
        "/ledger/import", data={"csrf": csrf_of(form.text)}, files={"file": ("ledger.csv", content, "text/csv")}
    )
    assert checked.status_code == 200, checked.text[-500:]
    assert task_count(web) == 0  # the dry run wrote nothing
    to_import = int(re.search(r'id="to-import">(\d+)<', checked.text).group(1))  # type: ignore[union-attr]
    assert to_import > 0
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', checked.text).group(1)  # type: ignore[union-attr]
    done = c.post("/ledger/import/confirm", data={"csrf": csrf_of(checked.text), "sha256": sha})
    assert done.status_code == 200 and "已导入" in done.text
    assert task_count(web) == to_import
    again = c.post("/ledger/import/confirm", data={"csrf": csrf_of(checked.text), "sha256": sha})
    assert again.status_code == 404 and "重新上传" in again.text
    assert task_count(web) == to_import  # a second click wrote nothing
    assert (
        c.post("/ledger/import/confirm", data={"csrf": csrf_of(checked.text), "sha256": "../../etc"}).status_code == 404
    )


def test_import_row_errors_are_a_table_and_there_is_no_confirm_button(web: Web) -> None:
    c = as_(web, PRINCIPAL)
    bad = "序号,问题,整改措施,责任领导,责任单位,整改时限\n1,问题一,措施,张伟,没有这个单位,2026-10-09\n2,问题二,措施,张伟,社会事务科,看心情\n"
    r = c.post(
        "/ledger/import",
        data={"csrf": csrf_of(c.get("/ledger/import").text)},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 200
    assert '<table class="errors">' in r.text and "没有这个单位" in r.text
    assert 'action="/ledger/import/confirm"' not in r.text and task_count(web) == 0
    wrong = c.post(
        "/ledger/import", data={"csrf": csrf_of(r.text)}, files={"file": ("notes.txt", b"hello", "text/plain")}
    )
    assert wrong.status_code == 400 and "field-error" in wrong.text
    empty = c.post("/ledger/import", data={"csrf": csrf_of(r.text)})
    assert empty.status_code == 400 and "请选择要导入的台账文件" in empty.text


# --- assign ------------------------------------------------------------------------------------------------


def test_the_deadline_preview_reads_the_expression_as_assign_will(web: Web) -> None:
    c = as_(web, PRINCIPAL)
    spec = web.server.registry.machine("rectification").spec
    for expr in ("10个工作日内", "立行立改", "2026-12-31", "12月底前"):
        r = c.get("/assign/deadline", params={"deadline": expr})
        expected = resolve_deadline(web.server, spec, expr, None, web.server.clock.now())
        assert expected is not None and expected.due is not None
        assert f"<b>{expected.due.isoformat()}</b>" in r.text, expr
    assert "已过" in c.get("/assign/deadline", params={"deadline": "6月底前"}).text  # June, read in September
    assert "field-error" in c.get("/assign/deadline", params={"deadline": "看心情"}).text
    assert c.get("/assign/deadline", params={"deadline": ""}).text.strip() == ""


def test_assign_errors_sit_beside_their_fields_and_nothing_is_written(web: Web) -> None:
    c = as_(web, PRINCIPAL)
    csrf = csrf_of(c.get("/assign").text)
    r = c.post("/assign", data={"csrf": csrf, "title": "", "unit": UNIT, "leader": DEPUTY})
    assert r.status_code == 400 and 'id="err-title"' in r.text
    r = c.post("/assign", data={"csrf": csrf, "title": "t", "unit": UNIT, "leader": DEPUTY, "deadline": "看心情"})
    assert r.status_code == 400 and 'id="err-deadline"' in r.text and 'value="看心情"' in r.text
    r = c.post("/assign", data={"csrf": csrf, "title": "t", "unit": "不存在", "leader": DEPUTY})
    assert r.status_code == 404 and 'id="err-unit"' in r.text
    r = c.post("/assign", data={"csrf": csrf, "title": "t", "unit": UNIT, "leader": UNIT_HEAD})
    assert r.status_code == 400 and 'id="err-leader"' in r.text
    r = c.post("/assign", data={"csrf": csrf, "title": "t", "unit": UNIT, "leader": DEPUTY, "priority": "急"})
    assert r.status_code == 400 and 'id="err-priority"' in r.text
    assert task_count(web) == 0
    assert c.post("/assign", data={"title": "t", "unit": UNIT, "leader": DEPUTY}).status_code == 403  # no CSRF


def test_assign_through_the_form_creates_the_task_as_the_signed_in_leader(web: Web) -> None:
    c = as_(web, PRINCIPAL)
    csrf = csrf_of(c.get("/assign").text)
    r = c.post(
        "/assign",
        data={
            "csrf": csrf,
            "title": "井盖缺失",
            "unit": UNIT,
            "leader": DEPUTY,
            "deadline": "10个工作日内",
            "measures": "排查\n更换",
            "problem": "多处井盖缺失",
            "co_units": [OTHER_UNIT],
            "priority": "高",
            "category": "安全",
            "campaign": "2026年专项",
        },
    )
    assert r.status_code == 200 and r.url.path.startswith("/tasks/ZG-2026-")
    assert "井盖缺失" in r.text and OTHER_UNIT in r.text
    code = r.url.path.rsplit("/", 1)[-1]
    with web.server.db.engine.connect() as conn:
        row = conn.execute(select(Task.measures, Task.priority, Task.deadline_expr).where(Task.code == code)).one()
    assert list(row[0]) == ["排查", "更换"] and row[1] == "高" and row[2] == "10个工作日内"


# --- board and circulars -----------------------------------------------------------------------------------


def test_board_figures_equal_the_report_services(web: Web) -> None:
    task(web, "逾期任务", deadline=date(2026, 9, 1))
    task(web, "正常任务")
    task(web, "他单位任务", unit=OTHER_UNIT)
    html = as_(web, UNIT_HEAD).get("/board").text
    report = build_report(web.server, ReportRequest(period="week"))
    rows = re.findall(
        r'<tr class="(red|yellow|green)"><td>(\d+)</td><td><a href="/units/[^"]+">([^<]+)</a>.*?'
        r"<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>",
        html,
        re.S,
    )
    assert rows, html[-1500:]
    expected = [
        (u.light, str(u.rank), u.unit, str(u.counts.tasks), str(u.counts.closed), str(u.counts.overdue))
        for u in report.units
    ]
    assert rows == expected


def test_a_units_page_lists_its_tasks(web: Web) -> None:
    a = task(web, "本单位任务")
    b = task(web, "他单位任务", unit=OTHER_UNIT)
    c = as_(web, PRINCIPAL)
    page = c.get(f"/units/{UNIT}")
    assert a in codes_on(page.text) and b not in codes_on(page.text)
    assert c.get("/units/没有这个单位").status_code == 404


def test_circulars_page_chart_downloads_and_issued_files(web: Web) -> None:
    task(web, "逾期任务", deadline=date(2026, 9, 1))
    c = as_(web, SUPERVISOR)
    page = c.get("/circulars?period=week")
    assert page.status_code == 200 and "逾期任务" in page.text
    chart = re.search(r'src="(/circulars/chart.svg[^"]+)"', page.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    svg = c.get(chart)  # drawn natively: no font on the server, the browser sets the unit names
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")
    assert ">社会事务科</text>" in svg.text and "default-src 'none'" in svg.headers["content-security-policy"]
    assert c.get(chart, headers={"If-None-Match": svg.headers["etag"]}).status_code == 304
    magic = {"docx": b"PK", "xlsx": b"PK", "csv": b"", "html": b"", "markdown": b"", "json": b"{"}
    for fmt, head in magic.items():
        r = c.get(f"/circulars/report.{fmt}?period=week")
        assert r.status_code == 200 and r.content.startswith(head) and len(r.content) > 50, fmt
        assert "attachment" in r.headers["content-disposition"]
    assert c.get("/circulars/report.exe").status_code == 400
    assert c.get("/circulars?as_of=not-a-date").status_code == 400
    cid = issue(web.admin, ReportRequest(period="week"))
    assert cid is not None
    listed = c.get("/circulars").text
    name = re.search(rf'href="/circulars/{cid}/files/([^"]+)"', listed).group(1)  # type: ignore[union-attr]
    got = c.get(f"/circulars/{cid}/files/{name}")
    assert got.status_code == 200 and len(got.content) > 50
    assert c.get(f"/circulars/{cid}").status_code == 200
    assert c.get(f"/circulars/{cid}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert c.get("/circulars/999999").status_code == 404


# --- admin -------------------------------------------------------------------------------------------------


def test_admin_lists_accounts_masks_secrets_draws_workflows_and_imports_the_organisation(
    pages_template: Path, tmp_path: Path
) -> None:
    w = make_web(pages_template, tmp_path, extra={"DUBAN_SMTP_PASSWORD": "hunter2-very-secret"})
    try:
        c = as_(w, ADMIN)
        page = c.get("/admin").text
        assert "hunter2-very-secret" not in page and "DUBAN_SMTP_PASSWORD" in page
        assert page.count("已设置") >= 6  # everyone the test workspace gave a password
        flows = c.get("/admin/workflows").text
        assert flows.count("<svg") == len(w.server.registry.specs) and "已销号" in flows and "审核通过" in flows
        org = web_org(tmp_path)
        r = c.post(
            "/admin/org", data={"csrf": csrf_of(page)}, files={"file": ("org.yaml", org.read_bytes(), "text/yaml")}
        )
        assert r.status_code == 200 and "已导入" in r.text, r.text[-600:]
        r = c.post("/admin/org", data={"csrf": csrf_of(page)}, files={"file": ("org.yaml", b"units: [", "text/yaml")})
        assert r.status_code in (400, 409) and "field-error" in r.text
    finally:
        w.close()


# --- escaping ----------------------------------------------------------------------------------------------


def test_hostile_text_is_escaped_on_every_page(web: Web) -> None:
    code = task(web, HOSTILE, campaign=HOSTILE[:150], category="<b>类</b>", deadline=date(2026, 9, 1))
    c = as_(web, PRINCIPAL)
    for url in ("/ledger", f"/units/{UNIT}", "/circulars", f"/ledger?text={code}"):
        html = c.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>类</b>" not in html, url
    assert "&lt;script&gt;" in c.get("/ledger").text
    r = c.get("/assign/deadline", params={"deadline": "<script>alert(1)</script>"})
    assert "<script>alert" not in r.text


def test_rows_drawn_in_python_escape_as_the_templates_do(web: Web) -> None:
    """The ledger's and the inbox's rows are written in Python (web/rows.py): every value is escaped exactly
    as Jinja's autoescape would, and hostile text in a task the unit head must act on stays text."""
    from markupsafe import Markup, escape

    from duban.web.rows import escape_text

    for value in (HOSTILE, "'\"&<>", "普通", 7, date(2026, 9, 1), Markup("<b>kept</b>")):
        assert escape_text(value) == str(escape(value))
    task(web, HOSTILE, category="<b>类</b>", deadline=date(2026, 9, 1))
    for person in (UNIT_HEAD, SUPERVISOR):  # the to-do rows; the overdue list with its 催办 button
        html = as_(web, person).get("/").text
        assert "&lt;script&gt;alert(&#34;x&#34;)" in html and "<script>alert" not in html and "<img src=x" not in html
    assert 'hx-post="/tasks/' in html and "逾期任务 (1)" in html


def test_a_workflows_own_fields_are_on_the_form_and_checked_beside_them(web: Web) -> None:
    c = as_(web, PRINCIPAL)
    form = c.get("/assign").text
    assert 'name="field.assistance.household"' in form
    assert re.search(r'<option value="rectification"\s+selected', form)  # the usual workflow is the default
    base = {"csrf": csrf_of(form), "title": "帮扶", "unit": UNIT, "leader": DEPUTY, "workflow": "assistance"}
    r = c.post("/assign", data=base)
    assert r.status_code == 400 and 'id="err-fields"' in r.text and task_count(web) == 0
    r = c.post("/assign", data=base | {"field.assistance.household": "李大爷家", "field.rectification.x": "ignored"})
    assert r.status_code == 200 and "/tasks/" in r.url.path and task_count(web) == 1


def test_a_unit_returns_a_task_from_its_page_and_the_leader_sees_the_transfer_steps(web: Web) -> None:
    code = task(web)
    head = as_(web, UNIT_HEAD)
    page = head.get(f"/tasks/{code}")
    assert 'value="return"' in page.text  # 退办 is offered beside 签收
    refused = head.post(
        f"/tasks/{code}/step", data={"csrf": csrf_of(page.text), "trigger": "return", "comment": "", "if_version": "1"}
    )
    assert refused.status_code == 400  # a return needs its reason
    done = head.post(
        f"/tasks/{code}/step",
        data={"csrf": csrf_of(page.text), "trigger": "return", "comment": "不是我们的", "if_version": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    leader = as_(web, DEPUTY).get(f"/tasks/{code}").text
    assert 'value="insist"' in leader and 'value="reassign"' in leader  # 坚持交办, or 改派 to a unit chosen here
    assert 'value="transfer"' not in leader  # no transfer is proposed


def test_the_task_page_names_the_periodic_reports_due_and_missed(web: Web) -> None:
    code = task(web, title="常态化巡查", deadline="长期坚持")
    with signed_in_as(UNIT_HEAD):
        fire(web.server, UNIT_HEAD, code, "start")
    web.server.clock.set(datetime(2026, 10, 27, 10, tzinfo=ZoneInfo("Asia/Shanghai")))  # type: ignore[attr-defined]
    page = as_(web, UNIT_HEAD).get(f"/tasks/{code}").text
    found = re.search(r'<dd class="periodic-reports">(.*?)</dd>', page)
    assert found, "no periodic reports on the page"
    assert "每月25日" in found.group(1) and "2026-11-25 17:00" in found.group(1)
    assert "漏报 2" in found.group(1) and "2026-09-28、2026-10-26" in found.group(1)
    dated = as_(web, UNIT_HEAD).get(f"/tasks/{task(web)}").text
    assert "periodic-reports" not in dated


def test_a_co_unit_reports_its_part_from_the_task_page_and_the_leader_waives_another(web: Web) -> None:
    code = task(web, co_units=[OTHER_UNIT, "和平社区党支部"])
    co = as_(web, OTHER_UNIT_MEMBER)  # head of 阳光社区党支部, a co-unit: sees the task and its part
    page = co.get(f"/tasks/{code}")
    assert page.status_code == 200 and 'id="co-units"' in page.text and 'id="form-co_report"' in page.text
    assert 'value="co_report"' not in page.text  # not offered as a plain step: it needs the part
    refused = co.post(
        f"/tasks/{code}/co-unit", data={"csrf": csrf_of(page.text), "step": "report", "comment": "", "if_version": "1"}
    )
    assert refused.status_code == 400 and "配合" in refused.text
    done = co.post(
        f"/tasks/{code}/co-unit",
        data={"csrf": csrf_of(page.text), "step": "report", "comment": "已配合排查", "if_version": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    leader = as_(web, DEPUTY)
    page = leader.get(f"/tasks/{code}")
    assert 'id="form-co_waive"' in page.text and "已报送" in page.text
    done = leader.post(
        f"/tasks/{code}/co-unit",
        data={
            "csrf": csrf_of(page.text),
            "step": "waive",
            "unit": "和平社区党支部",
            "comment": "无需配合",
            "if_version": "2",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "已免于配合" in leader.get(f"/tasks/{code}").text
