"""The deadline watch around a firing: clock stops and restarts, re-planning, the traffic light."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from ..app import App
from ..domain.planning import Standing, Watch, plan, standing
from ..domain.workflow import WorkflowSpec
from ..persistence.repository import DeadlineFacts


def clock_runs(spec: WorkflowSpec, state: str) -> bool:
    s = spec.states.get(state)
    return bool(s and s.clock and not s.final)


def next_attention(app: App, spec: WorkflowSpec, code: str, state: str, clock: DeadlineFacts) -> datetime | None:
    """The first deadline action not yet handled (possibly already due: the sweep will see it at once)."""
    if not clock_runs(spec, state):
        return None
    p = plan(_watch(code, clock, spec, state), spec.deadlines, app.calendar, app.tz, clock.watch_from)
    # something already due (an escalation level reached before anyone watched): let the sweep look at once
    return clock.watch_from if p.due_now else p.next_at


def after_transition(
    app: App,
    spec: WorkflowSpec,
    code: str,
    source: str,
    dest: str,
    clock: DeadlineFacts,
    now: datetime,
    progress: bool,
) -> DeadlineFacts:
    """The deadline facts once a task has moved from ``source`` to ``dest``.

    Entering a state whose clock stops records when; leaving it for a running
    clock credits the working days spent waiting (a task sent back after review
    is not late for the leader's delay) under a new deadline version, and the
    watch starts afresh from now, so nothing that fell due while stopped is sent.
    """
    deadline, version, watch_from = clock.deadline, clock.deadline_version, clock.watch_from
    stopped = clock.clock_stopped_at
    if not clock_runs(spec, dest):
        stopped = stopped or now
    elif stopped is not None:
        source_state = spec.states.get(source)
        if deadline is not None and source_state is not None and not source_state.final:
            waited = app.calendar.working_days_between(stopped.astimezone(app.tz).date(), now.astimezone(app.tz).date())
            if waited:
                deadline, version = app.calendar.add_working_days(deadline, waited), version + 1
        stopped, watch_from = None, now
    signed_at, sign_by = clock.signed_at, clock.sign_by
    if spec.awaits_sign_for(dest) and source != dest:  # handed (back) to a unit: it signs for it afresh
        sign_by, signed_at = sign_for_by(app, spec, now), None
    dest_state = spec.states.get(dest)
    leaves = spec.awaits_sign_for(source) and not spec.awaits_sign_for(dest)
    if signed_at is None and leaves and dest_state is not None and not dest_state.final:
        signed_at = now  # 签收: the first step out of the state awaiting signing for
    facts = DeadlineFacts(
        deadline=deadline,
        deadline_version=version,
        watch_from=watch_from,
        next_action_at=None,
        last_progress_at=now if progress else clock.last_progress_at,
        clock_stopped_at=stopped,
        created_at=clock.created_at,
        sign_by=sign_by,
        signed_at=signed_at,
    )
    return replace(facts, next_action_at=next_attention(app, spec, code, dest, facts))


def reassigned(
    app: App,
    spec: WorkflowSpec,
    code: str,
    state: str,
    clock: DeadlineFacts,
    now: datetime,
    assigned_on: date | None,
    original_deadline: date | None,
) -> DeadlineFacts:
    """转办/退办 to another unit: it signs for the task afresh, and under ``transfer: {clock: restart}`` it gets
    the working days the task first had, counted from now (a new deadline version; the original stays)."""
    deadline = clock.deadline
    today = now.astimezone(app.tz).date()
    if spec.deadlines.transfer_clock == "restart" and original_deadline is not None and assigned_on is not None:
        allowance = app.calendar.working_days_between(assigned_on, original_deadline)
        deadline = app.calendar.add_working_days(today, allowance)
    facts = replace(
        clock,
        deadline=deadline,
        deadline_version=clock.deadline_version + 1,
        watch_from=now,
        clock_stopped_at=None,
        sign_by=sign_for_by(app, spec, now),
        signed_at=None,
    )
    return replace(facts, next_action_at=next_attention(app, spec, code, state, facts))


def sign_for_by(app: App, spec: WorkflowSpec, assigned: datetime) -> date | None:
    """签收时限: so many working days after the assignment's day, if the workflow's policy sets a limit."""
    rule = spec.deadlines.sign_for
    if rule is None:
        return None
    return app.calendar.add_working_days(assigned.astimezone(app.tz).date(), rule.within_working_days)


def watched_sign_by(spec: WorkflowSpec, state: str, sign_by: date | None, signed_at: datetime | None) -> date | None:
    """The sign-for day the sweep watches: only while the task still awaits signing for."""
    if sign_by is None or signed_at is not None or not spec.awaits_sign_for(state):
        return None
    return sign_by


def _watch(code: str, clock: DeadlineFacts, spec: WorkflowSpec, state: str) -> Watch:
    return Watch(
        code=code,
        clock_runs=True,
        due=clock.deadline,
        deadline_version=clock.deadline_version,
        watch_from=clock.watch_from,
        progress_base=clock.last_progress_at or clock.created_at,
        sign_by=watched_sign_by(spec, state, clock.sign_by, clock.signed_at),
    )


def task_standing(app: App, spec: WorkflowSpec, state: str, deadline: date | None, today: date) -> Standing:
    return standing(deadline, clock_runs(spec, state), today, spec.deadlines, app.calendar)


def moved_deadline(
    app: App, spec: WorkflowSpec, code: str, state: str, clock: DeadlineFacts, deadline: date, now: datetime
) -> DeadlineFacts:
    """An approved extension: a new deadline version, watched afresh from now (the original stays on the task)."""
    facts = replace(clock, deadline=deadline, deadline_version=clock.deadline_version + 1, watch_from=now)
    return replace(facts, next_action_at=next_attention(app, spec, code, state, facts))
