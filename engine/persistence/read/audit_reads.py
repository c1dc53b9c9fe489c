"""What ``audit verify`` reads: the events, the records, the rows they bind, streamed in the orders it walks.

Named rows, streamed with ``yield_per`` so memory stays flat however long the history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, literal, null, select, union_all

from ..models import ChainHead, Event, EvidenceFile, ProgressReport, Record, StoredAnchor, Task, TaskCoUnit

STREAM = 5000


class AuditReader:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _stream(self, query: Any) -> Iterator[Row[Any]]:
        yield from self.conn.execution_options(yield_per=STREAM).execute(query)

    def events_by_task(self, campaign: str | None) -> Iterator[Row[Any]]:
        query = select(
            Task.code,
            Event.seq,
            Event.trigger,
            Event.from_state,
            Event.to_state,
            Event.actor_id,
            Event.operator_id,
            Event.comment,
            Event.at,
            Event.data,
            Event.deadline,
            Event.hash,
            Event.chain_seq,
            Event.chain_hash,
            Event.account,
            Event.row_facts,
            Event.via,
            Event.unit_id,
        ).join(Task, Task.id == Event.task_id)
        if campaign:
            query = query.where(Task.campaign == campaign)
        return self._stream(query.order_by(Task.code, Event.seq))

    def tasks(self, campaign: str | None) -> Iterator[Row[Any]]:
        query = select(Task)
        if campaign:
            query = query.where(Task.campaign == campaign)
        return self._stream(query.order_by(Task.code))

    def co_units(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for task_id, unit_id in self.conn.execute(select(TaskCoUnit.task_id, TaskCoUnit.unit_id)):
            out.setdefault(task_id, []).append(unit_id)
        return out

    def chain(self) -> Iterator[Row[Any]]:
        """Events and records together, in the order the chain links them."""
        events = select(
            Event.chain_seq.label("chain_seq"),
            Event.hash.label("hash"),
            Event.chain_hash.label("chain_hash"),
            literal("event").label("kind"),
            Task.code.label("subject"),
            Event.seq.label("seq"),
            Event.at.label("at"),
            Event.account.label("account"),
            Event.actor_id.label("actor_id"),
            Event.operator_id.label("operator_id"),
            null().label("body"),
            Event.via.label("via"),
        ).join(Task, Task.id == Event.task_id)
        records = select(
            Record.chain_seq,
            Record.hash,
            Record.chain_hash,
            Record.kind,
            Record.subject,
            null(),
            Record.at,
            Record.account,
            null(),
            Record.operator_id,
            Record.body,
            Record.via,
        )
        both = union_all(events, records).subquery()
        return self._stream(select(both).order_by(both.c.chain_seq))

    def last_entry(self) -> tuple[int, str] | None:
        best: tuple[int, str] | None = None
        for table in (Event, Record):
            row = self.conn.execute(
                select(table.chain_seq, table.chain_hash).order_by(table.chain_seq.desc()).limit(1)
            ).first()
            if row is not None and (best is None or row[0] > best[0]):
                best = (int(row[0]), str(row[1]))
        return best

    def entry_hash(self, chain_seq: int) -> str | None:
        for table in (Event, Record):
            found = self.conn.execute(select(table.chain_hash).where(table.chain_seq == chain_seq)).scalar()
            if found is not None:
                return str(found)
        return None

    def head(self) -> tuple[int, str] | None:
        row = self.conn.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def entries(self) -> int:
        events = self.conn.execute(select(func.count()).select_from(Event)).scalar_one()
        records = self.conn.execute(select(func.count()).select_from(Record)).scalar_one()
        return int(events) + int(records)

    def progress(self, campaign: str | None) -> Iterator[Row[Any]]:
        """Each progress report beside the event it claims to come from (None where there is no such event)."""
        query = (
            select(
                Task.code,
                ProgressReport.id,
                ProgressReport.event_seq,
                ProgressReport.percent,
                ProgressReport.note,
                ProgressReport.actor_id,
                ProgressReport.at,
                Event.data.label("event_data"),
                Event.actor_id.label("event_actor"),
                Event.at.label("event_at"),
            )
            .join(Task, Task.id == ProgressReport.task_id)
            .outerjoin(Event, (Event.task_id == ProgressReport.task_id) & (Event.seq == ProgressReport.event_seq))
        )
        if campaign:
            query = query.where(Task.campaign == campaign)
        return self._stream(query.order_by(ProgressReport.id))

    def evidence(self) -> dict[int, list[tuple[str, int, str]]]:
        out: dict[int, list[tuple[str, int, str]]] = {}
        query = select(EvidenceFile.report_id, EvidenceFile.sha256, EvidenceFile.size, EvidenceFile.original_name)
        for report_id, sha, size, name in self.conn.execute(query):
            out.setdefault(report_id, []).append((sha, size, name))
        return out

    def records_of(self, kind: str, subject: str | None = None) -> Iterator[Row[Any]]:
        query = select(Record).where(Record.kind == kind)
        if subject is not None:
            query = query.where(Record.subject == subject)
        return self._stream(query.order_by(Record.chain_seq))

    # --- anchors kept by the beat ------------------------------------------------------------------

    def store_anchor(self, chain_seq: int, chain_hash: str, entries: int, at: datetime, mac: str) -> None:
        self.conn.execute(
            insert(StoredAnchor).values(chain_seq=chain_seq, chain_hash=chain_hash, entries=entries, at=at, mac=mac)
        )

    def latest_anchor(self) -> Row[Any] | None:
        return self.conn.execute(select(StoredAnchor).order_by(StoredAnchor.id.desc()).limit(1)).first()

    # --- who did what ------------------------------------------------------------------------------

    def log_events(self, actor: str | None, task: str | None, since: datetime | None, limit: int) -> list[Row[Any]]:
        query = select(
            Event.at,
            Event.actor_id,
            Event.operator_id,
            Event.trigger,
            Task.code,
            Event.comment,
            Event.chain_seq,
        ).join(Task, Task.id == Event.task_id)
        if actor:
            query = query.where(Event.actor_id == actor)
        if task:
            query = query.where(Task.code == task)
        if since:
            query = query.where(Event.at >= since)
        return list(self.conn.execute(query.order_by(Event.at.desc(), Event.chain_seq.desc()).limit(limit)))

    def log_refusals(self, task: str | None, since: datetime | None) -> list[Row[Any]]:
        query = select(Record).where(Record.kind == "refusal")
        if task:
            query = query.where(Record.subject == task)
        if since:
            query = query.where(Record.at >= since)
        return list(self.conn.execute(query.order_by(Record.chain_seq.desc())))
