"""分解 on the task page (HTTP, real SQLite): the branch head splits from the form, the parent shows its
sub-tasks rolled up, a refusal sits in the form and writes nothing, a leader closes a sub-task out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from duban.engine.services.queries import show_task
from duban.engine.services.tasks import NewTask, assign
from tests.conftest import DEPUTY, PRINCIPAL
from tests.helpers import snapshot
from tests.web_support import Web, build_template, csrf_of, make_web, sign_in, signed_in_as

BRANCH, BRANCH_HEAD, GRID = "阳光社区党支部", "liuxia", "阳光社区第一网格"


@pytest.fixture(scope="module")
def split_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("web-split-template"))


@pytest.fixture
def web(split_template: Path, tmp_path: Path) -> Iterator[Web]:
    w = make_web(split_template, tmp_path)
    yield w
    w.close()


def test_a_branch_head_splits_from_the_task_page_and_a_leader_closes_the_sub_task_out(web: Web) -> None:
    with signed_in_as(PRINCIPAL):
        code = assign(
            web.server, PRINCIPAL, NewTask(title="路灯损坏", unit=BRANCH, leader=DEPUTY, deadline=date(2026, 10, 9))
        )
    head = web.client()
    assert sign_in(head, BRANCH_HEAD).status_code == 200
    page = head.get(f"/tasks/{code}")
    assert 'action="/tasks/' + code + '/split"' in page.text and 'value="split"' not in page.text
    before = snapshot(web.server)
    late = head.post(f"/tasks/{code}/split", data={"csrf": csrf_of(page.text), "unit": GRID, "deadline": "2026-12-31"})
    assert late.status_code == 400 and "2026-12-31" in late.text and 'id="form-split"' in late.text
    assert snapshot(web.server) == before
    done = head.post(
        f"/tasks/{code}/split",
        data={"csrf": csrf_of(page.text), "unit": GRID, "title": "第一网格路灯"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(f"/tasks/{code}?")
    parent = head.get(f"/tasks/{code}").text
    assert f'href="/tasks/{code}-1"' in parent and "0/1" in parent  # 已办结 0/1
    leader = web.client()
    assert sign_in(leader, DEPUTY).status_code == 200
    sub_page = leader.get(f"/tasks/{code}-1").text
    assert f'href="/tasks/{code}"' in sub_page  # the sub-task names its parent
    assert f'action="/tasks/{code}-1/close-out"' in sub_page
    assert "/close-out" not in leader.get(f"/tasks/{code}").text  # a top task is not closed out
    empty = leader.post(f"/tasks/{code}-1/close-out", data={"csrf": csrf_of(sub_page), "comment": ""})
    assert empty.status_code == 400
    closed = leader.post(
        f"/tasks/{code}-1/close-out",
        data={"csrf": csrf_of(sub_page), "comment": "并入支部一并办理"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    assert show_task(web.server, f"{code}-1").summary.state == "closed"
    assert "1/1" in head.get(f"/tasks/{code}").text
