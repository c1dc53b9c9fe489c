"""Chained records: the organisation, workspace settings, campaigns, refusals and task baselines.

Each record takes the next place in the same chain as the events (one
statement moves the head, held to commit), so an anchor covers them too, and
a record deleted or edited is as evident as an event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from ..domain.audit import RecordFacts, record_hash
from .binding import campaign_body, person_body, unit_body
from .instructions import InstructionRepository
from .models import PERSON_CONTACT, Campaign, Person, Record, Unit, WorkspaceSetting
from .repository import CHAIN_STEP
from .substitutions import SubstitutionRepository
from .types import decode_instant


class RecordRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def append(self, facts: RecordFacts) -> None:
        h = record_hash(facts)
        head = self.conn.execute(text(CHAIN_STEP[self.dialect]), {"hash": h}).one()
        self.conn.execute(
            insert(Record).values(
                kind=facts.kind,
                subject=facts.subject[:250],
                body=facts.body,
                at=facts.at,
                account=facts.account,
                operator_id=facts.operator_id,
                via=facts.via,
                hash=h,
                chain_seq=head[0],
                chain_hash=head[1],
            )
        )

    def lock_head(self) -> None:
        """Hold the chain's head until commit, so a number taken from the records cannot be taken twice.

        SQLite writers already hold the database (BEGIN IMMEDIATE); PostgreSQL locks the head row.
        """
        if self.dialect == "postgresql":
            self.conn.execute(text("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE"))

    def bodies(self, kind: str, until: datetime | None = None) -> dict[str, tuple[dict[str, Any], datetime]]:
        """The latest body (and its instant) of each subject of ``kind``, as of ``until`` (or now): chain order."""
        query = select(Record.subject, Record.body, Record.at).where(Record.kind == kind)
        if until is not None:
            query = query.where(Record.at <= until)
        out: dict[str, tuple[dict[str, Any], datetime]] = {}
        for subject, body, at in self.conn.execute(query.order_by(Record.chain_seq)):
            out[subject] = (body or {}, decode_instant(at))
        return out

    # --- what the tables say now, in the shape the records keep -----------------------------------------

    def people_bodies(self, ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        query = select(*PERSON_CONTACT, Person.accounts)
        if ids is not None:
            query = query.where(Person.id.in_(list(ids)))
        return {r["id"]: person_body(r) for r in self.conn.execute(query).mappings()}

    def unit_bodies(self, ids: Iterable[int] | None = None) -> dict[str, dict[str, Any]]:
        query = select(Unit.id, Unit.name, Unit.parent_id, Unit.head_id, Unit.channels, Unit.aliases, Unit.digest)
        if ids is not None:
            query = query.where(Unit.id.in_(list(ids)))
        return {str(r["id"]): unit_body(r) for r in self.conn.execute(query).mappings()}

    def workspace_bodies(self) -> dict[str, dict[str, Any]]:
        return {k: {"value": v} for k, v in self.conn.execute(select(WorkspaceSetting.key, WorkspaceSetting.value))}

    def campaign_bodies(self) -> dict[str, dict[str, Any]]:
        query = select(Campaign.name, Campaign.feedback_on, Campaign.source, Campaign.started_on)
        return {r["name"]: campaign_body(r) for r in self.conn.execute(query).mappings()}

    def projections(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every projected kind, as the tables hold it now: verify compares these with the records' replay."""
        return {
            "person": self.people_bodies(),
            "unit": self.unit_bodies(),
            "workspace": self.workspace_bodies(),
            "campaign": self.campaign_bodies(),
            "instruction": InstructionRepository(self.conn).bodies(),
            "substitution": SubstitutionRepository(self.conn).bodies(),
        }

    def last_bodies(self, kind: str, subjects: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        """The body of each subject's latest record of ``kind`` (subjects never recorded are absent)."""
        wanted = list(subjects)
        out: dict[str, dict[str, Any] | None] = {}
        for i in range(0, len(wanted), 500):
            query = (
                select(Record.subject, Record.body)
                .where(Record.kind == kind, Record.subject.in_(wanted[i : i + 500]))
                .order_by(Record.chain_seq)
            )
            for subject, body in self.conn.execute(query):
                out[subject] = body
        return out
