"""Trust that survives someone with a database role: what people read, the clock and the operator are bound
to the history, and `audit verify` says so when they are not.

Each test plays the attacker the README's promises must survive: it edits task rows, progress reports,
people and settings behind the engine's back, backdates steps, forges a leader's approval with a second
PostgreSQL login role, and upgrades a workspace from the previous schema.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.audit import GENESIS, EventFacts, event_hash
from duban.engine.domain.clock import FixedClock
from duban.engine.domain.errors import AnchorForged, FixedClockRefused, UnknownPerson
from duban.engine.services.audit import anchor_if_due, latest_anchor, verify
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from duban.engine.services.workspace import init_workspace
from tests.conftest import DEPUTY, EXAMPLES, PG_URL, ROOT, UNIT_HEAD, require_pg
from tests.helpers import connection_of, new_task
from tests.integration.test_audit import KEY, org_with_accounts, tampering

ME = pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def ledger(app: App, tmp_path: Path) -> list[str]:
    codes = [new_task(app, title=f"问题{i}") for i in range(3)]
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"\xff\xd8 a photo")
    fire(app, UNIT_HEAD, codes[0], "start")
    report_progress(app, UNIT_HEAD, codes[0], ProgressInput(60, "已排查", (photo,)))
    fire(app, UNIT_HEAD, codes[0], "submit")
    fire(app, UNIT_HEAD, codes[1], "start")
    return codes


def whats(app: App) -> list[str]:
    return [f"{b.code}: {b.what}" for b in verify(app).breaks]


# --- 1. verify covers what people read -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "named"),
    [
        ("state", "'closed'", "state"),
        ("lead_leader_id", "'wangjun'", "lead leader"),
        ("deadline", "'2027-01-01'", "deadline"),
        ("original_deadline", "'2027-01-01'", "original deadline"),
        ("unit_id", "(SELECT MAX(id) FROM units)", "unit"),
        ("title", "'已整改完毕'", "title or content"),
        ("measures", "'[]'", "title or content"),
        ("deadline_version", "7", "deadline version"),
        ("sign_by", "'2027-01-01'", "sign by"),
        ("signed_at", "NULL", "signed at"),
    ],
)
def test_a_task_row_edited_behind_the_engine_is_named(
    app: App, ledger: list[str], column: str, value: str, named: str
) -> None:
    assert verify(app).ok
    with tampering(app) as conn:
        conn.execute(text(f"UPDATE tasks SET {column} = {value} WHERE code = :c"), {"c": ledger[1]})  # type: ignore[attr-defined]
    found = whats(app)
    assert len(found) == 1 and found[0].startswith(f"{ledger[1]}: the task's row differs from its history")
    assert named in found[0]


def test_a_co_unit_added_behind_the_engine_is_named(app: App, ledger: list[str]) -> None:
    with tampering(app) as conn:
        conn.execute(  # type: ignore[attr-defined]
            text(
                "INSERT INTO task_co_units (task_id, unit_id) SELECT t.id, MAX(u.id) FROM tasks t, units u WHERE t.code = :c GROUP BY t.id"
            ),
            {"c": ledger[2]},
        )
    assert whats(app) == [f"{ledger[2]}: the task's row differs from its history: title or content"]


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ("UPDATE progress_reports SET note = '全部完成'", "differs from its event: note"),
        ("UPDATE progress_reports SET percent = 100", "differs from its event: percent"),
        ("UPDATE evidence_files SET sha256 = 'ab' || substr(sha256, 3)", "differs from its event: evidence files"),
        ("UPDATE evidence_files SET original_name = '验收单.pdf'", "differs from its event: evidence files"),
        ("DELETE FROM evidence_files", "differs from its event: evidence files"),
        ("DELETE FROM progress_reports", "is missing (deleted)"),
    ],
)
def test_a_progress_report_is_bound_to_its_event(app: App, ledger: list[str], statement: str, what: str) -> None:
    with tampering(app) as conn:
        if statement.startswith("DELETE FROM progress_reports"):
            conn.execute(text("DELETE FROM evidence_files"))  # type: ignore[attr-defined]
        conn.execute(text(statement))  # type: ignore[attr-defined]
    found = whats(app)
    assert len(found) == 1 and what in found[0] and found[0].startswith(ledger[0]), found


def test_a_progress_report_added_without_an_event_is_named(app: App, ledger: list[str]) -> None:
    with tampering(app) as conn:
        conn.execute(  # type: ignore[attr-defined]
            text(
                "INSERT INTO progress_reports (task_id, event_seq, percent, note, actor_id, at) "
                "SELECT id, 1, 100, '已完成', 'fenglei', created_at FROM tasks WHERE code = :c"
            ),
            {"c": ledger[2]},
        )
    assert whats(app) == [f"{ledger[2]}: a progress report has no event recording it (added)"]


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        (
            "UPDATE people SET roles = '[\"admin\", \"leader\"]' WHERE id = 'fenglei'",
            "person 'fenglei' differs from its record in roles",
        ),
        (
            "UPDATE people SET accounts = '[\"os:mallory\"]' WHERE id = 'zhangwei'",
            "person 'zhangwei' differs from its record in accounts",
        ),
        ("UPDATE units SET head_id = 'liuxia' WHERE name = '社会事务科'", "differs from its record in head_id"),
        (
            "INSERT INTO people (id, name, roles) VALUES ('mallory', '某人', '[\"admin\"]')",
            "person 'mallory' is in its table but not on record",
        ),
        ("UPDATE workspace SET value = 'false' WHERE key = 'single_desk'", "workspace 'single_desk' differs"),
    ],
)
def test_the_organisation_and_settings_are_bound_to_the_chain(
    app: App, ledger: list[str], statement: str, what: str
) -> None:
    with tampering(app) as conn:
        conn.execute(text(statement))  # type: ignore[attr-defined]
    found = whats(app)
    assert len(found) == 1 and what in found[0], found


def test_a_deleted_refusal_is_evident(app: App, ledger: list[str]) -> None:
    with pytest.raises(Exception, match="may not"):
        fire(app, UNIT_HEAD, ledger[0], "approve")
    fire(app, UNIT_HEAD, ledger[2], "start")  # the refusal is not the last entry
    assert verify(app).ok
    with tampering(app) as conn:
        conn.execute(text("DELETE FROM records WHERE kind = 'refusal'"))  # type: ignore[attr-defined]
    found = whats(app)
    assert found and "missing" in found[0], found


def test_the_guard_refuses_editing_records(app: App, ledger: list[str]) -> None:
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE records SET body = NULL", "DELETE FROM records"):
        with pytest.raises(DBAPIError, match="append-only"), app.db.engine.begin() as conn:
            conn.execute(text(statement))


# --- 3. the clock is not the caller's to set -------------------------------------------------------------


def test_a_backdated_step_is_named(app: App, clock: FixedClock) -> None:
    code = new_task(app)
    clock.set(clock.now() - timedelta(days=14))  # a single desk may fix the clock: verify still tells
    fire(app, UNIT_HEAD, code, "start")
    assert whats(app) == [f"{code}: it is dated before the event it follows (backdated)"]


def _cli(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)}
    for name in ("DUBAN_NOW", "DUBAN_USER", "DUBAN_AUDIT_KEY"):
        base.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", "from duban.cli.main import run; run()", "--db", str(db), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        cwd=db.parent,
    )


def test_a_fixed_clock_is_refused_where_it_could_backdate(tmp_path: Path) -> None:
    org = org_with_accounts(tmp_path, {"zhouqiang": f"os:{ME}"})  # zhouqiang is the admin
    db = tmp_path / "shared.db"
    assert _cli(db, "init", "--org", str(org)).returncode == 0
    refused = _cli(db, "list", DUBAN_NOW="2026-08-01T09:00")
    assert refused.returncode == FixedClockRefused.exit_code and "DUBAN_NOW" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert _cli(db, "list").returncode == 0
    assert _cli(db, "init", "--allow-fixed-clock").returncode == 0  # the admin makes it a test workspace
    assert _cli(db, "list", DUBAN_NOW="2026-08-01T09:00").returncode == 0
    assert _cli(db, "audit", "verify").returncode == 0  # the switch itself is on the chain


# --- 4. anchors taken on schedule ------------------------------------------------------------------------


def test_the_beat_anchors_and_verify_checks_the_latest(app: App, ledger: list[str], clock: FixedClock) -> None:
    assert anchor_if_due(app, timedelta(hours=1)) is None  # no key: nothing to sign with
    app.settings.extra["DUBAN_AUDIT_KEY"] = KEY
    first = anchor_if_due(app, timedelta(hours=1))
    assert first is not None and latest_anchor(app) == first
    assert anchor_if_due(app, timedelta(hours=1)) is None  # the head has not moved
    fire(app, UNIT_HEAD, ledger[2], "start")
    assert anchor_if_due(app, timedelta(hours=1)) is None  # too soon
    clock.advance(timedelta(hours=2))
    second = anchor_if_due(app, timedelta(hours=1))
    assert second is not None and second.chain_seq > first.chain_seq
    assert verify(app, anchor=latest_anchor(app)).ok
    with app.db.engine.begin() as conn:  # a database writer cannot make an anchor that verifies
        conn.execute(text("UPDATE anchors SET chain_seq = chain_seq - 1 WHERE id = (SELECT MAX(id) FROM anchors)"))
    with pytest.raises(AnchorForged):
        latest_anchor(app)


# --- 11. an unknown person is refused on reads too ------------------------------------------------------


def test_acting_as_nobody_is_refused_on_reads(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "d.db")
    assert call("--db", db, "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    r = call("--db", db, "--as", "nobody", "list")
    assert r.code == UnknownPerson.exit_code and "nobody" in r.err


# --- 8. an upgrade leaves a way in -----------------------------------------------------------------------


def _previous_release(db: Path, revision: str) -> None:
    """A workspace as an earlier release left it: schema ``revision``, an organisation, tasks with history."""
    from alembic import command

    from duban.engine.persistence.db import Database
    from duban.engine.persistence.migrate import alembic_config

    database = Database(str(db))
    cfg = alembic_config()
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(text("INSERT INTO units (id, name) VALUES (1, '社会事务科'), (2, '综合办公室')"))
        conn.execute(
            text(
                "INSERT INTO people (id, name, unit_id, roles) VALUES "
                "('zhangwei', '张伟', 2, '[\"leader\"]'), ('fenglei', '冯磊', 1, '[\"unit_head\", \"unit_member\"]'),"
                "('zhouqiang', '周强', 2, '[\"admin\"]')"
            )
        )
        conn.execute(text("UPDATE units SET head_id = 'fenglei' WHERE id = 1"))
        conn.execute(
            text(
                "INSERT INTO tasks (id, code, workflow, workflow_version, title, measures, unit_id, lead_leader_id, "
                "deadline, original_deadline, ongoing, deadline_version, watch_from, escalation_level, "
                "named_in_circular, fields, state, version, created_at, updated_at) VALUES (1, 'ZG-2026-0001', "
                "'rectification', 'old', '路灯损坏', '[\"排查\"]', 1, 'zhangwei', '2026-10-09', '2026-10-09', 0, 1, "
                "'2026-09-07 01:00:00.000000', 0, 0, '{}', 'in_progress', 2, '2026-09-07 01:00:00.000000', "
                "'2026-09-08 01:00:00.000000')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO events (task_id, seq, trigger, from_state, to_state, actor_id, at, deadline) VALUES "
                "(1, 1, 'assign', NULL, 'assigned', 'zhangwei', '2026-09-07 01:00:00.000000', '2026-10-09'), "
                "(1, 2, 'start', 'assigned', 'in_progress', 'fenglei', '2026-09-08 01:00:00.000000', '2026-10-09')"
            )
        )
        if revision == "0004":
            command.upgrade(cfg, "0004")  # what the previous release's `duban init` did
    database.dispose()


@pytest.mark.parametrize("revision", ["0003", "0004"])
def test_an_upgraded_workspace_leaves_a_way_in(tmp_path: Path, revision: str) -> None:
    db = tmp_path / "old.db"
    _previous_release(db, revision)
    assert _cli(db, "init").returncode == 0
    listed = _cli(db, "--as", "fenglei", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [t["code"] for t in json.loads(listed.stdout)] == ["ZG-2026-0001"]
    assert _cli(db, "audit", "verify").returncode == 0
    # The remedy: the admin maps accounts, then makes the workspace shared again; then the account decides.
    org = org_with_accounts(tmp_path, {"zhouqiang": f"os:{ME}"})
    mapped = _cli(db, "--as", "zhouqiang", "org", "import", str(org))
    assert mapped.returncode == 0, mapped.stderr
    assert _cli(db, "--as", "zhouqiang", "init", "--no-single-desk").returncode == 0
    assert _cli(db, "list").returncode == 0
    claimed = _cli(db, "--as", "fenglei", "submit", "ZG-2026-0001")
    assert claimed.returncode == 4, claimed.stderr  # the admin's account is not the unit head's
    assert _cli(db, "audit", "verify").returncode == 0


# --- 2. a second PostgreSQL role cannot forge a leader's approval ----------------------------------------

FORGER = "duban_test_forger"


@pytest.fixture
def forger_role(pg_url: str) -> Iterator[str]:
    """A login role with exactly the grants docs/ recommends for a person's role (no UPDATE/DELETE on events)."""
    admin = create_engine(PG_URL)
    schema = pg_url.split("search_path%3D")[1]
    with admin.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {FORGER}") if _role_exists(conn) else text("SELECT 1"))
        if not _role_exists(conn):
            conn.execute(text(f"CREATE ROLE {FORGER} LOGIN"))
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {FORGER}"))
    admin.dispose()


