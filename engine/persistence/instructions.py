"""Leaders' instructions (领导批示): the table, its chained bodies, and the tasks that point back.

The table is a projection of the chain's records of kind "instruction"; ``body`` gives the shape both
share, so ``audit verify`` compares them like the organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select

from .models import Instruction, Person, Task, Unit
from .types import decode_date


@dataclass(frozen=True, slots=True)
class InstructionRow:
    code: str
    leader_id: str
    leader_name: str | None
    text: str
    ref: str | None
    issued_on: date
    created_at: datetime
    tasks: int = 0
    closed: int = 0


@dataclass(frozen=True, slots=True)
class PointingTask:
    code: str
    title: str
    unit: str
    state: str
    workflow: str


def instruction_body(row: Any) -> dict[str, Any]:
    issued = row["issued_on"]
    day = decode_date(issued) if not isinstance(issued, datetime) else issued.date()
    return {
        "leader_id": row["leader_id"],
        "text": row["text"],
        "ref": row["ref"],
        "issued_on": day.isoformat() if day else None,
    }


class InstructionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, code: str, leader_id: str, text: str, ref: str | None, issued_on: date, at: datetime) -> None:
        self.conn.execute(
            insert(Instruction).values(
                code=code, leader_id=leader_id, text=text, ref=ref, issued_on=issued_on, created_at=at
            )
        )

    def bodies(self, codes: list[str] | None = None) -> dict[str, dict[str, Any]]:
        query = select(
            Instruction.code, Instruction.leader_id, Instruction.text, Instruction.ref, Instruction.issued_on
        )
        if codes is not None:
            query = query.where(Instruction.code.in_(codes))
        return {r["code"]: instruction_body(r) for r in self.conn.execute(query).mappings()}

    def get(self, code: str) -> InstructionRow | None:
        found = self.listing(code=code)
        return found[0] if found else None

    def listing(
        self, code: str | None = None, closed_states: list[tuple[str, str]] | None = None
    ) -> list[InstructionRow]:
        """Each instruction with how many tasks point back to it, and how many of those are closed."""
        closed_pairs = closed_states or []
        is_closed = (
            func.sum(case(*[((Task.workflow == w) & (Task.state == s), 1) for w, s in closed_pairs], else_=0))
            if closed_pairs
            else func.sum(0)
        )
        counts = (
            select(Task.instruction.label("code"), func.count().label("tasks"), is_closed.label("closed"))
            .where(Task.instruction.is_not(None))
            .group_by(Task.instruction)
            .subquery("pointing")
        )
        query = (
            select(
                Instruction.code,
                Instruction.leader_id,
                Person.name,
                Instruction.text,
                Instruction.ref,
                Instruction.issued_on,
                Instruction.created_at,
                func.coalesce(counts.c.tasks, 0),
                func.coalesce(counts.c.closed, 0),
            )
            .join(Person, Person.id == Instruction.leader_id, isouter=True)
            .join(counts, counts.c.code == Instruction.code, isouter=True)
            .order_by(Instruction.issued_on, Instruction.code)
        )
        if code is not None:
            query = query.where(Instruction.code == code)
        return [
            InstructionRow(r[0], r[1], r[2], r[3], r[4], decode_date(r[5]) or r[5], r[6], int(r[7]), int(r[8] or 0))
            for r in self.conn.execute(query)
        ]

    def tasks_of(self, code: str) -> list[PointingTask]:
        query = (
            select(Task.code, Task.title, Unit.name, Task.state, Task.workflow)
            .join(Unit, Unit.id == Task.unit_id)
            .where(Task.instruction == code)
            .order_by(Task.code)
        )
        return [PointingTask(*r) for r in self.conn.execute(query)]
