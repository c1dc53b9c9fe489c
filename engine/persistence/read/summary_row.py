"""A list's row, apart from the list's query: the task page (``duban show``) builds one without SQLAlchemy.

The list reads these columns with SQLAlchemy Core (``task_list``), whose driver rows unpack like this tuple;
the task page builds one from the task it read on the driver (``of_task``). Keeping the row here lets
``show`` import it without the list's query module and with it SQLAlchemy.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple


class SummaryRow(NamedTuple):
    """A row of a list: the task's shown columns in ``task_list._SHOWN``'s order, then its unit's and lead
    leader's names and its parent's code."""

    id: int
    code: str
    title: str
    workflow: str
    state: str
    lead_leader_id: str | None
    deadline: date | None
    category: str | None
    campaign: str | None
    priority: str | None
    version: int
    updated_at: datetime
    original_deadline: date | None
    deadline_expr: str | None
    escalation_level: int
    closed_on: date | None
    sign_by: date | None
    signed_at: datetime | None
    source: str | None
    source_ref: str | None
    source_date: date | None
    instruction: str | None
    ongoing: bool
    unit_name: str
    leader_name: str | None
    parent: str | None  # 分解: the code of the task it was split from

    @classmethod
    def of_task(cls, task: Any, unit_name: str, leader_name: str | None, parent: str | None) -> SummaryRow:
        """From any task record with the task's column names as attributes (the ORM task, the page's record)."""
        return cls._make([*(getattr(task, name) for name in TASK_COLUMNS), unit_name, leader_name, parent])


TASK_COLUMNS = SummaryRow._fields[:-3]  # the task's own columns; the last three come from joins
