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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..app import App
from ..domain.planning import Plan
from ..domain.watch import clock_runs, plan_for, watched_sign_by
from ..persistence.outbox import OutgoingNotice
from .notify import Directory, cached_org, write_notices
from .report_sweep import sweep_report_duties
from .supervision_notices import NoticeBook, issue_for_escalation

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
    notices: int = 0  # supervision notices (督办单) issued
    batches: int = 0
    planned: list[PlannedNotice] = field(default_factory=list)  # filled in a dry run
    dry_run: bool = False
    reports: int = 0  # 定期填报: periodic-report reminders and escalations written (report_sweep.py)


def sweep(
    app: App,
    now: datetime | None = None,
    batch: int = BATCH,
    *,
    dry_run: bool = False,
    after_batch: Callable[[], object] | None = None,
) -> SweepResult:
    """Write what fell due. ``dry_run``: the same work in one transaction, rolled back; ``planned`` says what
    would have been written (rows an earlier sweep already wrote are not counted).

    ``after_batch`` runs after each committed batch: the beat relays there, so workers deliver the first
    reminders of a morning's storm while the sweep is still writing the rest."""
    now = now or app.clock.now()
    result = SweepResult(dry_run=dry_run)
    if dry_run:
        batch = 2**31 - 1  # one transaction sees everything: nothing commits, so a later batch would repeat it
    directory: Directory | None = None
    while True:
        # A plan depends on these facts alone, not on which task has them; kept for one batch, so memory stays flat.
        plans: dict[tuple[object, ...], Plan] = {}
        with app.uow(write=True) as uow:
            due = uow.sweep.due_tasks(now, batch)
            if not due:
                break
            directory = directory or cached_org(app, uow).directory
            notices: list[OutgoingNotice] = []
            book: NoticeBook | None = None  # the supervision notices, read once per batch when a level issues one
            updates: list[tuple[int, datetime, datetime | None, int, bool]] = []
            for t in due:
                about = t.about
                spec = app.registry.find(about.workflow)
                if spec is None or not clock_runs(spec, about.state):
                    updates.append((about.id, now, None, t.clock.escalation_level, False))
                    continue
                c = t.clock
                sign_by = watched_sign_by(spec, about.state, c.sign_by, c.signed_at)
                # A morning's storm is many tasks with the same deadline and watch: each plan is worked out once.
                key = (
                    spec.name,
                    c.deadline,
                    c.deadline_version,
                    c.watch_from,
                    c.progress_base,
                    c.escalation_level,
                    sign_by,
                )
                p = plans.get(key)
                if p is None:
                    p = plans[key] = plan_for(spec, about.state, c, now, calendar=app.calendar, tz=app.tz)
                for action in p.due_now:
                    write_notices(
                        app,
                        uow.outbox,
                        directory,
                        about,
                        action.rule,
                        action.level,
                        action.notify,
                        action.key(about.id, c.deadline_version),
                        now,
                        sink=notices,
                    )
                    result.escalations += action.rule == "escalate"
                    if action.rule == "escalate":
                        step = spec.deadlines.escalation_level(action.level)
                        if step is not None and step.notice is not None:
                            book = book or NoticeBook.open(uow)
                            unit = directory.units.get(about.unit_id)
                            leader = directory.people.get(about.lead_leader_id or "")
                            issued = issue_for_escalation(
                                app,
                                uow,
                                book,
                                about,
                                action.level,
                                c.deadline_version,
                                unit.name if unit else str(about.unit_id),
                                leader.name if leader else None,
                                now,
                                directory,
                                notices,
                            )
                            result.notices += issued is not None
                named = any(a.name_in_circular for a in p.due_now)
                updates.append((about.id, now, p.next_at, p.escalation_level, named))
            if dry_run:
                codes = {t.about.id: t.about.code for t in due}
                known = uow.outbox.existing_keys([n.dedup_key for n in notices])
                result.planned = [
                    PlannedNotice(codes.get(n.task_id or 0, ""), n.rule, n.level, n.recipient_id, n.channel, n.subject)
                    for n in notices
                    if n.dedup_key not in known
                ]
            result.notifications += uow.outbox.add_many(notices, now)
            uow.sweep.record_sweeps(updates)
            if dry_run:
                result.tasks += len(due)
                result.batches += 1
                break  # leaving the unit without a commit rolls everything back
            uow.commit()
        result.tasks += len(due)
        result.batches += 1
        if after_batch is not None:
            after_batch()
        if len(due) < batch:
            break
    _report_duties(app, now, result)
    if not dry_run:
        from .co_unit_sweep import chase_co_units  # 牵头/配合: parts have days of their own

        result.notifications += chase_co_units(app, now)
    return result


def _report_duties(app: App, now: datetime, result: SweepResult) -> None:
    """Periodic reporting duties (定期填报) have their own reminders and ladder: swept after the deadlines."""
    found = sweep_report_duties(app, now, dry_run=result.dry_run)
    result.reports = found.notifications
    result.notifications += found.notifications
    result.escalations += found.escalations
    if found.planned:
        with app.uow(write=False) as uow:
            names = {n.task_id: uow.outbox.about(n.task_id or 0).code for n in found.planned}
        result.planned += [
            PlannedNotice(names.get(n.task_id, ""), n.rule, n.level, n.recipient_id, n.channel, n.subject)
            for n in found.planned
        ]
