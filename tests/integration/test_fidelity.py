"""What the CLI says is true: closed tasks, sweeps in the future and dry runs, warnings said once."""

from __future__ import annotations

import pytest

from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD


def _assign(call, db: str, deadline: str) -> str:  # type: ignore[no-untyped-def]
    made = call(
        "--db",
        db,
        "--as",
        PRINCIPAL,
        "--json",
        "assign",
        "--title",
        "路灯",
        "--unit",
        UNIT,
        "--leader",
        DEPUTY,
        "--deadline",
        deadline,
    )
    assert made.code == 0, made.err
    return made.json()["code"]


def _to_reviewed(call, db: str, code: str) -> None:  # type: ignore[no-untyped-def]
    for who, *args in (
        (UNIT_HEAD, "start", code),
        (UNIT_HEAD, "progress", code, "--percent", "100", "--note", "修好"),
        (UNIT_HEAD, "submit", code),
        (DEPUTY, "approve", code),
    ):
        r = call("--db", db, "--as", who, *args)
        assert r.code == 0, r.err


def test_closed_tasks_say_how_late_they_closed_not_how_overdue_they_are(
    call,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    db = sqlite_url
    late, on_time, cancelled = (_assign(call, db, "2026-09-09") for _ in range(3))
    _to_reviewed(call, db, late)
    _to_reviewed(call, db, on_time)
    assert call("--db", db, "--as", DEPUTY, "close", on_time).code == 0  # Monday 7 September: on time
    monkeypatch.setenv("DUBAN_NOW", "2026-09-14T10:00")  # the next Monday: 10, 11 and 14 September are late
    assert call("--db", db, "--as", DEPUTY, "close", late).code == 0
    assert call("--db", db, "--as", PRINCIPAL, "cancel", cancelled, "-m", "重复交办").code == 0
    monkeypatch.setenv("DUBAN_NOW", "2026-10-30T10:00")  # weeks later: nothing closed grows more overdue
    rows = {r["code"]: r for r in call("--db", db, "list", "--json").json()}
    assert rows[late]["closed_days_late"] == 3 and rows[late]["days_overdue"] is None
    assert rows[on_time]["closed_days_late"] == 0 and rows[on_time]["days_overdue"] is None
    assert rows[cancelled]["closed_days_late"] is None and rows[cancelled]["days_overdue"] is None
    assert rows[late]["light"] is None and rows[late]["days_left"] is None
    shown = call("--db", db, "show", late, "--json").json()
    assert shown["closed_days_late"] == 3 and shown["days_overdue"] is None
    text = call("--db", db, "--lang", "zh", "show", late)
    assert "逾期 3 个工作日销号" in text.out
    assert "按期销号" in call("--db", db, "--lang", "zh", "show", on_time).out
    # an open task still counts its overdue days, and has no closing lateness
    open_task = _assign(call, db, "2026-10-28")
    row = next(r for r in call("--db", db, "list", "--json").json() if r["code"] == open_task)
    assert row["days_overdue"] == 2 and row["closed_days_late"] is None and row["light"] == "red"


def _outbox(db: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM notifications").fetchone()[0]


def test_a_sweep_in_the_future_asks_for_yes_and_a_dry_run_writes_nothing(call, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_url
    code = _assign(call, db, "2026-09-30")
    assert call("--db", db, "--as", UNIT_HEAD, "start", code).code == 0
    before = _outbox(db)
    refused = call("--db", db, "sweep", "--now", "2026-10-12T10:00")
    assert refused.code == 2 and refused.out == "" and refused.err.count("\n") == 1
    assert "later than now (2026-09-07 09:00)" in refused.err and "--yes" in refused.err
    zh = call("--db", db, "--lang", "zh", "sweep", "--now", "2026-10-12T10:00")
    assert zh.code == 2 and zh.err.startswith("duban：错误：--now 2026-10-12 10:00 晚于当前时间")
    assert _outbox(db) == before
    dry = call("--db", db, "--json", "sweep", "--now", "2026-10-12T10:00", "--dry-run")
    assert dry.code == 0, dry.err
    shown = dry.json()
    assert shown["dry_run"] is True and shown["tasks"] == 1 and shown["escalations"] >= 1
    assert shown["notifications"] == len(shown["would_write"]) > 0
    assert {w["code"] for w in shown["would_write"]} == {code}
    assert _outbox(db) == before  # nothing written
    text = call("--db", db, "--lang", "zh", "sweep", "--now", "2026-10-12T10:00", "--dry-run")
    assert "未写入任何内容" in text.out and "逾期督办" in text.out
    assert _outbox(db) == before
    # the real thing, confirmed, writes exactly what the dry run announced
    done = call("--db", db, "--json", "sweep", "--now", "2026-10-12T10:00", "--yes")
    assert done.code == 0 and done.json()["notifications"] == shown["notifications"]
    assert _outbox(db) == before + shown["notifications"]
    # a second dry run at that instant has nothing left to write
    assert call("--db", db, "--json", "sweep", "--now", "2026-10-12T10:00", "--dry-run").json()["would_write"] == []
    listed = call("--db", db, "--lang", "zh", "notifications", "list")
    assert "逾期督办" in listed.out and "待发送" in listed.out and "escalate" not in listed.out
    both = call("--db", db, "sweep", "--dry-run", "--deliver")
    assert both.code == 2 and "--dry-run" in both.err


def test_the_single_desk_note_is_said_once_a_day(call, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_url
    assert call("--db", db, "list", "--json").err == ""  # JSON stays clean, and does not use up the day's note
    first = call("--db", db, "list")
    assert first.code == 0 and "single-desk" in first.err
    again = call("--db", db, "--lang", "zh", "list")
    assert again.code == 0 and again.err == ""
    monkeypatch.setenv("DUBAN_NOW", "2026-09-08T09:00")
    assert "单机模式" in call("--db", db, "--lang", "zh", "list").err  # a new day: said again, in Chinese
    assert call("--db", db, "list").err == ""


def test_the_missing_calendar_warning_comes_only_when_a_date_falls_in_that_year(
    call,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    db = sqlite_url
    monkeypatch.setenv("DUBAN_NOW", "2026-12-01T09:00")
    call("--db", db, "list")  # the day's single-desk note, out of the way
    near = call(
        "--db",
        db,
        "--as",
        PRINCIPAL,
        "assign",
        "--title",
        "x",
        "--unit",
        UNIT,
        "--leader",
        DEPUTY,
        "--deadline",
        "2026-12-10",
    )
    assert near.code == 0 and near.err == "", near.err  # every reminder and escalation falls in 2026
    far = call(
        "--db",
        db,
        "--as",
        PRINCIPAL,
        "assign",
        "--title",
        "y",
        "--unit",
        UNIT,
        "--leader",
        DEPUTY,
        "--deadline",
        "2027-03-31",
    )
    assert far.code == 0 and "no statutory holiday calendar for 2027" in far.err
    assert far.err.count("\n") == 1
    # listing and showing the 2026 task needs no 2027 day; the 2027 task's days left are counted in 2027
    code = near.out.strip()
    assert call("--db", db, "show", code).err == ""
    listed = call("--db", db, "--lang", "zh", "list")
    assert listed.code == 0 and "2027 年尚无法定节假日数据" in listed.err