def _role_exists(conn: object) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": FORGER}).scalar())  # type: ignore[attr-defined]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("claimed", "caught"),
    [
        ("pg:duban_test_leader", "#2: its content does not match its hash (edited)"),  # the stamp overrides it
        (f"pg:{FORGER}", f"#2: it says zhangwei operated, but the account pg:{FORGER} that wrote it is fenglei"),
    ],
)
def test_a_second_role_cannot_forge_a_leaders_approval(
    pg_url: str, forger_role: str, clock: FixedClock, tmp_path: Path, claimed: str, caught: str
) -> None:
    require_pg()
    schema = forger_role
    org = org_with_accounts(
        tmp_path, {"clerk": "pg:postgres", "zhangwei": "pg:duban_test_leader", "fenglei": f"pg:{FORGER}"}
    )
    owner = App.build(Settings(database_url=pg_url, evidence_dir=tmp_path / "ev"), clock=clock)
    init_workspace(owner, org)
    code = new_task(owner, leader=DEPUTY)  # assigned by the admin's role, recording for the principal
    admin = create_engine(PG_URL)
    with admin.begin() as conn:  # the grants of docs/ for a person's role
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {FORGER}'))
        conn.execute(text(f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "{schema}" TO {FORGER}'))
        conn.execute(text(f'GRANT UPDATE ON "{schema}".tasks, "{schema}".chain_head TO {FORGER}'))
        conn.execute(text(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {FORGER}'))
    forged_url = pg_url.replace("postgres@", f"{FORGER}@")
    forger = create_engine(forged_url)
    with forger.begin() as conn:  # the unit head's role writes an approval "by" the lead leader, hashes and all
        task = conn.execute(text("SELECT id, head_hash, version, state FROM tasks WHERE code = :c"), {"c": code}).one()
        at = clock.now() + timedelta(hours=1)
        facts = EventFacts(
            code,
            task.version + 1,
            "start",
            task.state,
            "in_progress",
            DEPUTY,
            DEPUTY,
            None,
            at,
            None,
            None,
            account=claimed,
        )
        h = event_hash(facts, task.head_hash or GENESIS)
        head = conn.execute(
            text(
                "UPDATE chain_head SET seq = seq + 1, hash = encode(sha256(convert_to(hash || :h, 'UTF8')), 'hex') "
                "RETURNING seq, hash"
            ),
            {"h": h},
        ).one()
        conn.execute(
            text(
                "INSERT INTO events (task_id, seq, trigger, from_state, to_state, actor_id, operator_id, at, hash, "
                "chain_seq, chain_hash, account) VALUES (:t, :s, 'start', :f, 'in_progress', :a, :a, :at, :h, "
                ":ls, :lh, :claimed)"
            ),
            {
                "t": task.id,
                "s": task.version + 1,
                "f": task.state,
                "a": DEPUTY,
                "at": at,
                "h": h,
                "ls": head[0],
                "lh": head[1],
                "claimed": claimed,
            },
        )
        conn.execute(
            text("UPDATE tasks SET version = version + 1, state = 'in_progress', head_hash = :h WHERE id = :t"),
            {"h": h, "t": task.id},
        )
        stamped = conn.execute(text("SELECT account FROM events WHERE hash = :h"), {"h": h}).scalar()
    forger.dispose()
    admin.dispose()
    assert stamped == f"pg:{FORGER}"  # the database stamped the real login role over the claimed one
    found = [f"{b.code}#{b.seq}: {b.what}" for b in verify(owner).breaks]
    owner.close()
    assert f"{code}{caught}" in found, found


def test_granting_oneself_a_role_on_record_is_named(tmp_path: Path, clock: FixedClock) -> None:
    """A role that may write both the people table and the records still cannot make itself an admin
    unnoticed: the record names the account that wrote it, and that account was no admin then."""
    from duban.engine.services.chain import record_org
    from tests.integration.test_audit import desk

    org = org_with_accounts(tmp_path, {"fenglei": "os:fenglei", "zhouqiang": "os:zhouqiang"})
    path = str(tmp_path / "shared.db")
    init_workspace(desk(path, clock, "os:zhouqiang", tmp_path), org)
    unit_head = desk(path, clock, "os:fenglei", tmp_path)
    assert verify(unit_head).ok
    with unit_head.uow(write=True) as uow:
        connection_of(uow).execute(text("UPDATE people SET roles = '[\"admin\", \"unit_head\"]' WHERE id = 'fenglei'"))
        record_org(unit_head, uow, ["fenglei"], [], account="os:fenglei", operator_id="fenglei")
        uow.commit()
    found = [b.what for b in verify(unit_head).breaks]
    assert found == ["the person record of 'fenglei' was written by os:fenglei (fenglei), who was not admin then"]


def test_the_beats_tick_stores_an_anchor_on_schedule(app: App, ledger: list[str], clock: FixedClock) -> None:
    from duban.engine.worker.celery_app import beat_tick

    app.settings.extra["DUBAN_AUDIT_KEY"] = KEY
    app.settings.extra["DUBAN_BROKER_URL"] = "redis://127.0.0.1:9/0"  # no broker: the tick anchors all the same
    first = beat_tick(app, publish=lambda ids: None)
    assert first["anchored"] is not None and latest_anchor(app).chain_seq == first["anchored"]
    fire(app, UNIT_HEAD, ledger[2], "start")
    assert beat_tick(app, publish=lambda ids: None)["anchored"] is None  # within DUBAN_ANCHOR_SECONDS
    clock.advance(timedelta(seconds=3601))
    assert beat_tick(app, publish=lambda ids: None)["anchored"] > first["anchored"]
