"""Proving the history: verify the chains, anchor the ledger's head, read who did what (refusals included).

Verification streams the events in two orders (per task, and the ledger's
own) so memory stays flat however long the history. An anchor is the head
signed with ``DUBAN_AUDIT_KEY``, a secret the database never sees: someone able
to rewrite the whole database could recompute every hash, but not the
signature of an anchor taken before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, union_all

from ..app import App
from ..domain.audit import GENESIS, Anchor, Break, EventFacts, StoredEvent, verify_ledger, verify_tasks
from ..domain.errors import BadFile, InvalidInput
from ..persistence.models import Event, LedgerHead, Refusal, Task
from ..persistence.types import decode_instant
from ..persistence.uow import UnitOfWork

KEY_SETTING = "DUBAN_AUDIT_KEY"
MIN_KEY = 16


@dataclass
class Verdict:
    tasks: int = 0
    events: int = 0
    breaks: list[Break] = field(default_factory=list)
    anchor_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.breaks


def _events(uow: UnitOfWork, campaign: str | None, order: str) -> Iterator[tuple[Any, ...]]:
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
        Event.ledger_seq,
        Event.ledger_hash,
    ).join(Task, Task.id == Event.task_id)
    if campaign:
        query = query.where(Task.campaign == campaign)
    query = query.order_by(Task.code, Event.seq) if order == "task" else query.order_by(Event.ledger_seq)
    yield from uow.conn.execution_options(yield_per=5000).execute(query)


def _stored(row: tuple[Any, ...]) -> StoredEvent:
    facts = EventFacts(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10])
    return StoredEvent(facts, row[11], row[12], row[13])


def verify(app: App, campaign: str | None = None, anchor: Anchor | None = None) -> Verdict:
    """Every task's chain, the tasks' own records of them, the ledger chain and its head, and the anchor if given."""
    verdict = Verdict()
    with app.uow(write=False) as uow:
        counted: dict[str, int] = {}
        heads: dict[str, str] = {}  # each task's last event's hash, seen on the way (events come in seq order)

        def counting() -> Iterator[StoredEvent]:
            for row in _events(uow, campaign, "task"):
                verdict.events += 1
                counted[row[0]] = counted.get(row[0], 0) + 1
                heads[row[0]] = row[11]
                yield _stored(row)

        verdict.breaks += verify_tasks(counting())
        tasks = select(Task.code, Task.version, Task.head_hash)
        if campaign:
            tasks = tasks.where(Task.campaign == campaign)
        last = {b.code for b in verdict.breaks}
        for code, version, head in uow.conn.execute(tasks):
            verdict.tasks += 1
            if code in last:
                continue
            if counted.get(code, 0) != version:
                have = counted.get(code, 0)
                verdict.breaks.append(
                    Break(code, have + 1, None, f"the task is at version {version} but its history has {have} events")
                )
            elif (head or GENESIS) != heads.get(code, GENESIS):
                verdict.breaks.append(Break(code, version, None, "the task's record of its last event does not match"))
        last_seq, last_hash = 0, GENESIS  # the last ledger entry, seen on the way

        def ledger_order() -> Iterator[tuple[int, str, str, str | None, int | None]]:
            nonlocal last_seq, last_hash
            for r in _events(uow, None, "ledger"):
                last_seq, last_hash = r[12], r[13]
                yield r[12], r[11], r[13], r[0], r[1]

        ledger = verify_ledger(ledger_order())
        if ledger is not None:  # the walk stopped at the break: the last entry is asked for
            verdict.breaks.append(ledger)
            row = uow.conn.execute(
                select(Event.ledger_seq, Event.ledger_hash).order_by(Event.ledger_seq.desc()).limit(1)
            ).first()
            last_seq, last_hash = (row[0], row[1]) if row else (0, GENESIS)
        ledger_head = uow.conn.execute(select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1)).first()
        if ledger_head is None or (ledger_head[0], ledger_head[1]) != (last_seq, last_hash):
            verdict.breaks.append(
                Break(None, None, last_seq, "the ledger head does not match the last event (events removed at the end)")
            )
        if anchor is not None:
            verdict.anchor_checked = True
            at = uow.conn.execute(select(Event.ledger_hash).where(Event.ledger_seq == anchor.ledger_seq)).scalar()
            if at is None:
                verdict.breaks.append(
                    Break(None, None, anchor.ledger_seq, "the anchored event is gone (the history was cut short)")
                )
            elif at != anchor.ledger_hash:
                verdict.breaks.append(
                    Break(
                        None, None, anchor.ledger_seq, "the ledger differs from the anchor (the history was rewritten)"
                    )
                )
    return verdict


def audit_key(app: App) -> bytes:
    key = app.settings.extra.get(KEY_SETTING, "")
    if len(key) < MIN_KEY:
        raise InvalidInput(
            what=KEY_SETTING,
            detail=f"set {KEY_SETTING} (at least {MIN_KEY} characters) in the environment or the DUBAN_CONFIG file; "
            "keep it away from the database",
        )
    return key.encode("utf-8")


def take_anchor(app: App) -> Anchor:
    key = audit_key(app)
    with app.uow(write=False) as uow:
        head = uow.conn.execute(select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1)).one()
        events = uow.conn.execute(select(func.count()).select_from(Event)).scalar_one()
    return Anchor(int(head[0]), str(head[1]), int(events), app.clock.now()).signed(key)


def read_anchor(app: App, path: Path) -> Anchor:
    try:
        anchor = Anchor.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise BadFile(path, "no such anchor file") from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise BadFile(path, f"is not a duban anchor ({exc.__class__.__name__}: {exc})") from None
    if not anchor.genuine(audit_key(app)):
        raise BadFile(
            path, "its signature does not match: it was altered, or DUBAN_AUDIT_KEY is not the one it was made with"
        )
    return anchor


# --- refusals and the log -----------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    actor: str | None
    operator: str | None
    action: str
    task: str | None
    outcome: str  # done, or refused
    detail: str | None


def audit_log(
    app: App,
    actor: str | None = None,
    task: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[LogEntry]:
    done = select(
        Event.at.label("at"),
        Event.actor_id.label("actor"),
        Event.operator_id.label("operator"),
        Event.trigger.label("action"),
        Task.code.label("task"),
        Event.comment.label("detail"),
        Event.id.label("n"),
    ).join(Task, Task.id == Event.task_id)
    refused = select(
        Refusal.at.label("at"),
        Refusal.actor.label("actor"),
        Refusal.operator.label("operator"),
        Refusal.action.label("action"),
        Refusal.task_code.label("task"),
        Refusal.reason.label("detail"),
        (-Refusal.id).label("n"),
    )
    if actor:
        done = done.where(Event.actor_id == actor)
        refused = refused.where(Refusal.actor == actor)
    if task:
        done = done.where(Task.code == task)
        refused = refused.where(Refusal.task_code == task)
    if since:
        done = done.where(Event.at >= since)
        refused = refused.where(Refusal.at >= since)
    both = union_all(done, refused).subquery()
    query = select(both).order_by(both.c.at.desc(), both.c.n.desc()).limit(limit)
    with app.uow(write=False) as uow:
        rows = uow.conn.execute(query).all()
    out = []
    for r in rows:
        out.append(
            LogEntry(
                at=decode_instant(r.at),
                actor=r.actor,
                operator=r.operator,
                action=r.action,
                task=r.task,
                outcome="refused" if r.n < 0 else "done",
                detail=r.detail,
            )
        )
    return out
