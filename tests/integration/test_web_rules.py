"""The web workspace's rules outside HTTP: visibility (the domain rule and the query agree), accounts from
the command line, service accounts on the chain, and links in notifications."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from duban.engine.domain.accounts import NoWebAccount, check_password, web_account
from duban.engine.domain.errors import InvalidInput
from duban.engine.domain.evidence_types import accepted, safe_name
from duban.engine.domain.machine import TaskFacts
from duban.engine.domain.visibility import TaskPlace, Viewer, may_see
from duban.engine.persistence.models import Notification, Person, Task, Unit
from duban.engine.persistence.web_store import WebStore, visible_clause
from duban.engine.services import accounts
from duban.engine.services.audit import verify
from duban.engine.services.tasks import NewTask, assign
from tests.conftest import DEPUTY, PRINCIPAL, UNIT
from tests.helpers import connection_of
from tests.integration.test_cli import ENV, duban
from tests.web_support import build_template, make_web, signed_in_as


def test_may_see_follows_roles_and_units() -> None:
    task = TaskPlace(unit_id=1, co_unit_ids=frozenset({2}), lead_leader_id="lead", responsible_person_id="resp")
    assert may_see(Viewer("x", 9, frozenset({"supervisor"})), task)
    assert may_see(Viewer("x", 9, frozenset({"leader"})), task)
    assert may_see(Viewer("x", 1, frozenset({"unit_member"})), task)
    assert may_see(Viewer("x", 2, frozenset({"unit_head"})), task)  # a co-unit
    assert may_see(Viewer("resp", 9, frozenset({"unit_member"})), task)
    assert not may_see(Viewer("x", 3, frozenset({"unit_head"})), task)
    assert not may_see(Viewer("x", None, frozenset()), task)


def test_the_query_filter_agrees_with_the_rule_for_everyone(sqlite_app) -> None:  # type: ignore[no-untyped-def]
    app = sqlite_app
    units = ["社会事务科", "阳光社区党支部", "和平社区党支部", "综合办公室"]
    for i, (unit, co) in enumerate(itertools.product(units, [[], ["阳光社区党支部"], ["督查室", "和平社区第一网格"]])):
        assign(
            app, PRINCIPAL, NewTask(title=f"任务{i}", unit=unit, leader=DEPUTY, co_units=co, deadline=date(2026, 12, 1))
        )
    with app.uow(write=False) as uow:
        conn = connection_of(uow)
        store = WebStore(conn)
        people = conn.execute(select(Person.id)).scalars().all()
        codes = conn.execute(select(Task.code)).scalars().all()
        for pid in people:
            viewer = store.viewer(pid)
            assert viewer is not None
            by_query = set(conn.execute(select(Task.code).where(visible_clause(viewer))).scalars())
            by_rule = {c for c in codes if may_see(viewer, store.task_place(c))}  # type: ignore[arg-type]
            assert by_query == by_rule, pid


def test_account_names_and_passwords() -> None:
    assert web_account("zhangwei") == "web:zhangwei" and web_account("web:zhangwei") == "web:zhangwei"
    assert web_account("../etc") is None and web_account("张伟") is None and web_account("") is None
    with pytest.raises(InvalidInput):
        check_password("short", "web:a")
    with pytest.raises(InvalidInput):
        check_password("zhangwei", "web:zhangwei12345")  # too short anyway
    with pytest.raises(InvalidInput):
        check_password("ZhangWei-Longer", "web:zhangwei-longer")
    assert check_password("a-good-long-one", "web:x") == "a-good-long-one"


def test_evidence_types_are_recognised_by_their_bytes() -> None:
    assert accepted("a.jpg", b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert accepted("a.PDF", b"%PDF-1.7") == "application/pdf"
    assert accepted("a.docx", b"PK\x03\x04") is not None
    assert accepted("a.jpg", b"%PDF-1.7") is None and accepted("a.html", b"<html>") is None
    assert accepted("a.webp", b"RIFF\x00\x00\x00\x00WEBP") and not accepted("a.webp", b"RIFF\x00\x00\x00\x00AVI ")
    assert (
        safe_name("../../etc/passwd") == "passwd" and safe_name("..\\x.jpg") == "x.jpg" and safe_name("...") == "file"
    )


def test_a_person_without_a_web_account_gets_none_on_a_checked_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    template = build_template(folder)
    w = make_web(template, tmp_path)
    with w.admin.db.engine.begin() as conn:  # the org file maps everyone; take one mapping away, as an admin would
        conn.execute(Person.__table__.update().where(Person.id == "luoyan").values(accounts=[]))
    with pytest.raises(NoWebAccount):
        accounts.set_password(w.admin, None, "luoyan", "a-good-long-one")
    w.close()


def test_cli_accounts_and_service_account_are_on_the_chain(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    db = tmp_path / "duban.db"
    shutil.copy(build_template(folder), db)
    env = {**ENV, "DUBAN_NOW": ""}
    # os:root (or whoever runs the tests) is nobody here: init --service-account takes an admin
    refused = duban("--db", str(db), "init", "--service-account", "os:someone", env=env)
    assert refused.returncode == 4, refused.stderr
    short = duban("--db", str(db), "account", "token", "fenglei", env=env)
    assert short.returncode == 4
    copy = tmp_path / "copy"
    copy.mkdir()
    w = make_web(db, copy)
    with signed_in_as("zhouqiang"):  # an admin through the web server: the setting is recorded with via
        from duban.engine.services.workspace import init_workspace

        init_workspace(w.server, None, "zhouqiang", service_account="pg:duban_web")
    with w.server.db.engine.connect() as conn:
        from sqlalchemy import text

        value = conn.execute(text("SELECT value FROM workspace WHERE key = 'service_accounts'")).scalar()
    assert value == "os:duban-web,pg:duban_web"
    assert verify(w.admin).ok
    w.close()


def test_set_password_reads_standard_input_on_a_single_desk(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "duban.db"
    shutil.copy(sqlite_template, db)
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("duban")
    done = subprocess.run(
        [str(exe), "--db", str(db), "--as", "zhouqiang", "account", "set-password", "fenglei"],
        input="a-long-password-1\n",
        capture_output=True,
        text=True,
        env=ENV | {"DUBAN_NOW": ""},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "web:fenglei" in done.stdout
    log = duban("--db", str(db), "--as", "zhouqiang", "account", "signins", "--json", env=ENV | {"DUBAN_NOW": ""})
    assert json.loads(log.stdout)[0]["outcome"] == "password_set"
    token = duban("--db", str(db), "--as", "fenglei", "account", "token", "fenglei", env=ENV | {"DUBAN_NOW": ""})
    assert token.returncode == 0 and token.stdout.startswith("dbn_")


def test_notifications_link_to_the_task_page(tmp_path: Path, sqlite_template: Path) -> None:
    from duban.engine.app import App
    from duban.engine.config.settings import Settings
    from duban.engine.domain.clock import FixedClock
    from tests.conftest import START

    db = tmp_path / "duban.db"
    shutil.copy(sqlite_template, db)
    app = App.build(
        Settings(database_url=str(db), extra={"DUBAN_BASE_URL": "https://duban.example.gov.cn/"}),
        clock=FixedClock(START),
    )
    code = assign(app, PRINCIPAL, NewTask(title="路灯", unit=UNIT, leader=DEPUTY, deadline=date(2026, 10, 9)))
    with app.uow(write=False) as uow:
        conn = connection_of(uow)
        bodies = conn.execute(select(Notification.body)).scalars().all()
    app.close()
    assert bodies and all(f"https://duban.example.gov.cn/tasks/{code}" in b for b in bodies)


def test_the_inbox_pages_are_exactly_what_the_machine_allows_for_everyone(
    sqlite_app,
    clock,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """The inbox asks the database for the tasks one may act on, a page at a time: every person's pages, walked
    to the end, hold exactly the open tasks on which ``allowed_for`` offers a step, red first, counted per light."""
    from datetime import timedelta

    from duban.engine.services import inbox as inbox_service
    from duban.engine.services.queries import TaskFilter, list_tasks
    from duban.engine.services.tasks import ProgressInput, fire, report_progress

    app = sqlite_app
    monkeypatch.setattr(inbox_service, "PAGE", 2)
    units = ["社会事务科", "阳光社区党支部", "综合办公室"]
    deadlines = [date(2026, 9, 1), date(2026, 9, 9), date(2026, 12, 1), None]
    codes = []
    for i, (unit, due) in enumerate(itertools.product(units, deadlines)):
        leader = DEPUTY if i % 2 else PRINCIPAL
        with signed_in_as(PRINCIPAL):
            codes.append(
                assign(
                    app,
                    PRINCIPAL,
                    NewTask(title=f"任务{i}", unit=unit, leader=leader, deadline=due or "2026-12-31"),
                )
            )
    clock.advance(timedelta(days=3))
    with app.uow(write=False) as uow:
        conn = connection_of(uow)
        heads = {u: conn.execute(select(Unit.head_id).where(Unit.name == u)).scalar_one() for u in units}
    # move some along: started, with progress, submitted (awaiting the leader)
    for n, code in enumerate(codes):
        member = heads[units[n // len(deadlines)]]
        if n % 3 >= 1:
            with signed_in_as(member):
                fire(app, member, code, "start")
        if n % 3 == 2:
            with signed_in_as(member):
                report_progress(app, member, code, ProgressInput(50, "过半"))
                fire(app, member, code, "submit")
    with app.uow(write=False) as uow:
        conn = connection_of(uow)
        people = conn.execute(select(Person.id)).scalars().all()
    summaries = {s.code: s for s in list_tasks(app, TaskFilter())}
    for pid in people:
        with app.uow(write=False) as uow:
            conn = connection_of(uow)
            store = WebStore(conn)
            viewer = store.viewer(pid)
            actor = uow.tasks.actor(pid)
            places = {c: store.task_place(c) for c in codes}
        assert viewer is not None and actor is not None
        expected = set()
        for c in codes:
            s = summaries[c]
            spec = app.registry.find(s.workflow)
            if spec is None or spec.states[s.state].final or not may_see(viewer, places[c]):  # type: ignore[arg-type]
                continue
            with app.uow(write=False) as uow:
                conn = connection_of(uow)
                row = conn.execute(
                    select(Task.state, Task.unit_id, Task.lead_leader_id, Task.responsible_person_id).where(
                        Task.code == c
                    )
                ).one()
                unit_head = conn.execute(select(Unit.head_id).where(Unit.id == row.unit_id)).scalar()
            f = TaskFacts(c, row.state, row.unit_id, unit_head, row.lead_leader_id, row.responsible_person_id)
            allowed = app.registry.machine(s.workflow).allowed_for(f, actor)
            if [a for a in allowed if not spec.transition(a, row.state).standing]:  # type: ignore[union-attr]
                expected.add(c)
        seen: list[str] = []
        after = ""
        first = inbox_service.inbox(app, pid)
        box = first
        while True:
            assert len(box.todo) <= 2
            seen += [i.task.code for i in box.todo]
            if box.next_after is None:
                break
            after = box.next_after
            box = inbox_service.inbox(app, pid, after)
        assert set(seen) == expected and len(seen) == len(expected), pid
        order = [inbox_service.LIGHT_ORDER[summaries[c].light] for c in seen]
        assert order == sorted(order), pid  # red first, then yellow, green, and stopped clocks last
        lights: dict[str, int] = {}
        for c in expected:
            key = summaries[c].light or "none"
            lights[key] = lights.get(key, 0) + 1
        assert first.counts == lights and first.todo_total == len(expected), pid
        if "leader" in viewer.roles:
            awaiting = {c for c in expected if summaries[c].state == "submitted" and summaries[c].leader == pid}
            assert first.approvals_total == len(awaiting) and {s.code for s in first.approvals} <= awaiting
    assert any(inbox_service.inbox(app, p).todo_total > 2 for p in people)  # some walked more than one page


def test_a_unit_members_visibility_is_read_through_indexes(app) -> None:  # type: ignore[no-untyped-def]
    """Each arm of "my unit, my unit as co-unit, led by me, answered for by me" has an index (migration 0009),
    and the plan of a unit member's count uses them all instead of reading every task."""
    from sqlalchemy import func

    with app.uow(write=False) as uow:
        conn = connection_of(uow)
        viewer = WebStore(conn).viewer("fenglei")
        assert viewer is not None and not viewer.sees_all
        query = select(func.count()).select_from(Task).where(visible_clause(viewer, union=True))
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        else:  # a test database is tiny: ask whether the indexes serve, not whether they beat a scan of 30 rows
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + sql))
    for indexes in (  # any index led by the arm's column serves it (the inbox's, migration 0018, lead with it too)
        ("ix_tasks_lead_leader_workflow_state_deadline",),
        ("ix_tasks_responsible_person_id",),
        ("ix_tasks_unit_id_state", "ix_tasks_unit_workflow_state_deadline"),
        ("ix_task_co_units_unit_id",),
    ):
        assert any(index in plan for index in indexes), (indexes, plan)
    assert "SCAN tasks" not in plan.replace("SCAN tasks USING", "") and "Seq Scan on tasks" not in plan


