"""Campaigns (整改专项) as stored: whether one exists, adding one, and the list in the order offices read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, insert, select

from .models import Campaign


@dataclass(frozen=True, slots=True)
class CampaignView:
    name: str
    feedback_on: date | None
    source: str | None
    started_on: date | None


class CampaignRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def exists(self, name: str) -> bool:
        return self.conn.execute(select(Campaign.name).where(Campaign.name == name)).first() is not None

    def get(self, name: str) -> CampaignView | None:
        row = self.conn.execute(
            select(Campaign.name, Campaign.feedback_on, Campaign.source, Campaign.started_on).where(
                Campaign.name == name
            )
        ).first()
        return None if row is None else CampaignView(*row)

    def add(
        self, *, name: str, feedback_on: date | None, source: str | None, started_on: date | None, at: datetime
    ) -> None:
        self.conn.execute(
            insert(Campaign).values(
                name=name, feedback_on=feedback_on, source=source, started_on=started_on, created_at=at
            )
        )

    def listing(self) -> list[CampaignView]:
        """Dated campaigns first, oldest feedback first; undated ones after, by name."""
        rows = self.conn.execute(
            select(Campaign.name, Campaign.feedback_on, Campaign.source, Campaign.started_on).order_by(
                Campaign.feedback_on.is_(None), Campaign.feedback_on, Campaign.name
            )
        )
        return [CampaignView(*row) for row in rows]
