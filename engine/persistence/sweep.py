"""The sweep's reads and writes on the tasks table: which tasks are due a look, and what the sweep decided.

Apart from the outbox (which holds the messages) so that each repository says one thing; both run on the unit
of work's connection, and the sweep writes a batch's notifications and its decisions in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.planning import DeadlineClock
from .codec import decode_date, decode_instant
from .outbox import _ABOUT_COLUMNS, About, _about
from .sql import DriverStatements, for_dialect


@dataclass(frozen=True, slots=True)
class DueTask:
    """A task the sweep must look at: what it is about, and its deadline clock."""

    about: About
    clock: DeadlineClock


def _due_clock(r: Any) -> DeadlineClock:
    return DeadlineClock(
        deadline=decode_date(r[8]),
        deadline_version=r[9],
        watch_from=decode_instant(r[10]),
        last_progress_at=None if r[11] is None else decode_instant(r[11]),
        created_at=decode_instant(r[12]),
        escalation_level=r[13],
        sign_by=decode_date(r[14]),
        signed_at=None if r[15] is None else decode_instant(r[15]),
        next_action_at=None if r[16] is None else decode_instant(r[16]),
        clock_stopped_at=None if r[17] is None else decode_instant(r[17]),
    )


class SweepRepository(DriverStatements):
    def due_tasks(self, now: datetime, limit: int) -> list[DueTask]:
        """Tasks whose next action is due, by the index; on PostgreSQL rows another sweeper holds are skipped."""
        lock = " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""
        rows = self._run(
            f"SELECT {_ABOUT_COLUMNS}, deadline_version, watch_from, last_progress_at, created_at, escalation_level, "
            "sign_by, signed_at, next_action_at, clock_stopped_at "
            "FROM tasks WHERE next_action_at <= :now ORDER BY next_action_at LIMIT :limit" + lock,
            {"now": self._at(now), "limit": limit},
        ).fetchall()
        return [DueTask(about=_about(r), clock=_due_clock(r)) for r in rows]

    def record_sweeps(self, updates: list[tuple[int, datetime, datetime | None, int, bool]]) -> None:
        """(task id, watch_from, next_at, level, named) for a batch, in one statement."""
        if not updates:
            return
        cur = self.conn.cursor()
        cur.executemany(
            for_dialect(
                "UPDATE tasks SET watch_from = :watch_from, next_action_at = :next_at, escalation_level = :level, "
                "named_in_circular = CASE WHEN :named THEN :true ELSE named_in_circular END WHERE id = :id",
                self.dialect,
            ),
            [
                {"watch_from": self._at(w), "next_at": self._at(n), "level": lv, "named": named, "true": True, "id": i}
                for i, w, n, lv, named in updates
            ],
        )
