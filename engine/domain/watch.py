"""The deadline watch around a firing: clock stops and restarts, re-planning, the traffic light.

Pure rules over a task's ``DeadlineClock``, its workflow and its state. The
working-day calendar and the zone are passed in (the application owns them),
so the firing path, the import and the sweep all move the clock the same way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .calendar import WorkCalendar
from .planning import DeadlineClock, Plan, Standing, plan, standing
from .workflow import WorkflowSpec


def clock_runs(spec: WorkflowSpec, state: str) -> bool:
    """The state's clock flag, and not a final state."""
    s = spec.states.get(state)
    return bool(s and s.clock and not s.final)


def watched_sign_by(spec: WorkflowSpec, state: str, sign_by: date | None, signed_at: datetime | None) -> date | None:
    """The sign-for day the sweep watches: only while the task still awaits signing for."""
    if sign_by is None or signed_at is not None or not spec.awaits_sign_for(state):
        return None
    return sign_by


def plan_for(
    spec: WorkflowSpec, state: str, clock: DeadlineClock, now: datetime, *, calendar: WorkCalendar, tz: ZoneInfo
) -> Plan:
    """The plan of a task in ``state``: the sweep and the firing path ask the same question the same way."""
    return plan(
        clock,
        spec.deadlines,
        calendar,
        tz,
        now,
        runs=clock_runs(spec, state),
        sign_by=watched_sign_by(spec, state, clock.sign_by, clock.signed_at),
    )


def next_attention(
    spec: WorkflowSpec, state: str, clock: DeadlineClock, *, calendar: WorkCalendar, tz: ZoneInfo
) -> datetime | None:
    """The first deadline action not yet handled (possibly already due: the sweep will see it at once)."""
    if not clock_runs(spec, state):
        return None
    return _next_look(spec, spec.awaits_sign_for(state), clock, calendar=calendar, tz=tz)


def _next_look(
    spec: WorkflowSpec, awaits_sign_for: bool, clock: DeadlineClock, *, calendar: WorkCalendar, tz: ZoneInfo
) -> datetime | None:
    """``next_attention`` of a state whose clock runs, told whether it awaits signing for (the firing path
    knows both already and does not look the state up again)."""
    sign_by = clock.sign_by
    if clock.signed_at is not None or not awaits_sign_for:
        sign_by = None  # as ``watched_sign_by``: only while the task still awaits signing for
    # Any level reached is a reason to look, whatever was told before: the sweep weighs it against the level told.
    p = plan(clock, spec.deadlines, calendar, tz, clock.watch_from, sign_by=sign_by, told=0)
    # something already due (an escalation level reached before anyone watched): let the sweep look at once
    return clock.watch_from if p.due_now else p.next_at


def _planned(
    spec: WorkflowSpec, state: str, clock: DeadlineClock, *, calendar: WorkCalendar, tz: ZoneInfo
) -> DeadlineClock:
    """The clock with its next look planned. Built field by field: ``dataclasses.replace`` cost more than the
    plan itself on the firing path."""
    c = clock
    return DeadlineClock(
        deadline=c.deadline,
        deadline_version=c.deadline_version,
        watch_from=c.watch_from,
        created_at=c.created_at,
        next_action_at=next_attention(spec, state, c, calendar=calendar, tz=tz),
        last_progress_at=c.last_progress_at,
        clock_stopped_at=c.clock_stopped_at,
        escalation_level=c.escalation_level,
        sign_by=c.sign_by,
        signed_at=c.signed_at,
    )


