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

from dataclasses import dataclass
from datetime import datetime

from ..app import App
from ..domain.planning import Watch, plan
from ..persistence.outbox import OutgoingNotice
from .notify import Directory, write_notices
from .watch import clock_runs

BATCH = 500


@dataclass
class SweepResult:
    tasks: int = 0
    notifications: int = 0
    escalations: int = 0  # escalation actions written (any level)
    batches: int = 0


def sweep(app: App, now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    now = now or app.clock.now()
    result = SweepResult()
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
            result.notifications += uow.outbox.add_many(notices, now)
            uow.outbox.record_sweeps(updates)
            uow.commit()
        result.tasks += len(due)
        result.batches += 1
        if len(due) < batch:
            break
    return result
