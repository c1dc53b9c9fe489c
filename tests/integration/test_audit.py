"""Tamper-evident history: every way of changing it behind duban's back is caught by `audit verify`.

The tests play someone with write access to the database: they drop or
disable the append-only guard, then edit, delete, reorder, truncate and
rewrite events, and `audit verify` must name what broke.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from duban.engine.app import App
from duban.engine.config.account import Account
from duban.engine.config.settings import Settings
from duban.engine.domain.audit import GENESIS, EventFacts, chain_hash, event_hash
from duban.engine.domain.errors import BadFile, NotPermitted, NotRecorder, UnmappedOperator
from duban.engine.domain.text import Bilingual
from duban.engine.services.audit import audit_log, read_anchor, take_anchor, verify
from duban.engine.services.tasks import fire
from duban.engine.services.workspace import init_workspace
from tests.conftest import DEPUTY, EXAMPLES, PRINCIPAL, ROOT, UNIT_HEAD
from tests.helpers import new_task, to_submitted

KEY = "an audit key kept away from the database"


@pytest.fixture
def ledger(app: App) -> list[str]:
    codes = [new_task(app, title=f"问题{i}") for i in range(3)]
    to_submitted(app, codes[0])
    fire(app, DEPUTY, codes[0], "approve")
    fire(app, UNIT_HEAD, codes[1], "start")
    return codes


@contextmanager
def tampering(app: App) -> Iterator[object]:
    """A connection of someone who owns the database: the append-only guard is taken off first."""
    with app.db.engine.begin() as conn:
        if app.db.dialect == "sqlite":
            for name in ("events", "records"):
                conn.exec_driver_sql(f"DROP TRIGGER {name}_append_only_update")
                conn.exec_driver_sql(f"DROP TRIGGER {name}_append_only_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
            conn.exec_driver_sql("ALTER TABLE records DISABLE TRIGGER USER")
        yield conn


def task_id(conn: object, code: str) -> int:
    return int(conn.execute(text("SELECT id FROM tasks WHERE code = :c"), {"c": code}).scalar())  # type: ignore[attr-defined]


def whats(app: App, anchor: object = None) -> list[str]:
    return [f"{b.code}#{b.seq}: {b.what}" for b in verify(app, anchor=anchor).breaks]  # type: ignore[arg-type]


def test_an_untouched_history_verifies(app: App, ledger: list[str]) -> None:
    verdict = verify(app)
    assert verdict.ok and verdict.tasks == 3 and verdict.events == 3 + 3 + 1 + 1


def test_the_guard_refuses_update_and_delete(app: App, ledger: list[str]) -> None:
    for statement in ("UPDATE events SET comment = 'x'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), app.db.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert verify(app).ok


def test_an_edited_event_is_named(app: App, ledger: list[str]) -> None:
    with tampering(app) as conn:
        conn.execute(  # type: ignore[attr-defined]
            text("UPDATE events SET actor_id = :who WHERE task_id = :t AND seq = 2"),
            {"who": PRINCIPAL, "t": task_id(conn, ledger[0])},
        )
    assert whats(app)[0] == f"{ledger[0]}#2: its content does not match its hash (edited)"


def test_a_deleted_event_is_named(app: App, ledger: list[str]) -> None:
    with tampering(app) as conn:
        conn.execute(text("DELETE FROM events WHERE task_id = :t AND seq = 3"), {"t": task_id(conn, ledger[0])})  # type: ignore[attr-defined]
    found = whats(app)
    assert f"{ledger[0]}#3: event 3 is missing" in found
    assert any("chain entries" in w and "missing" in w for w in found)


def test_reordered_events_are_caught(app: App, ledger: list[str]) -> None:
    with tampering(app) as conn:
        t = task_id(conn, ledger[0])
        conn.execute(text("UPDATE events SET seq = -1 WHERE task_id = :t AND seq = 2"), {"t": t})  # type: ignore[attr-defined]
        conn.execute(text("UPDATE events SET seq = 2 WHERE task_id = :t AND seq = 3"), {"t": t})  # type: ignore[attr-defined]
        conn.execute(text("UPDATE events SET seq = 3 WHERE task_id = :t AND seq = -1"), {"t": t})  # type: ignore[attr-defined]
    assert whats(app)[0].startswith(f"{ledger[0]}#2: ")


def test_a_task_deleted_with_its_whole_history_shows_in_the_ledger_chain(app: App, ledger: list[str]) -> None:
    with tampering(app) as conn:
        t = task_id(conn, ledger[1])
        for table in ("notifications", "task_co_units", "events"):
            conn.execute(text(f"DELETE FROM {table} WHERE task_id = :t"), {"t": t})  # type: ignore[attr-defined]
        conn.execute(text("DELETE FROM tasks WHERE id = :t"), {"t": t})  # type: ignore[attr-defined]
    found = whats(app)
    assert found and all(ledger[1] not in w for w in found) and "chain entries" in found[0]


def _rewrite_everything(app: App, conn: object, new_comment: str | None) -> None:
    """What a careful forger does: change an event, then recompute every hash, every head, the chain
    (records included: they share it)."""
    c = conn  # an alias with a looser type for the many executes
    rows = c.execute(  # type: ignore[attr-defined]
        text(
            "SELECT 'event', e.id, t.code, e.seq, e.trigger, e.from_state, e.to_state, e.actor_id, e.operator_id, "
            "e.comment, e.at, e.data, e.deadline, e.task_id, e.account, e.row_facts, e.chain_seq, e.hash "
            "FROM events e JOIN tasks t ON t.id = e.task_id "
            "UNION ALL SELECT 'record', r.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, r.chain_seq, r.hash FROM records r ORDER BY 17"
        )
    ).all()
    from duban.engine.persistence.types import decode_date, decode_instant

    heads: dict[int, str] = {}
    ledger, n = GENESIS, 0
    for r in rows:
        n += 1
        if r[0] == "record":  # its own hash stands; only its place in the chain is recomputed
            ledger = chain_hash(ledger, r[17])
            c.execute(  # type: ignore[attr-defined]
                text("UPDATE records SET chain_seq = :n, chain_hash = :l WHERE id = :id"),
                {"n": n + 100000, "l": ledger, "id": r[1]},
            )
            continue
        comment = new_comment if (r[3] == 2 and r[2].endswith("0001")) else r[9]
        data = json.loads(r[11]) if isinstance(r[11], str) and r[11] else None
        row = json.loads(r[15]) if isinstance(r[15], str) and r[15] else None
        facts = EventFacts(
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            comment,
            decode_instant(r[10]),
            data,
            decode_date(r[12]),
            account=r[14],
            row=row,
        )
        h = event_hash(facts, heads.get(r[13], GENESIS))
        heads[r[13]] = h
        ledger = chain_hash(ledger, h)
        c.execute(  # type: ignore[attr-defined]
            text("UPDATE events SET comment = :c, hash = :h, chain_seq = :n, chain_hash = :l WHERE id = :id"),
            {"c": comment, "h": h, "n": n + 100000, "l": ledger, "id": r[1]},
        )
    c.execute(text("UPDATE events SET chain_seq = chain_seq - 100000"))  # type: ignore[attr-defined]
    c.execute(text("UPDATE records SET chain_seq = chain_seq - 100000"))  # type: ignore[attr-defined]
    for t, h in heads.items():
        c.execute(text("UPDATE tasks SET head_hash = :h WHERE id = :t"), {"h": h, "t": t})  # type: ignore[attr-defined]
    c.execute(text("UPDATE chain_head SET seq = :n, hash = :h"), {"n": n, "h": ledger})  # type: ignore[attr-defined]


def test_a_wholesale_rewrite_passes_the_chains_but_not_an_earlier_anchor(app: App, ledger: list[str]) -> None:
    app.settings.extra["DUBAN_AUDIT_KEY"] = KEY
    anchor = take_anchor(app)
    with tampering(app) as conn:
        _rewrite_everything(app, conn, "改写过的意见")
    assert verify(app).ok  # a chain alone cannot tell: the forger recomputed it
    found = whats(app, anchor)
    assert found == ["None#None: the chain differs from the anchor (the history was rewritten)"]


def test_a_history_cut_short_is_caught_by_the_anchor(app: App, ledger: list[str]) -> None:
    app.settings.extra["DUBAN_AUDIT_KEY"] = KEY
    anchor = take_anchor(app)
    with tampering(app) as conn:
        c = conn
        last = c.execute(text("SELECT task_id, seq, chain_seq FROM events ORDER BY chain_seq DESC LIMIT 1")).one()  # type: ignore[attr-defined]
        c.execute(text("DELETE FROM events WHERE chain_seq = :n"), {"n": last[2]})  # type: ignore[attr-defined]
        prev = c.execute(text("SELECT chain_seq, chain_hash FROM events ORDER BY chain_seq DESC LIMIT 1")).one()  # type: ignore[attr-defined]
        c.execute(text("UPDATE chain_head SET seq = :n, hash = :h"), {"n": prev[0], "h": prev[1]})  # type: ignore[attr-defined]
        head, state, deadline = c.execute(  # type: ignore[attr-defined]
            text("SELECT hash, to_state, deadline FROM events WHERE task_id = :t AND seq = :s"),
            {"t": last[0], "s": last[1] - 1},
        ).one()
        c.execute(  # type: ignore[attr-defined]
            text("UPDATE tasks SET version = version - 1, head_hash = :h, state = :s, deadline = :d WHERE id = :t"),
            {"h": head, "s": state, "d": deadline, "t": last[0]},
        )
        if state == "assigned":  # a careful forger also forgets the sign-for the cut step recorded
            c.execute(text("UPDATE tasks SET signed_at = NULL WHERE id = :t"), {"t": last[0]})  # type: ignore[attr-defined]
    assert verify(app).ok
    assert whats(app, anchor) == ["None#None: the anchored entry is gone (the history was cut short)"]


def test_anchors_are_signed(app: App, ledger: list[str], tmp_path: Path) -> None:
    app.settings.extra["DUBAN_AUDIT_KEY"] = KEY
    path = tmp_path / "anchor.json"
    taken = take_anchor(app)
    path.write_text(json.dumps(taken.to_json()), encoding="utf-8")
    assert read_anchor(app, path) == taken and taken.events > 8  # the events and the records they share a chain with
    forged = json.loads(path.read_text(encoding="utf-8"))
    forged["ledger_seq"] -= 1  # the anchor file keeps its original keys
    path.write_text(json.dumps(forged), encoding="utf-8")
    with pytest.raises(BadFile, match="signature does not match"):
        read_anchor(app, path)
    app.settings.extra["DUBAN_AUDIT_KEY"] = "x" * 20
    path.write_text(json.dumps(take_anchor(app).to_json()), encoding="utf-8")
    app.settings.extra["DUBAN_AUDIT_KEY"] = KEY
    with pytest.raises(BadFile, match="signature does not match"):
        read_anchor(app, path)


def test_refused_attempts_are_on_record(app: App, ledger: list[str]) -> None:
    with pytest.raises(NotPermitted):
        fire(app, UNIT_HEAD, ledger[0], "close")  # a unit head cannot close
    refused = [e for e in audit_log(app, task=ledger[0]) if e.outcome == "refused"]
    assert len(refused) == 1
    assert (refused[0].actor, refused[0].action) == (UNIT_HEAD, "close")
    assert refused[0].detail is not None and "may not" in refused[0].detail
    account = "pg:" if app.db.dialect == "postgresql" else "os:"  # on PostgreSQL the login role, nothing else
    assert refused[0].operator is not None and refused[0].operator.startswith(account)
    done = [e.action for e in audit_log(app, task=ledger[0]) if e.outcome == "done"]
    assert done[:2] == ["approve", "submit"]  # latest first


# --- identity: the account, not the typed name -------------------------------------------------------


def org_with_accounts(tmp_path: Path, mapping: dict[str, str]) -> Path:
    """The sample organisation with accounts given to people, and a clerk who records for leaders."""
    text_ = (EXAMPLES / "org.yaml").read_text(encoding="utf-8").rstrip("\n") + "\n"
    text_ += "  - id: clerk\n    name: 文书\n    unit: 综合办公室\n    roles: [unit_member, recorder]\n"
    for person, account in mapping.items():
        text_, n = re.subn(rf"(?m)^(  - id: {person}\b.*\n)", rf"\1    accounts: [{account}]\n", text_, count=1)
        assert n == 1, person
    path = tmp_path / "org.yaml"
    path.write_text(text_, encoding="utf-8")
    return path


def desk(url: str, clock: object, account: str, tmp_path: Path) -> App:
    kind, name = account.split(":")
    from duban.engine.domain.clock import FixedClock

    assert isinstance(clock, FixedClock)
    app = App.build(Settings(database_url=url, evidence_dir=tmp_path / "ev"), clock=clock)
    app.account = Account(kind, name)
    return app


def test_acting_as_someone_else_takes_the_recorder_role(sqlite_url: str, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "multi.db"
    org = org_with_accounts(
        tmp_path, {"fenglei": "os:fenglei", "zhangwei": "os:zhangwei", "clerk": "os:clerk", "wangjun": "os:wangjun"}
    )
    first = desk(str(path), clock, "os:wangjun", tmp_path)
    init_workspace(first, org)
    code = new_task(first, leader="zhangwei")
    unit_head = desk(str(path), clock, "os:fenglei", tmp_path)
    to_submitted(unit_head, code)
    # The unit head's account, with USER/--as claiming the leader: refused and recorded under the real account.
    os.environ["USER"] = "zhangwei"
    try:
        with pytest.raises(NotRecorder, match="fenglei"):
            fire(unit_head, "zhangwei", code, "approve")
    finally:
        os.environ.pop("USER", None)
    refusal = next(e for e in audit_log(unit_head, task=code) if e.outcome == "refused")
    assert (refusal.actor, refusal.operator) == ("zhangwei", "os:fenglei (fenglei)")
    # Without --as the account acts for itself, and the rules still apply to it.
    with pytest.raises(NotPermitted):
        fire(unit_head, None, code, "approve")
    # The clerk may record the leader's decision; both names are in the history.
    clerk = desk(str(path), clock, "os:clerk", tmp_path)
    fire(clerk, "zhangwei", code, "approve", comment="王主任口头同意，代录")
    with clerk.db.engine.connect() as conn:
        last = conn.execute(text("SELECT actor_id, operator_id FROM events ORDER BY chain_seq DESC LIMIT 1")).one()
    assert tuple(last) == ("zhangwei", "clerk")
    assert verify(clerk).ok
    stranger = desk(str(path), clock, "os:mallory", tmp_path)
    with pytest.raises(UnmappedOperator, match="os:mallory"):
        fire(stranger, "zhangwei", code, "close")


def test_an_account_is_one_person(tmp_path: Path) -> None:
    from duban.engine.domain.org import load_org_file

    org = org_with_accounts(tmp_path, {"fenglei": "os:shared", "zhangwei": "os:shared"})
    with pytest.raises(BadFile, match="given to two people"):
        load_org_file(org)


def test_the_real_uid_decides_not_the_environment(tmp_path: Path) -> None:
    """`USER=zhangwei duban --as zhangwei approve …`, run by the account of a unit member, is refused and
    recorded under that real account: USER and LOGNAME are what anyone can set, the uid is not."""
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    org = org_with_accounts(tmp_path, {"liuxia": f"os:{me}"})
    db = tmp_path / "w.db"
    env = {**os.environ, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)}
    env.pop("DUBAN_USER", None)
    env.pop("DUBAN_NOW", None)  # a fixed clock is refused on a workspace that is not single-desk

    def duban(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from duban.cli.main import run; run()", "--db", str(db), *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    assert duban("init", "--org", str(org)).returncode == 0
    # The first task is assigned on a single desk, so that a leader's step exists to be claimed.
    assert duban("--as", "zhouqiang", "init", "--single-desk").returncode != 0  # only an admin relaxes it
    claimed = duban("--as", "zhangwei", "approve", "ZG-2026-0001", USER="zhangwei", LOGNAME="zhangwei")
    assert claimed.returncode == 4 and "recorder" in claimed.stderr, claimed.stderr
    log = json.loads(duban("audit", "log", "--json").stdout)
    assert log[0]["outcome"] == "refused" and log[0]["operator"] == f"os:{me} (liuxia)"
    assert log[0]["actor"] == "zhangwei" and log[0]["action"] == "approve"


def test_single_desk_is_said_on_every_command(call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "d.db")
    assert call("--db", db, "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    r = call("--db", db, "list")
    assert r.code == 0 and "single-desk" in r.err
    assert "single-desk" not in call("--db", db, "list", "--json").err  # JSON stays clean


def test_audit_cli(call, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "a.db")
    assert call("--db", db, "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    code = call(
        "--db", db, "--as", PRINCIPAL, "assign", "--title", "路灯", "--unit", "社会事务科", "--leader", DEPUTY
    ).out.strip()
    monkeypatch.setenv("DUBAN_NOW", "2026-09-07T10:00")
    assert call("--db", db, "--as", UNIT_HEAD, "close", code).code == 5  # not allowed from assigned
    ok = call("--db", db, "audit", "verify", "--json")
    assert ok.code == 0 and ok.json()["ok"] is True
    missing_key = call("--db", db, "audit", "anchor")
    assert missing_key.code == 2 and "DUBAN_AUDIT_KEY" in missing_key.err
    monkeypatch.setenv("DUBAN_AUDIT_KEY", KEY)
    anchor = tmp_path / "anchor.json"
    assert call("--db", db, "audit", "anchor", "-o", str(anchor)).code == 0
    assert call("--db", db, "audit", "verify", "--anchor", str(anchor)).code == 0
    log = call("--db", db, "audit", "log", "--json").json()
    assert [(e["action"], e["outcome"]) for e in log] == [("close", "refused"), ("assign", "done")]
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_append_only_update")
    conn.execute("UPDATE events SET comment = 'forged'")
    conn.commit()
    conn.close()
    broken = call("--db", db, "audit", "verify")
    assert broken.code == 8 and f"{code} #1" in broken.err and "edited" in broken.err


def test_bilingual_errors_exist() -> None:
    assert isinstance(NotRecorder(operator="a", person="b").render("zh"), str)
    assert Bilingual("a", "b").pick("zh") == "a"
