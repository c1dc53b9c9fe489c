"""Substitutes (代理): the table, its chained bodies, and who stands in for whom on a day.

The table is a projection of the chain's records of kind "substitution"; ``substitution_body`` gives the
shape both share, so ``audit verify`` compares them like the organisation.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from ..domain.substitution import Substitution as SubstitutionFacts
from ..domain.substitution import substitution_body
from .models import Substitution
from .types import decode_date

_COLUMNS = (
    Substitution.code,
    Substitution.absent_id,
    Substitution.substitute_id,
    Substitution.starts_on,
    Substitution.ends_on,
    Substitution.reason,
    Substitution.status,
    Substitution.requested_by,
    Substitution.requested_at,
    Substitution.decided_by,
    Substitution.decided_at,
    Substitution.cancelled_by,
    Substitution.cancelled_at,
)


def _facts(r: Any) -> SubstitutionFacts:
    return SubstitutionFacts(
        code=r["code"],
        absent_id=r["absent_id"],
        substitute_id=r["substitute_id"],
        starts_on=_day(r["starts_on"]),
        ends_on=_day(r["ends_on"]),
        reason=r["reason"],
        status=r["status"],
        requested_by=r["requested_by"],
        requested_at=r["requested_at"],
        decided_by=r["decided_by"],
        decided_at=r["decided_at"],
        cancelled_by=r["cancelled_by"],
        cancelled_at=r["cancelled_at"],
    )


def _day(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    found = decode_date(v)
    assert found is not None
    return found


class SubstitutionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, s: SubstitutionFacts) -> None:
        self.conn.execute(
            insert(Substitution).values(
                code=s.code,
                absent_id=s.absent_id,
                substitute_id=s.substitute_id,
                starts_on=s.starts_on,
                ends_on=s.ends_on,
                reason=s.reason,
                status=s.status,
                requested_by=s.requested_by,
                requested_at=s.requested_at,
            )
        )

    def decide(self, code: str, status: str, by: str, at: datetime) -> None:
        self.conn.execute(
            update(Substitution).where(Substitution.code == code).values(status=status, decided_by=by, decided_at=at)
        )

    def cancel(self, code: str, by: str, at: datetime) -> None:
        self.conn.execute(
            update(Substitution)
            .where(Substitution.code == code)
            .values(status="cancelled", cancelled_by=by, cancelled_at=at)
        )

    def get(self, code: str) -> SubstitutionFacts | None:
        row = self.conn.execute(select(*_COLUMNS).where(Substitution.code == code)).mappings().first()
        return _facts(row) if row is not None else None

    def listing(self, person: str | None = None) -> list[SubstitutionFacts]:
        """Every substitution (or those of one person, absent or standing in), by first day."""
        query = select(*_COLUMNS).order_by(Substitution.starts_on, Substitution.code)
        if person is not None:
            query = query.where(or_(Substitution.absent_id == person, Substitution.substitute_id == person))
        return [_facts(r) for r in self.conn.execute(query).mappings()]

    def of_absent(self, absent_id: str) -> list[SubstitutionFacts]:
        query = select(*_COLUMNS).where(Substitution.absent_id == absent_id)
        return [_facts(r) for r in self.conn.execute(query).mappings()]

    def bodies(self, codes: list[str] | None = None) -> dict[str, dict[str, Any]]:
        query = select(*_COLUMNS)
        if codes is not None:
            query = query.where(Substitution.code.in_(codes))
        return {r["code"]: substitution_body(r) for r in self.conn.execute(query).mappings()}
