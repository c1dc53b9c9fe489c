"""A list's row, apart from the list's query: the task page (``duban show``) builds one without SQLAlchemy.

The list reads these columns with SQLAlchemy Core (``task_list``), whose driver rows unpack like this tuple;
the task page builds one from the task it read on the driver (``of_task``). Keeping the row here lets
``show`` import it without the list's query module and with it SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from ..codec import decode_date, decode_instant


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


# The same row read on the driver (the inbox's page of tasks): the statement, then each row's columns decoded by
# the storage rules (``codec``), as SQLAlchemy's column types decode them for the list.
SUMMARY_SELECT = (
    "SELECT "
    + ", ".join(f"t.{name}" for name in TASK_COLUMNS)
    + ", u.name, l.name, p.code FROM tasks t JOIN units u ON u.id = t.unit_id"
    " LEFT OUTER JOIN people l ON l.id = t.lead_leader_id LEFT OUTER JOIN tasks p ON p.id = t.parent_id"
)
_DAYS = tuple(
    SummaryRow._fields.index(n) for n in ("deadline", "original_deadline", "closed_on", "sign_by", "source_date")
)
_UPDATED, _SIGNED, _ONGOING = (SummaryRow._fields.index(n) for n in ("updated_at", "signed_at", "ongoing"))


def summary_from_driver(row: Sequence[Any]) -> SummaryRow:
    """A row of ``SUMMARY_SELECT`` as the list's row."""
    values = list(row)
    for i in _DAYS:
        values[i] = decode_date(values[i])
    values[_UPDATED] = decode_instant(values[_UPDATED])
    if values[_SIGNED] is not None:
        values[_SIGNED] = decode_instant(values[_SIGNED])
    values[_ONGOING] = bool(values[_ONGOING])
    return SummaryRow._make(values)
