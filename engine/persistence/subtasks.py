"""分解/多级交办: a task's parent and its sub-tasks, as the write path and the read side need them.

``tasks.parent_id`` is written with the sub-task and never changes (migration 0015).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select, update

from .models import Task
from .types import decode_date, decode_instant


@dataclass(frozen=True, slots=True)
class ParentRow:
    id: int
    code: str
    deadline: date | None


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value  # type: ignore[return-value]
    if isinstance(value, datetime):
        return value.date()
    return decode_date(value)  # type: ignore[arg-type]


def _instant(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return decode_instant(value)  # type: ignore[arg-type]


class SubTaskRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def parent_of(self, task_id: int) -> ParentRow | None:
        parent = select(Task.parent_id).where(Task.id == task_id).scalar_subquery()
        row = self.conn.execute(select(Task.id, Task.code, Task.deadline).where(Task.id == parent)).first()
        return None if row is None else ParentRow(row[0], row[1], _day(row[2]))

    def task_id(self, code: str) -> int | None:
        found = self.conn.execute(select(Task.id).where(Task.code == code)).scalar()
        return None if found is None else int(found)

    def parent_of_code(self, code: str) -> ParentRow | None:
        task_id = self.task_id(code)
        return None if task_id is None else self.parent_of(task_id)

    def ancestors(self, task_id: int) -> list[str]:
        """The codes above a task, nearest first; stops at a repeat (which a write never makes)."""
        out: list[str] = []
        seen = {task_id}
        current: int | None = task_id
        while current is not None:
            row = self.conn.execute(select(Task.parent_id).where(Task.id == current)).first()
            current = row[0] if row else None
            if current is None or current in seen:
                break
            seen.add(current)
            out.append(self.conn.execute(select(Task.code).where(Task.id == current)).scalar_one())
        return out

    def count_children(self, task_id: int) -> int:
        return int(self.conn.execute(select(func.count()).where(Task.parent_id == task_id)).scalar() or 0)

    def set_parent(self, task_id: int, parent_id: int) -> None:
        self.conn.execute(update(Task).where(Task.id == task_id).values(parent_id=parent_id))

    def children_states(self, task_id: int) -> list[tuple[str, str, str]]:
        """(code, workflow, state) of each sub-task, in the order they were split."""
        rows = self.conn.execute(
            select(Task.code, Task.workflow, Task.state).where(Task.parent_id == task_id).order_by(Task.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def parent_codes(self, codes: list[str]) -> dict[str, str]:
        """Each listed task's parent code, for the tasks that have one."""
        if not codes:
            return {}
        child, parent = Task.__table__.alias("child"), Task.__table__.alias("parent")
        rows = self.conn.execute(
            select(child.c.code, parent.c.code)
            .join(parent, parent.c.id == child.c.parent_id)
            .where(child.c.code.in_(codes))
        )
        return {r[0]: r[1] for r in rows}
