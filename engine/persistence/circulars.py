"""Issued circulars (通报) as stored: their frozen figures, their rendered files, their numbers per schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from .models import Circular, CircularFile


@dataclass(frozen=True, slots=True)
class StoredCircular:
    id: int
    schedule: str
    period_kind: str
    period_from: date
    period_to: date
    campaign: str | None
    lang: str
    created_at: datetime
    figures: dict[str, Any]


_COLUMNS = (
    Circular.id,
    Circular.schedule,
    Circular.period_kind,
    Circular.period_from,
    Circular.period_to,
    Circular.campaign,
    Circular.lang,
    Circular.created_at,
    Circular.figures,
)


class CircularRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def last_period_end(self, schedule: str) -> date | None:
        return self.conn.execute(select(func.max(Circular.period_to)).where(Circular.schedule == schedule)).scalar()

    def issued(self, issue_key: str) -> bool:
        return self.conn.execute(select(Circular.id).where(Circular.issue_key == issue_key)).first() is not None

    def last_issue_no(self, schedule: str) -> int:
        return int(
            self.conn.execute(select(func.max(Circular.issue_no)).where(Circular.schedule == schedule)).scalar() or 0
        )

    def add(
        self,
        *,
        issue_key: str,
        schedule: str,
        period_kind: str,
        period_from: date,
        period_to: date,
        campaign: str | None,
        lang: str,
        figures: dict[str, Any],
        at: datetime,
        issue_no: int | None,
    ) -> int | None:
        """The new circular's id; None when another process stored the same one first (its unique key)."""
        try:
            return int(
                self.conn.execute(
                    insert(Circular)
                    .values(
                        issue_key=issue_key,
                        schedule=schedule,
                        period_kind=period_kind,
                        period_from=period_from,
                        period_to=period_to,
                        campaign=campaign,
                        lang=lang,
                        figures=figures,
                        created_at=at,
                        issue_no=issue_no,
                    )
                    .returning(Circular.id)
                ).scalar_one()
            )
        except IntegrityError:
            return None

    def add_file(self, circular_id: int, name: str, media_type: str, content: bytes) -> None:
        self.conn.execute(
            insert(CircularFile).values(circular_id=circular_id, name=name, media_type=media_type, content=content)
        )

    def listing(self, schedule: str | None) -> list[StoredCircular]:
        query = select(*_COLUMNS).order_by(Circular.period_to.desc(), Circular.id.desc())
        if schedule:
            query = query.where(Circular.schedule == schedule)
        return [StoredCircular(**row._mapping) for row in self.conn.execute(query)]

    def get(self, circular_id: int) -> StoredCircular | None:
        row = self.conn.execute(select(*_COLUMNS).where(Circular.id == circular_id)).first()
        return None if row is None else StoredCircular(**row._mapping)

    def files(self, circular_id: int) -> list[tuple[str, str, bytes]]:
        """(name, media type, content) of each file stored with the circular."""
        rows = self.conn.execute(
            select(CircularFile.name, CircularFile.media_type, CircularFile.content).where(
                CircularFile.circular_id == circular_id
            )
        )
        return [(name, media_type, bytes(content)) for name, media_type, content in rows]

    def file_index(self, ids: list[int]) -> dict[int, list[tuple[str, str, int]]]:
        """circular id → (name, media type, size) of its files, without reading their content."""
        out: dict[int, list[tuple[str, str, int]]] = {}
        if not ids:
            return out
        rows = self.conn.execute(
            select(
                CircularFile.circular_id, CircularFile.name, CircularFile.media_type, func.length(CircularFile.content)
            ).where(CircularFile.circular_id.in_(ids))
        )
        for cid, name, media_type, size in rows:
            out.setdefault(cid, []).append((name, media_type, int(size)))
        return out
