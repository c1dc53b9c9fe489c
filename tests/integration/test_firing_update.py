"""SQLite's firing writes only the task columns that moved: the rows and the chain come out as the full UPDATE's.

The firing reads the task and updates it inside one ``BEGIN IMMEDIATE`` transaction, so leaving out a column
whose value did not change can only matter if the two writes differ somewhere; this holds them to each other
over a lifecycle that moves every clock column (signing for, the watch, progress, suspension, resumption,
rejection, closing, the sweep between firings).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.clock import FixedClock
from duban.engine.persistence.repository import TaskRepository
from duban.engine.services.audit import verify
from duban.engine.services.sweep import sweep
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, START, UNIT_HEAD
from tests.helpers import new_task


def at(*day: int, hour: int = 2) -> datetime:
    return datetime(*day, hour, 0, tzinfo=UTC)


def lifecycle(path: Path) -> tuple[list[Any], list[Any], list[str]]:
    """The tasks' and events' rows after a lifecycle, and the UPDATE statements the firings issued."""
    clock = FixedClock(START)
    app = App.build(Settings(database_url=str(path), evidence_dir=path.parent / "evidence"), clock=clock)
    issued: list[str] = []
    checkout = app.db.checkout

    def traced() -> Any:
        conn = checkout()
        conn.set_trace_callback(
            lambda s: issued.append(s) if s.startswith("UPDATE tasks SET") and "AND version" in s else None
        )
        return conn

    app.db.checkout = traced  # type: ignore[method-assign]
    try:
        code = new_task(app, deadline=date(2026, 9, 30))
        other = new_task(app)
        clock.set(at(2026, 9, 8))
        fire(app, UNIT_HEAD, code, "start")
        fire(app, UNIT_HEAD, other, "start")
        clock.set(at(2026, 9, 9))
        report_progress(app, UNIT_HEAD, code, ProgressInput(30, "排查完毕"))
        fire(app, DEPUTY, code, "suspend", comment="等待住建局审批")
        clock.set(at(2026, 9, 28))
        sweep(app)
        clock.set(at(2026, 10, 12))
        fire(app, DEPUTY, code, "resume")
        clock.set(at(2026, 10, 20))
        sweep(app)  # the other task is overdue: the sweep moves its watch without moving its version
        report_progress(app, UNIT_HEAD, other, ProgressInput(100, "已修复"))
        for task in (code, other):
            fire(app, UNIT_HEAD, task, "submit")
        fire(app, DEPUTY, code, "reject", comment="照片不清")
        fire(app, UNIT_HEAD, code, "submit")
        for task in (code, other):
            fire(app, DEPUTY, task, "approve")
            fire(app, DEPUTY, task, "close")
        assert verify(app).ok
    finally:
        app.close()
    conn = sqlite3.connect(path)
    try:
        tasks = conn.execute("SELECT * FROM tasks ORDER BY id").fetchall()
        events = conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        conn.close()
    return tasks, events, issued


def test_writing_only_the_moved_columns_leaves_the_same_rows_and_chain(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "changed").mkdir()
    (tmp_path / "full").mkdir()
    changed_db, full_db = tmp_path / "changed" / "duban.db", tmp_path / "full" / "duban.db"
    shutil.copy(sqlite_template, changed_db)
    shutil.copy(sqlite_template, full_db)
    changed = lifecycle(changed_db)
    advance = TaskRepository.advance

    def full(self: TaskRepository, *args: Any, **kwargs: Any) -> bool:
        kwargs.pop("before", None)
        return advance(self, *args, **kwargs)

    monkeypatch.setattr(TaskRepository, "advance", full)
    everything = lifecycle(full_db)
    assert changed[0] == everything[0]
    assert changed[1] == everything[1]  # the events, their hashes and the chain's, byte for byte
    assert len(changed[2]) == len(everything[2])
    start = changed[2][0]
    # starting signs for the task and moves its state; its deadline, deadline version and sign-by day stay
    assert "state = " in start and "signed_at = " in start and " deadline = " not in start
    assert "deadline_version" not in start and "sign_by" not in start
    assert all("sign_by = " in s and "deadline_version = " in s for s in everything[2])
