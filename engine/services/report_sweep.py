"""The sweep's share of periodic reporting duties (定期填报): reminders before a due day, escalation after a
missed one, written to the outbox once.

Each notice's dedup key names the task, the rule, the level and the duty's due day, so a second sweep at
the same moment, or a sweep after a downtime, writes nothing twice; after a downtime only the latest
reminder and the highest level reached are sent (see ``engine.domain.cadence.duty_actions``). It reads the
tasks that owe reports now (a workflow with a ``reporting:`` block, in a state a report can be made from)
and their histories; the deadline sweep (``sweep.py``) calls it after its own batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..app import App
from ..domain.cadence import duty_actions
from ..persistence.outbox import OutgoingNotice
from .notify import cached_org, write_notices
from .report_duties import ongoing_only, reporting_workflows, task_duty_list


@dataclass
class ReportSweep:
    tasks: int = 0  # tasks that owe reports now
    notifications: int = 0  # rows written (a dry run: rows it would write)
    escalations: int = 0  # escalation actions (any level)
    planned: list[OutgoingNotice] = field(default_factory=list)  # a dry run: what would be written


def sweep_report_duties(app: App, now: datetime | None = None, *, dry_run: bool = False) -> ReportSweep:
    """Write the periodic-report reminders and escalations due by ``now``; ``dry_run`` writes nothing."""
    now = now or app.clock.now()
    result = ReportSweep()
    specs = reporting_workflows(app)
    if not specs:
        return result
    open_in = {s.name: s.reporting_states() for s in specs}
    with app.uow(write=not dry_run) as uow:
        directory = None
        notices: list[OutgoingNotice] = []
        for src in uow.report_duties.sources(
            workflows=list(open_in), until=now, open_in=open_in, ongoing_only=ongoing_only(app)
        ):
            found = task_duty_list(app, src, now)
            if found is None:
                continue
            policy, _cadence, duties = found
            result.tasks += 1
            reports = [s.at for s in src.steps if s.trigger == policy.trigger]
            actions = duty_actions(policy, duties, reports, now, app.calendar, app.tz)
            if not actions:
                continue
            directory = directory or cached_org(app, uow).directory
            about = uow.outbox.about(src.task_id)
            for action in actions:
                write_notices(
                    app,
                    uow.outbox,
                    directory,
                    about,
                    action.rule,
                    action.level,
                    action.notify,
                    action.key(src.task_id),
                    now,
                    note=action.day.isoformat(),
                    sink=notices,
                )
                result.escalations += action.rule == "report_escalate"
        if dry_run:
            known = uow.outbox.existing_keys([n.dedup_key for n in notices])
            result.planned = [n for n in notices if n.dedup_key not in known]
            result.notifications = len(result.planned)
            return result  # leaving without a commit: nothing is written
        result.notifications = uow.outbox.add_many(notices, now)
        uow.commit()
    return result