def test_api_tokens_are_listed_and_revoked_from_the_command_line(tmp_path: Path, sqlite_template: Path) -> None:
    from duban.engine.app import App
    from duban.engine.config.settings import Settings

    db = tmp_path / "duban.db"
    shutil.copy(sqlite_template, db)
    env = ENV | {"DUBAN_NOW": ""}

    def run(person: str, *args: str):  # type: ignore[no-untyped-def]
        return duban("--db", str(db), "--as", person, "account", *args, env=env)

    first, second = (run("fenglei", "token", "fenglei").stdout.strip() for _ in range(2))
    assert first.startswith("dbn_") and second.startswith("dbn_") and first != second
    mine = json.loads(run("fenglei", "tokens", "fenglei", "--json").stdout)
    assert len(mine) == 2 and set(mine[0]) == {"id", "account", "person", "created_at", "revoked_at"}
    assert all(len(t["id"]) == 12 and first not in json.dumps(t) for t in mine)  # never the token itself
    assert run("wangjun", "tokens").returncode == 4  # everyone's tokens: admins only
    assert len(json.loads(run("zhouqiang", "tokens", "--json").stdout)) == 2
    import hashlib

    first_id = hashlib.sha256(first.encode()).hexdigest()[:12]
    second_id = hashlib.sha256(second.encode()).hexdigest()[:12]
    assert run("wangjun", "revoke-token", second_id).returncode == 4  # not theirs, not an admin
    assert run("fenglei", "revoke-token", "0123456789ab").returncode == 3
    assert run("fenglei", "revoke-token", "../../etc").returncode == 3
    revoked = run("fenglei", "revoke-token", first_id, "--json")
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["revoked_at"], revoked.stderr
    by_admin = run("zhouqiang", "revoke-token", second_id)
    assert by_admin.returncode == 0 and second_id in by_admin.stdout
    listed = {t["id"]: t["revoked_at"] for t in json.loads(run("fenglei", "tokens", "fenglei", "--json").stdout)}
    assert listed[first_id] and listed[second_id]
    app = App.build(Settings(database_url=str(db)))
    try:
        assert accounts.token_owner(app, first) is None and accounts.token_owner(app, second) is None
        assert verify(app).ok
    finally:
        app.close()
    outcomes = [r["outcome"] for r in json.loads(run("zhouqiang", "signins", "--json").stdout)]
    assert outcomes[:2] == ["token_revoked", "token_revoked"]
