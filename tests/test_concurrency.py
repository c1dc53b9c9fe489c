"""Two processes fire conflicting triggers on the same task at the same moment: exactly one wins.

Each round, both processes wait on a barrier and then fire (one approves, the
other rejects the same submitted task). On SQLite the write lock taken by
BEGIN IMMEDIATE serialises them and the loser finds the task already moved; on
PostgreSQL both may read the same version and the optimistic lock refuses the
second update. Either way the loser is told clearly and nothing is half-written.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from typing import Any

from engine.app import App
from engine.domain.errors import DubanError
from engine.services.tasks import fire
from engine.settings import Settings

from .conftest import DEPUTY
from .helpers import check_history, new_task, to_submitted

ROUNDS = 12


def _contender(url: str, trigger: str, codes: list[str], barrier: Any, results: Any) -> None:
    app = App.build(Settings(database_url=url))
    try:
        for code in codes:
            barrier.wait(timeout=60)
            try:
                fire(app, DEPUTY, code, trigger, comment="并发测试")
                results.put((code, trigger, "won", ""))
            except DubanError as exc:
                results.put((code, trigger, type(exc).__name__, exc.render("en")))
    finally:
        app.close()


def test_conflicting_firings_from_two_processes(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    url = db_url
    app = make_app(url)
    codes = [new_task(app) for _ in range(ROUNDS)]
    for code in codes:
        to_submitted(app, code)
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_contender, args=(url, trigger, codes, barrier, results))
        for trigger in ("approve", "reject")
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    by_code: dict[str, list[tuple[str, str, str]]] = {}
    for code, trigger, result, message in outcomes:
        by_code.setdefault(code, []).append((trigger, result, message))
    losers: Counter[str] = Counter()
    for code, pair in by_code.items():
        winners = [t for t, r, _ in pair if r == "won"]
        assert len(winners) == 1, (code, pair)
        (loser,) = [(r, m) for _t, r, m in pair if r != "won"]
        assert loser[0] in ("StaleTask", "InvalidTransition"), loser
        assert "changed since you read it" in loser[1] or "is reviewed" in loser[1] or "is in progress" in loser[1]
        losers[loser[0]] += 1
    check_history(app)
    print(f"losers: {dict(losers)}")
