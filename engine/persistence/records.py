"""Chained records: the organisation, workspace settings, campaigns, refusals and task baselines.

Each record takes the next place in the same chain as the events (one
statement moves the head, held to commit), so an anchor covers them too, and
a record deleted or edited is as evident as an event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.audit import RecordFacts, record_hash
from .binding import campaign_body, person_body, unit_body
from .codec import decode_instant, encode_instant, encode_json
from .repository import CHAIN_STEP
from .sql import for_dialect

if TYPE_CHECKING:  # the reads use Core; appending a record (a refusal, any command's) needs no SQLAlchemy
    from sqlalchemy import Connection


class RecordRepository:
    """Appends on the driver connection (a refusal, a step's record: every command may write one); reads the
    tables and the records with Core."""

    def __init__(self, core: Callable[[], Connection], dialect: str, raw: Any) -> None:
        self._core = core  # SQLAlchemy's view of the unit's connection, made on first use
        self.dialect = dialect
        self._raw = raw  # the unit's driver connection

    @property
    def conn(self) -> Connection:
        return self._core()

    def append(self, facts: RecordFacts) -> None:
        h = record_hash(facts)
        if facts.at.tzinfo is None:  # as UTCDateTime refuses: instants are stored timezone-aware only
            raise ValueError(f"naive datetime {facts.at!r}: store timezone-aware instants only")
        cur = self._raw.cursor()
        cur.execute(for_dialect(CHAIN_STEP[self.dialect], self.dialect), {"hash": h})
        head = cur.fetchone()
        cur.execute(
            for_dialect(
                "INSERT INTO records (kind, subject, body, at, account, operator_id, via, hash, chain_seq, chain_hash) "
                "VALUES (:kind, :subject, :body, :at, :account, :operator, :via, :hash, :seq, :chain)",
                self.dialect,
            ),
            {
                "kind": facts.kind,
                "subject": facts.subject[:250],
                "body": encode_json(facts.body),
                "at": encode_instant(facts.at, self.dialect),
                "account": facts.account,
                "operator": facts.operator_id,
                "via": facts.via,
                "hash": h,
                "seq": head[0],
                "chain": head[1],
            },
        )
        cur.close()

    def lock_head(self) -> None:
        """Hold the chain's head until commit, so a number taken from the records cannot be taken twice.

        SQLite writers already hold the database (BEGIN IMMEDIATE); PostgreSQL locks the head row.
        """
        if self.dialect == "postgresql":
            cur = self._raw.cursor()
            cur.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")
            cur.close()

    def bodies(self, kind: str, until: datetime | None = None) -> dict[str, tuple[dict[str, Any], datetime]]:
        """The latest body (and its instant) of each subject of ``kind``, as of ``until`` (or now): chain order."""
        from sqlalchemy import select

        from .models import Record

        query = select(Record.subject, Record.body, Record.at).where(Record.kind == kind)
        if until is not None:
            query = query.where(Record.at <= until)
        out: dict[str, tuple[dict[str, Any], datetime]] = {}
        for subject, body, at in self.conn.execute(query.order_by(Record.chain_seq)):
            out[subject] = (body or {}, decode_instant(at))
        return out

    # --- what the tables say now, in the shape the records keep -----------------------------------------

    def people_bodies(self, ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        from sqlalchemy import select

        from .models import PERSON_CONTACT, Person

        query = select(*PERSON_CONTACT, Person.accounts)
        if ids is not None:
            query = query.where(Person.id.in_(list(ids)))
        return {r["id"]: person_body(r) for r in self.conn.execute(query).mappings()}

    def unit_bodies(self, ids: Iterable[int] | None = None) -> dict[str, dict[str, Any]]:
        from sqlalchemy import select

        from .models import Unit

        query = select(Unit.id, Unit.name, Unit.parent_id, Unit.head_id, Unit.channels, Unit.aliases, Unit.digest)
        if ids is not None:
            query = query.where(Unit.id.in_(list(ids)))
        return {str(r["id"]): unit_body(r) for r in self.conn.execute(query).mappings()}

    def workspace_bodies(self) -> dict[str, dict[str, Any]]:
        from sqlalchemy import select

        from .models import WorkspaceSetting

        return {k: {"value": v} for k, v in self.conn.execute(select(WorkspaceSetting.key, WorkspaceSetting.value))}

    def campaign_bodies(self) -> dict[str, dict[str, Any]]:
        from sqlalchemy import select

        from .models import Campaign

        query = select(Campaign.name, Campaign.feedback_on, Campaign.source, Campaign.started_on)
        return {r["name"]: campaign_body(r) for r in self.conn.execute(query).mappings()}

    def projections(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every projected kind, as the tables hold it now: verify compares these with the records' replay."""
        from .instructions import InstructionRepository
        from .substitutions import SubstitutionRepository

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
        from sqlalchemy import select

        from .models import Record

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
