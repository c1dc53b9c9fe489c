"""Tamper-evident history: each event hashes its content and the task's previous event (a chain per task),
and each event's hash is folded into one chain over the whole ledger, in the order events were written.

Editing an event breaks its task's chain; deleting or reordering events breaks
the task's chain or the ledger chain; deleting a task with its whole history
leaves a gap in the ledger chain. Someone who can write the database could
recompute every hash; an anchor (the ledger head signed with a key kept
outside the database) catches that, and truncation, when verified later.
Pure functions: the store feeds rows in, the verdicts come out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of a task's first event, and of the ledger's first


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What an event's hash covers: everything that says who did what to which task, when."""

    task: str  # the task's code: known before its row exists, and what people quote
    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: str
    operator_id: str | None
    comment: str | None
    at: datetime
    data: dict[str, Any] | None
    deadline: date | None


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(e: EventFacts) -> bytes:
    """One byte string per event, the same on every database and Python: sorted keys, UTC to the microsecond."""
    return json.dumps(
        {
            "task": e.task,
            "seq": e.seq,
            "trigger": e.trigger,
            "from": e.from_state,
            "to": e.to_state,
            "actor": e.actor_id,
            "operator": e.operator_id,
            "comment": e.comment,
            "at": _instant(e.at),
            "data": e.data,
            "deadline": e.deadline.isoformat() if e.deadline else None,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")


def event_hash(e: EventFacts, previous: str) -> str:
    return hashlib.sha256(previous.encode("ascii") + canonical(e)).hexdigest()


def ledger_hash(previous: str, event: str) -> str:
    return hashlib.sha256((previous + event).encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    facts: EventFacts
    hash: str
    ledger_seq: int
    ledger_hash: str


@dataclass(frozen=True, slots=True)
class Break:
    """The first place a chain does not hold."""

    code: str | None
    seq: int | None
    ledger_seq: int | None
    what: str


def verify_tasks(events: Iterable[StoredEvent]) -> list[Break]:
    """Per task, in seq order: positions 1, 2, 3… and each hash over its content and the one before.

    ``events`` must come ordered by task, then seq. Returns the first break of each broken task.
    """
    breaks: list[Break] = []
    task: str | None = None
    previous, expected_seq, broken = GENESIS, 1, False
    for ev in events:
        f = ev.facts
        if f.task != task:
            task, previous, expected_seq, broken = f.task, GENESIS, 1, False
        if broken:
            continue
        if f.seq != expected_seq:
            what = "missing" if f.seq > expected_seq else "out of order"
            breaks.append(Break(f.task, expected_seq, ev.ledger_seq, f"event {expected_seq} is {what}"))
            broken = True
            continue
        if event_hash(f, previous) != ev.hash:
            breaks.append(Break(f.task, f.seq, ev.ledger_seq, "its content does not match its hash (edited)"))
            broken = True
            continue
        previous, expected_seq = ev.hash, expected_seq + 1
    return breaks


def verify_ledger(chain: Iterable[tuple[int, str, str, str | None, int | None]]) -> Break | None:
    """The ledger chain: (ledger_seq, event hash, ledger hash, code, seq) in ledger order, gap-free from 1."""
    previous, expected = GENESIS, 1
    for ledger_seq, ev_hash, chained, code, seq in chain:
        if ledger_seq != expected:
            return Break(
                None, None, expected, f"ledger entries {expected}–{ledger_seq - 1} are missing (events deleted)"
            )
        if ledger_hash(previous, ev_hash) != chained:
            return Break(code, seq, ledger_seq, "the ledger chain does not follow here (an event changed or moved)")
        previous, expected = chained, expected + 1
    return None


# --- anchors ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anchor:
    """The ledger's head at a moment, signed with a key the database never holds."""

    ledger_seq: int
    ledger_hash: str
    events: int
    at: datetime
    mac: str = ""

    def message(self) -> bytes:
        return f"duban-anchor-v1|{self.ledger_seq}|{self.ledger_hash}|{self.events}|{_instant(self.at)}".encode()

    def signed(self, key: bytes) -> Anchor:
        mac = hmac.new(key, self.message(), hashlib.sha256).hexdigest()
        return Anchor(self.ledger_seq, self.ledger_hash, self.events, self.at, mac)

    def genuine(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).mac, self.mac)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "duban-anchor-v1",
            "ledger_seq": self.ledger_seq,
            "ledger_hash": self.ledger_hash,
            "events": self.events,
            "at": _instant(self.at),
            "hmac_sha256": self.mac,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Anchor:
        if d.get("format") != "duban-anchor-v1":
            raise ValueError("not a duban anchor (format duban-anchor-v1)")
        at = datetime.strptime(str(d["at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return cls(int(d["ledger_seq"]), str(d["ledger_hash"]), int(d["events"]), at, str(d["hmac_sha256"]))