def after_transition(
    spec: WorkflowSpec,
    source: str,
    dest: str,
    clock: DeadlineClock,
    now: datetime,
    *,
    progress: bool,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> DeadlineClock:
    """The deadline clock once a task has moved from ``source`` to ``dest``.

    Entering a state whose clock stops records when; leaving it for a running
    clock credits the working days spent waiting (a task sent back after review
    is not late for the leader's delay) under a new deadline version, and the
    watch starts afresh from now, so nothing that fell due while stopped is sent.
    """
    # Each state looked up once: this runs on every firing (``clock_runs`` and ``awaits_sign_for`` written out).
    states = spec.states
    source_state, dest_state = states.get(source), states.get(dest)
    dest_runs = dest_state is not None and dest_state.clock and not dest_state.final
    dest_awaits = dest_state is not None and dest_state.report == "not_started" and not dest_state.final
    source_awaits = source_state is not None and source_state.report == "not_started" and not source_state.final
    deadline, version, watch_from = clock.deadline, clock.deadline_version, clock.watch_from
    stopped = clock.clock_stopped_at
    if not dest_runs:
        stopped = stopped or now
    elif stopped is not None:
        if deadline is not None and source_state is not None and not source_state.final:
            waited = calendar.working_days_between(stopped.astimezone(tz).date(), now.astimezone(tz).date())
            if waited:
                deadline, version = calendar.add_working_days(deadline, waited), version + 1
        stopped, watch_from = None, now
    signed_at, sign_by = clock.signed_at, clock.sign_by
    if dest_awaits and source != dest:  # handed (back) to a unit: it signs for it afresh
        sign_by, signed_at = sign_for_by(spec, now, calendar=calendar, tz=tz), None
    leaves = source_awaits and not dest_awaits
    if signed_at is None and leaves and dest_state is not None and not dest_state.final:
        signed_at = now  # 签收: the first step out of the state awaiting signing for
    moved = DeadlineClock(
        deadline=deadline,
        deadline_version=version,
        watch_from=watch_from,
        created_at=clock.created_at,
        next_action_at=clock.next_action_at if dest_runs else None,  # nothing to watch where the clock stops
        last_progress_at=now if progress else clock.last_progress_at,
        clock_stopped_at=stopped,
        escalation_level=clock.escalation_level,
        sign_by=sign_by,
        signed_at=signed_at,
    )
    if not dest_runs:
        return moved  # as ``_planned`` would make it: next_attention is None where the clock does not run
    return DeadlineClock(
        deadline=deadline,
        deadline_version=version,
        watch_from=watch_from,
        created_at=clock.created_at,
        next_action_at=_next_look(spec, dest_awaits, moved, calendar=calendar, tz=tz),
        last_progress_at=moved.last_progress_at,
        clock_stopped_at=stopped,
        escalation_level=clock.escalation_level,
        sign_by=sign_by,
        signed_at=signed_at,
    )


def reassigned(
    spec: WorkflowSpec,
    state: str,
    clock: DeadlineClock,
    now: datetime,
    *,
    assigned_on: date | None,
    original_deadline: date | None,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> DeadlineClock:
    """转办/退办 to another unit: it signs for the task afresh, and under ``transfer: {clock: restart}`` it gets
    the working days the task first had, counted from now (a new deadline version; the original stays)."""
    deadline = clock.deadline
    today = now.astimezone(tz).date()
    if spec.deadlines.transfer_clock == "restart" and original_deadline is not None and assigned_on is not None:
        allowance = calendar.working_days_between(assigned_on, original_deadline)
        deadline = calendar.add_working_days(today, allowance)
    moved = replace(
        clock,
        deadline=deadline,
        deadline_version=clock.deadline_version + 1,
        watch_from=now,
        clock_stopped_at=None,
        sign_by=sign_for_by(spec, now, calendar=calendar, tz=tz),
        signed_at=None,
    )
    return _planned(spec, state, moved, calendar=calendar, tz=tz)


def moved_deadline(
    spec: WorkflowSpec,
    state: str,
    clock: DeadlineClock,
    deadline: date,
    now: datetime,
    *,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> DeadlineClock:
    """An approved extension: a new deadline version, watched afresh from now (the original stays on the task)."""
    moved = replace(clock, deadline=deadline, deadline_version=clock.deadline_version + 1, watch_from=now)
    return _planned(spec, state, moved, calendar=calendar, tz=tz)


def sign_for_by(spec: WorkflowSpec, assigned: datetime, *, calendar: WorkCalendar, tz: ZoneInfo) -> date | None:
    """签收时限: so many working days after the assignment's day, if the workflow's policy sets a limit."""
    rule = spec.deadlines.sign_for
    if rule is None:
        return None
    return calendar.add_working_days(assigned.astimezone(tz).date(), rule.within_working_days)


def task_standing(
    spec: WorkflowSpec, state: str, deadline: date | None, today: date, calendar: WorkCalendar
) -> Standing:
    """The traffic light of a task in ``state``."""
    return standing(deadline, clock_runs(spec, state), today, spec.deadlines, calendar)
