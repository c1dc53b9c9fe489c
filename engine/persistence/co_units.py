"""Co-units' parts (牵头/配合): the ``task_co_units`` rows as parts with their own state and time limits.

The table holds each part as it stands now (for the submit check, ``show``, ``list`` and the sweep); the
history of every part is in the task's events, which the circular replays for a past day
(``domain.co_units.replay_parts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from ..domain.co_units import ASSIGNED, SIGNED, Part
from .models import Event, Task, TaskCoUnit, Unit
from .repository import PARTS_COLUMNS, part_from_row
from .sql import for_dialect
from .types import decode_date, decode_instant


@dataclass(frozen=True, slots=True)
class LatePart:
    """A part the sweep must chase: late to sign for (kind 1) or late to report (kind 2)."""

    task_id: int
    unit_id: int
    kind: int
    due: date


class CoUnitRepository:
    """Reads the parts of many tasks on the driver (a page of the inbox or a list reads them on every view);
    the rest with Core, on SQLAlchemy's view of the unit's connection, made on first use."""

    def __init__(self, core: Callable[[], Connection], dialect: str, raw: Any) -> None:
        self._core = core
        self.dialect = dialect
        self._raw = raw

    @property
    def conn(self) -> Connection:
        return self._core()

    def ids_by_code(self, codes: Iterable[str]) -> dict[str, int]:
        """Task ids of the given codes (a page of a list), in one query."""
        wanted = sorted(set(codes))
        return dict(self.conn.execute(select(Task.code, Task.id).where(Task.code.in_(wanted))).all())  # type: ignore[arg-type]

    def tasks_with_parts(self, rules: Any, src: Any, scope: Any) -> list[tuple[int, str, str, str]]:
        return tasks_with_parts(self.conn, rules, src, scope)

    def parts_of(self, task_ids: Iterable[int], tz: Any) -> dict[int, list[Part]]:
        """Parts of many tasks (a page of a list or of the inbox, an export), by task, each task's by co-unit
        name: one statement per 500 tasks."""
        ids = sorted(set(task_ids))
        out: dict[int, list[Part]] = {}
        cur = self._raw.cursor()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join(f":t{i}" for i in range(len(chunk)))
            statement = (
                f"SELECT c.task_id, {PARTS_COLUMNS} FROM task_co_units c JOIN units u ON u.id = c.unit_id"
                f" WHERE c.task_id IN ({marks}) ORDER BY c.task_id, u.name"
            )
            cur.execute(for_dialect(statement, self.dialect), {f"t{i}": t for i, t in enumerate(chunk)})
            for row in cur.fetchall():
                out.setdefault(row[0], []).append(part_from_row(row[1:], tz))
        return out

    def set_days(self, task_id: int, unit_id: int, sign_by: date | None, report_by: date | None) -> None:
        self.conn.execute(
            update(TaskCoUnit)
            .where(TaskCoUnit.task_id == task_id, TaskCoUnit.unit_id == unit_id)
            .values(sign_by=sign_by, report_by=report_by, state=ASSIGNED, chased=0)
        )

    def move(self, task_id: int, unit_id: int, state: str, at: datetime) -> None:
        """The part's new state: signed for, or settled (reported, waived)."""
        values: dict[str, Any] = {"state": state}
        if state == SIGNED:
            values["signed_at"] = at
        else:
            values["settled_at"] = at
        self.conn.execute(
            update(TaskCoUnit).where(TaskCoUnit.task_id == task_id, TaskCoUnit.unit_id == unit_id).values(**values)
        )
        if state != SIGNED:  # reported without a separate sign-for: it was signed for then
            self.conn.execute(
                update(TaskCoUnit)
                .where(TaskCoUnit.task_id == task_id, TaskCoUnit.unit_id == unit_id, TaskCoUnit.signed_at.is_(None))
                .values(signed_at=at)
            )

    def late(self, today: date, open_states: Iterable[tuple[str, str]], limit: int) -> list[LatePart]:
        """Parts past their sign-for day unsigned, or past their report-by day unsettled, not yet chased for it,
        of tasks in a state where the clock runs (``open_states``: (workflow, state) pairs)."""
        pairs = sorted(set(open_states))
        if not pairs:
            return []
        in_open = or_(*(and_(Task.workflow == wf, Task.state == st) for wf, st in pairs))
        rows = self.conn.execute(
            select(
                TaskCoUnit.task_id,
                TaskCoUnit.unit_id,
                TaskCoUnit.state,
                TaskCoUnit.sign_by,
                TaskCoUnit.report_by,
                TaskCoUnit.chased,
            )
            .join(Task, Task.id == TaskCoUnit.task_id)
            .where(
                TaskCoUnit.state.in_((ASSIGNED, SIGNED)),
                TaskCoUnit.chased < 2,
                or_(
                    and_(TaskCoUnit.chased < 1, TaskCoUnit.state == ASSIGNED, TaskCoUnit.sign_by < today),
                    TaskCoUnit.report_by < today,
                ),
                in_open,
            )
            .order_by(TaskCoUnit.task_id, TaskCoUnit.unit_id)
            .limit(limit)
        )
        out = []
        for task_id, unit_id, _state, sign_by, report_by, _chased in rows:
            report_day = decode_date(report_by)
            if report_day is not None and report_day < today:
                out.append(LatePart(task_id, unit_id, 2, report_day))
            else:
                sign_day = decode_date(sign_by)
                assert sign_day is not None
                out.append(LatePart(task_id, unit_id, 1, sign_day))
        return out

    def chased(self, task_id: int, unit_id: int, kind: int) -> None:
        self.conn.execute(
            update(TaskCoUnit).where(TaskCoUnit.task_id == task_id, TaskCoUnit.unit_id == unit_id).values(chased=kind)
        )

    def history(self, task_ids: list[int], until: datetime) -> dict[int, list[tuple[str, datetime, Any, str | None]]]:
        """Each task's events up to ``until`` that may concern its parts, oldest first (replayed by the caller)."""
        out: dict[int, list[tuple[str, datetime, Any, str | None]]] = {}
        for start in range(0, len(task_ids), 500):
            chunk = task_ids[start : start + 500]
            rows = self.conn.execute(
                select(Event.task_id, Event.trigger, Event.at, Event.data, Event.comment)
                .where(
                    Event.task_id.in_(chunk),
                    Event.at <= until,
                    or_(Event.seq == 1, Event.trigger.like("co\\_%", escape="\\")),
                )
                .order_by(Event.task_id, Event.seq)
            )
            for task_id, trigger, at, data, comment in rows:
                out.setdefault(task_id, []).append((trigger, decode_instant(at), data, comment))
        return out


def tasks_with_parts(conn: Connection, rules: Any, src: Any, scope: Any) -> list[tuple[int, str, str, str]]:
    """Tasks in the circular's scope at its date that have co-units and count somewhere (not excluded):
    (task id, code, title, lead unit), by code. ``src`` is the circular's source (today or as of a day)."""
    from .read.report_queries import _in_states, _scoped

    counted = [pair for pair, bucket in rules.buckets.items() if bucket != "excluded"]

    having = select(TaskCoUnit.task_id).distinct().scalar_subquery()

    def where(cols: Any) -> list[Any]:
        # Inside each branch of the ledger: the few tasks with co-units are read by key, not every task.
        return [cols.task_id.in_(having), *_scoped(scope, cols), _in_states(counted, cols.workflow, cols.state)]

    c = src(where).c
    query = select(c.task_id, c.code, c.title, Unit.name).join(Unit, Unit.id == c.unit_id).order_by(c.code)
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]
