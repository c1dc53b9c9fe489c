"""The deadline sweep: what fell due since the last look, written to the outbox once.

Reads only tasks whose ``next_action_at`` has come (by its index), in
batches, each batch one transaction: the notifications, the task's new
escalation level and its next instant commit together. After a downtime every
reminder and level that fell due is written once (catch-up); a second sweep at
the same time writes nothing twice (dedup keys; on PostgreSQL the rows are
also shared out with SKIP LOCKED). `duban sweep`, the Celery beat task, the
demo and the tests all call this function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from ..app import App
from ..domain.planning import Watch, plan
from ..persistence.models import Notification
from ..persistence.outbox import OutgoingNotice
from .notify import Directory, write_notices
from .watch import clock_runs, watched_sign_by

BATCH = 500


@dataclass(frozen=True)
class PlannedNotice:
    """A notification the sweep writes (or, in a dry run, would write)."""

    code: str
    rule: str
    level: int
    recipient: str | None
    channel: str
    subject: str


@dataclass
class SweepResult:
    tasks: int = 0
    notifications: int = 0
    escalations: int = 0  # escalation actions written (any level)
    batches: int = 0
    planned: list[PlannedNotice] = field(default_factory=list)  # filled in a dry run
    dry_run: bool = False


def sweep(app: App, now: datetime | None = None, batch: int = BATCH, *, dry_run: bool = False) -> SweepResult:
    """Write what fell due. ``dry_run``: the same work in one transaction, rolled back; ``planned`` says what
    would have been written (rows an earlier sweep already wrote are not counted)."""
    now = now or app.clock.now()
    result = SweepResult(dry_run=dry_run)
    if dry_run:
        batch = 2**31 - 1  # one transaction sees everything: nothing commits, so a later batch would repeat it
    directory: Directory | None = None
    while True:
        with app.uow(write=True) as uow:
            due = uow.outbox.due_tasks(now, batch)
            if not due:
                break
            directory = directory or Directory.load(uow.conn)
            notices: list[OutgoingNotice] = []
            updates: list[tuple[int, datetime, datetime | None, int, bool]] = []
            for t in due:
                about = t.about
                spec = app.registry.find(about.workflow)
                if spec is None or not clock_runs(spec, about.state):
                    updates.append((about.id, now, None, t.escalation_level, False))
                    continue
                watch = Watch(
                    about.code,
                    True,
                    about.deadline,
                    t.deadline_version,
                    t.watch_from,
                    t.last_progress_at or t.created_at,
                    t.escalation_level,
                    watched_sign_by(spec, about.state, t.sign_by, t.signed_at),
                )
                p = plan(watch, spec.deadlines, app.calendar, app.tz, now)
                for action in p.due_now:
                    write_notices(
                        app,
                        uow.outbox,
                        directory,
                        about,
                        action.rule,
                        action.level,
                        action.notify,
                        action.key(about.id, t.deadline_version),
                        now,
                        sink=notices,
                    )
                    result.escalations += action.rule == "escalate"
                named = any(a.name_in_circular for a in p.due_now)
                updates.append((about.id, now, p.next_at, p.escalation_level, named))
            if dry_run:
                codes = {t.about.id: t.about.code for t in due}
                known = _existing_keys(uow.conn, [n.dedup_key for n in notices])
                result.planned = [
                    PlannedNotice(codes.get(n.task_id or 0, ""), n.rule, n.level, n.recipient_id, n.channel, n.subject)
                    for n in notices
                    if n.dedup_key not in known
                ]
            result.notifications += uow.outbox.add_many(notices, now)
            uow.outbox.record_sweeps(updates)
            if dry_run:
                result.tasks += len(due)
                result.batches += 1
                break  # leaving the unit without a commit rolls everything back
            uow.commit()
        result.tasks += len(due)
        result.batches += 1
        if len(due) < batch:
            break
    return result


def _existing_keys(conn: Connection, keys: list[str]) -> set[str]:
    """The dedup keys already in the outbox (a dry run must not count what an earlier sweep wrote)."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        found.update(conn.execute(select(Notification.dedup_key).where(Notification.dedup_key.in_(chunk))).scalars())
    return found
