"""A ledger filtered by light and state counts exactly what it lists, for a unit's people, on SQLite and PostgreSQL.

The count of a viewer's own tasks filtered by light or state alone reads the ids from each visibility arm's
index with the filters inside it (``web_store.visible_ids``); a task seen by two relations counts once.
"""

from __future__ import annotations

from datetime import date

from duban.engine.app import App
from duban.engine.domain.clock import FixedClock
from duban.engine.services.ledger_view import LedgerRequest, ledger_page
from duban.engine.services.queries import TaskFilter
from duban.engine.services.tasks import fire
from duban.engine.services.visibility import visible_tasks
from tests.conftest import OTHER_UNIT_MEMBER, UNIT, UNIT_HEAD
from tests.helpers import new_task

OTHER_UNIT = "阳光社区党支部"  # liuxia's unit


def test_a_units_count_by_light_and_state_is_what_it_lists_on_either_database(app: App, clock: FixedClock) -> None:
    for i, due in enumerate([date(2026, 9, 1), date(2026, 9, 8), date(2026, 12, 31), None]):
        new_task(app, title=f"本单位{i}", deadline=due)
        new_task(app, title=f"配合{i}", unit=OTHER_UNIT, co_units=[UNIT], deadline=due)  # seen as a co-unit
        new_task(app, title=f"他单位{i}", unit=OTHER_UNIT, deadline=due)
    started = new_task(app, title="已开始", deadline=date(2026, 9, 1))
    fire(app, UNIT_HEAD, started, "start")
    checked = 0
    for person in (UNIT_HEAD, OTHER_UNIT_MEMBER):
        for light in ("red", "yellow", "green"):
            for state in ("", "assigned", "in_progress"):
                page = ledger_page(app, person, LedgerRequest(light=light, state=state))
                wanted = TaskFilter(lights=(light,), states=(state,) if state else ())
                expected = {t.code for t in visible_tasks(app, person, wanted)}
                assert {item.row.code for item in page.items} == expected, (person, light, state)
                assert page.total == len(expected), (person, light, state)
                checked += len(expected)
    assert checked > 10  # the lights and states above hold tasks, not only empty pages
