"""`duban list --all --json` streams what the pages show, on SQLite and PostgreSQL.

The stream reads plain rows, works out each state's and deadline's light once per listing and reads the
co-units and periodic-report duties a batch at a time; a page builds each summary and reads its co-units and
duties its own way. The two must give the same JSON, key for key, for a ledger with every kind of row: an
ongoing task owing periodic reports (missed ones), co-units, a task closed late, a sub-task, a task not signed
for in time, one citing a source.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.services.queries import TaskFilter, iter_listed
from duban.engine.services.splitting import NewSubTask, split
from duban.engine.services.tasks import ProgressInput, fire, report_progress
from tests.conftest import DEPUTY, UNIT_HEAD
from tests.helpers import connection_of, new_task

SH = ZoneInfo("Asia/Shanghai")
BRANCH, BRANCH_HEAD = "阳光社区党支部", "liuxia"
GRID = "阳光社区第一网格"
PEACE = "和平社区党支部"


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=SH)


@pytest.fixture
def ledger(app: App, clock: FixedClock) -> dict[str, str]:
    codes = {
        "ongoing": new_task(app, title="常态化巡查", deadline="长期坚持"),
        "co": new_task(app, title="联合整治", co_units=[BRANCH, PEACE], deadline=date(2026, 10, 30)),
        "late": new_task(app, title="路灯", deadline=date(2026, 9, 15)),
        "unsigned": new_task(app, title="井盖", source="审计发现", source_ref="审计报告 第2条"),
        "parent": new_task(app, title="网格排查", unit=BRANCH, deadline=date(2026, 11, 20)),
    }
    fire(app, UNIT_HEAD, codes["ongoing"], "start")
    fire(app, UNIT_HEAD, codes["late"], "start")
    fire(app, BRANCH_HEAD, codes["parent"], "start")
    clock.set(at(2026, 9, 10))
    report_progress(app, UNIT_HEAD, codes["ongoing"], ProgressInput(10, "九月巡查"))
    codes["sub"] = split(app, BRANCH_HEAD, NewSubTask(codes["parent"], GRID, title="第一网格", deadline="2026-10-15"))
    clock.set(at(2026, 9, 22))
    report_progress(app, UNIT_HEAD, codes["late"], ProgressInput(100, "已修复"))
    fire(app, UNIT_HEAD, codes["late"], "submit")
    fire(app, DEPUTY, codes["late"], "approve")
    fire(app, DEPUTY, codes["late"], "close")
    return codes


FILTERS = (
    (),
    ("--light", "red"),
    ("--light", "green", "--light", "yellow"),
    ("--state", "in_progress"),
    ("--top",),
    ("--unit", BRANCH),
    ("--source", "审计发现"),
)


def test_the_stream_gives_what_the_pages_give(app: App, ledger: dict[str, str], call, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = app.settings.database_url
    monkeypatch.setenv("DUBAN_NOW", "2026-11-30T10:00")
    every = call("--db", db, "list", "--all", "--json")
    assert every.code == 0, every.err
    rows = {r["code"]: r for r in every.json()}
    # the ledger has every kind of row the stream must get right
    assert rows[ledger["ongoing"]]["reports_missed"] == 2 and rows[ledger["ongoing"]]["next_report_due"]
    assert rows[ledger["co"]]["co_units"] == sorted([BRANCH, PEACE])
    assert rows[ledger["late"]]["closed_days_late"] > 0 and rows[ledger["late"]]["days_overdue"] is None
    assert rows[ledger["unsigned"]]["sign_late"] is True and rows[ledger["unsigned"]]["source"] == "审计发现"
    assert rows[ledger["sub"]]["parent"] == ledger["parent"]
    assert {r["light"] for r in rows.values()} >= {"red", "green", None}
    for extra in FILTERS:
        streamed = call("--db", db, "list", "--all", *extra, "--json")
        paged = call("--db", db, "list", "--limit", "10000", *extra, "--json")
        assert streamed.code == paged.code == 0, (extra, streamed.err, paged.err)
        assert streamed.json() == paged.json(), extra
    codes = sorted(rows)
    after = call("--db", db, "list", "--all", "--after", codes[1], "--json").json()
    assert after == [rows[c] for c in codes[2:]]


def test_a_stream_left_early_leaves_the_connection_as_it_was(app: App, ledger: dict[str, str]) -> None:
    """The scan reads SQLite's file unmapped through a small cache; the pooled connection gets its own back."""

    def pragmas() -> tuple[int, int] | None:
        with app.uow(write=False) as uow:
            conn = connection_of(uow)
            if conn.dialect.name != "sqlite":
                return None
            return (
                conn.exec_driver_sql("PRAGMA mmap_size").scalar_one(),
                conn.exec_driver_sql("PRAGMA cache_size").scalar_one(),
            )

    before = pragmas()
    stream = iter_listed(app, TaskFilter(), batch=2)
    first = next(stream)
    assert first[0].code == min(ledger.values())
    stream.close()
    assert pragmas() == before
    assert [s.code for s, _duty in iter_listed(app, TaskFilter(), batch=2)] == sorted(ledger.values())
    assert pragmas() == before
