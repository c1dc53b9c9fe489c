"""Extension requests (延期申请): the rows behind request, decide and list, as named rows.

The service decides (is there a deadline, is one already pending, is the new date later); this
repository only reads and writes, so the rules can be read in the service without SQL around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import aliased

from .models import ExtensionRequest, Person, Task


@dataclass(frozen=True, slots=True)
class TaskForExtension:
    id: int
    deadline: date | None
    workflow: str
    campaign: str | None


@dataclass(frozen=True, slots=True)
class PendingDecision:
    status: str
    requested_deadline: date
    code: str
    deadline: date | None


@dataclass(frozen=True, slots=True)
class ExtensionView:
    """One request as `deadlines list` and the web show it."""

    id: int
    code: str
    title: str
    requested_by: str
    requested_at: datetime
    current_deadline: date | None
    requested_deadline: date
    reason: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None


class ExtensionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_task(self, code: str) -> TaskForExtension | None:
        """The task, row-locked so two requests at once queue (SQLite's BEGIN IMMEDIATE does the same)."""
        row = self.conn.execute(
            select(Task.id, Task.deadline, Task.workflow, Task.campaign).where(Task.code == code).with_for_update()
        ).first()
        return None if row is None else TaskForExtension(row.id, row.deadline, row.workflow, row.campaign)

    def pending_for(self, task_id: int) -> int | None:
        return self.conn.execute(
            select(ExtensionRequest.id).where(ExtensionRequest.task_id == task_id, ExtensionRequest.status == "pending")
        ).scalar()

    def add(
        self,
        *,
        task_id: int,
        requested_by: str,
        requested_at: datetime,
        current_deadline: date | None,
        requested_deadline: date,
        reason: str,
    ) -> int:
        return int(
            self.conn.execute(
                insert(ExtensionRequest)
                .values(
                    task_id=task_id,
                    requested_by=requested_by,
                    requested_at=requested_at,
                    current_deadline=current_deadline,
                    requested_deadline=requested_deadline,
                    reason=reason,
                    status="pending",
                )
                .returning(ExtensionRequest.id)
            ).scalar_one()
        )

    def for_decision(self, request_id: int) -> PendingDecision | None:
        row = self.conn.execute(
            select(ExtensionRequest.status, ExtensionRequest.requested_deadline, Task.code, Task.deadline)
            .join(Task, Task.id == ExtensionRequest.task_id)
            .where(ExtensionRequest.id == request_id)
        ).first()
        return None if row is None else PendingDecision(row.status, row.requested_deadline, row.code, row.deadline)

    def decide(self, request_id: int, *, status: str, by: str, at: datetime, comment: str | None) -> bool:
        """Decided once: a second decision, even a concurrent one, finds it taken (returns False)."""
        taken = self.conn.execute(
            update(ExtensionRequest)
            .where(ExtensionRequest.id == request_id, ExtensionRequest.status == "pending")
            .values(status=status, decided_by=by, decided_at=at, comment=comment)
        ).rowcount
        return taken == 1

    def views(self, *, status: str | None, code: str | None, request_id: int | None) -> list[ExtensionView]:
        asker = aliased(Person)
        e = ExtensionRequest
        query = (
            select(
                e.id,
                Task.code,
                Task.title,
                e.requested_by,
                e.requested_at,
                e.current_deadline,
                e.requested_deadline,
                e.reason,
                e.status,
                e.decided_by,
                e.decided_at,
                e.comment,
            )
            .join(Task, Task.id == e.task_id)
            .join(asker, asker.id == e.requested_by)
            .order_by(e.id)
        )
        if status:
            query = query.where(e.status == status)
        if code:
            query = query.where(Task.code == code)
        if request_id is not None:
            query = query.where(e.id == request_id)
        return [ExtensionView(**row._mapping) for row in self.conn.execute(query)]
