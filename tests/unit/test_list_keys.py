"""A streamed list (``list --all --json``) builds each row from a ``ListedSummary`` as it stands: its fields
must be ``summary_json``'s keys, in order, and ``TaskSummary``'s fields, so both paths give the same JSON."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from duban.cli.tasks import summary_json
from duban.engine.domain.text import Bilingual
from duban.engine.services.queries import ListedSummary, TaskSummary


def test_a_listed_summary_holds_the_list_keys_in_order() -> None:
    s = TaskSummary(
        code="ZG-2026-0001",
        title="路灯",
        workflow="rectification",
        state="in_progress",
        state_label=Bilingual("整改中", "in progress"),
        unit="社会事务科",
        leader="zhangwei",
        leader_name="张伟",
        deadline=date(2026, 10, 9),
        category=None,
        campaign=None,
        priority=None,
        version=2,
        updated_at=datetime(2026, 9, 7, 1, tzinfo=UTC),
        original_deadline=date(2026, 10, 9),
        deadline_expr=None,
        light="green",
        days_overdue=0,
        days_left=20,
        escalation_level=0,
    )
    assert ListedSummary._fields == tuple(summary_json(s))
    assert set(ListedSummary._fields) == {f.name for f in dataclasses.fields(TaskSummary)}


def test_the_list_reads_the_columns_of_its_row_in_order() -> None:
    """The list's query reads ``_SHOWN``; its rows are taken as ``SummaryRow``s by position."""
    from duban.engine.persistence.read.summary_row import TASK_COLUMNS
    from duban.engine.persistence.read.task_list import _SHOWN

    assert tuple(c.key for c in _SHOWN) == TASK_COLUMNS
