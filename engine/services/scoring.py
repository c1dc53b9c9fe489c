"""Scores (考核评分): each unit's score on a date, from the history replayed for that date.

The policy in force is YAML (``DUBAN_SCORING``, else the built-in
``workflows/policies/scoring.yaml``): a campaign's own policy if it has one,
else the default. The facts come from the same as-of sources as the circular,
so a score for a past date reads the same next year; a period adds the change
since the end of the period before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from duban.workflows import BUILTIN_DIR

from ..app import App
from ..domain.accountability import KIND as ACCOUNTABILITY
from ..domain.errors import InvalidInput
from ..domain.report import Period
from ..domain.scoring import ScoreTable, ScoringPolicy, TaskFacts, UnitScore, load_policies, score_units
from ..domain.supervision_notices import KIND as NOTICE
from ..domain.supervision_notices import REPLY as NOTICE_REPLY
from ..domain.text import Bilingual
from ..persistence.read.report_queries import Scope, current_source, state_rules
from ..persistence.types import decode_instant, encode_instant
from ..persistence.uow import UnitOfWork
from .org import resolve_unit
from .report import ReportRequest, end_of_day, resolve_period
from .report_duties import late_and_missed

SETTING = "DUBAN_SCORING"
BUILTIN = BUILTIN_DIR / "policies" / "scoring.yaml"


def policy_file(app: App) -> Path:
    configured = app.settings.extra.get(SETTING)
    return Path(configured).expanduser() if configured else BUILTIN


def scoring_configured(app: App) -> bool:
    """A circular carries a ranking table by score once an office names its policy file."""
    return bool(app.settings.extra.get(SETTING))


def policy_for(app: App, campaign: str | None) -> ScoringPolicy:
    """The campaign's own policy, else the one for every campaign."""
    policies = load_policies(policy_file(app))
    own = next((p for p in policies if campaign and p.campaign == campaign), None)
    default = next((p for p in policies if p.campaign is None), None)
    chosen = own or default
    if chosen is None:
        names = [p.campaign or "" for p in policies]
        raise InvalidInput(
            what="--campaign",
            detail=Bilingual(
                f"{policy_file(app)} 中没有适用于{f'专项“{campaign}”' if campaign else '所有专项'}的评分办法"
                f"（现有：{'、'.join(names)}）；请添加一个不带 campaign: 键的通用办法，或指明专项",
                f"{policy_file(app)} has no scoring policy for '{campaign or 'every campaign'}' "
                f"(it has: {', '.join(names)}); add one without a campaign: key, or name the campaign",
            ),
        )
    return chosen


@dataclass(frozen=True)
class ScoreRequest:
    as_of: date | None = None
    period: str = "month"
    campaign: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ScoreResult:
    as_of: date
    period: Period
    policy: ScoringPolicy
    scores: list[UnitScore]
    previous: dict[str, Decimal]  # each unit's score at the end of the period before


def compute_scores(app: App, req: ScoreRequest) -> ScoreResult:
    today = app.clock.now().astimezone(app.tz).date()
    period = resolve_period(ReportRequest(period=req.period, as_of=req.as_of), today)
    policy = policy_for(app, req.campaign)
    with app.uow(write=False) as uow:
        unit_id = resolve_unit(uow.org, req.unit) if req.unit else None
        scores = unit_scores(app, uow, policy, req.campaign, unit_id, period.end, today)
        before = period.previous().end
        previous = {s.unit: s.score for s in unit_scores(app, uow, policy, req.campaign, unit_id, before, today)}
    return ScoreResult(period.end, period, policy, scores, previous)


def score_table(
    app: App, uow: UnitOfWork, wanted: bool | None, campaign: str | None, unit_id: int | None, day: date, today: date
) -> ScoreTable | None:
    """The circular's ranking by score, with the policy's version and hash; None unless wanted or configured."""
    if wanted is False or (wanted is None and not scoring_configured(app)):
        return None
    policy = policy_for(app, campaign)
    return ScoreTable.of(policy, unit_scores(app, uow, policy, campaign, unit_id, day, today))


def unit_scores(
    app: App, uow: UnitOfWork, policy: ScoringPolicy, campaign: str | None, unit_id: int | None, day: date, today: date
) -> list[UnitScore]:
    return score_units(policy, task_facts(app, uow, policy, campaign, unit_id, day, today))


def task_facts(
    app: App, uow: UnitOfWork, policy: ScoringPolicy, campaign: str | None, unit_id: int | None, day: date, today: date
) -> Iterator[TaskFacts]:
    """Each task in scope as it stood at the end of ``day``, with what the policy counts."""
    tz = app.tz
    at = end_of_day(day, tz)
    source = current_source() if day >= today else uow.reports.as_of_source(at)
    scope = Scope(campaign=campaign, unit_id=unit_id, workflows=policy.workflows)
    rules = state_rules(app.registry.specs)
    sent_back = policy.rules.get("sent_back")
    late = policy.rules.get("late_progress")
    after_days = late.after_days if late else 14
    opened: dict[str, list[tuple[str, str]]] = {}
    for number, (body, _at) in sorted(uow.records.bodies(ACCOUNTABILITY, at).items()):
        if str(body.get("decided_on", "")) <= day.isoformat():
            opened.setdefault(str(body.get("task")), []).append((number, str(body.get("kind"))))
    records = {task: tuple(found) for task, found in opened.items()}
    late_replies = _late_replies(uow, at, day)
    rows = uow.scores.rows(
        source,
        scope,
        at,
        sent_back_triggers=sent_back.triggers if sent_back else (),
        progress_triggers=late.triggers if late else (),
        after_days=after_days,
    )
    # 定期填报: a task whose workflow asks for reports on a cadence counts its late and missed duties instead
    on_cadence = late_and_missed(app, uow, min(at, app.clock.now()), campaign=campaign) if late else {}
    silent_since = at - timedelta(days=after_days)  # nothing reported since before this: a report is missing
    silent_text = str(encode_instant(silent_since, "sqlite"))  # as SQLite hands instants back: text
    days_late = app.calendar.working_days_between
    levels: dict[tuple[str, int], int] = {}
    for r in rows:
        bucket = rules.buckets.get((r.workflow, r.state), "excluded")
        if bucket == "excluded":
            continue
        closed = bucket == "closed"
        on_time, overdue, missing = False, 0, 0
        if closed:
            closed_day = r.closed_on if r.from_import else _local_day(r.at, tz)
            if closed_day is not None:
                on_time = r.original_deadline is not None and closed_day <= r.original_deadline
                if r.deadline is not None and closed_day > r.deadline:
                    overdue = days_late(r.deadline, closed_day)
        elif (r.workflow, r.state) in rules.clock_runs:
            if r.deadline is not None and r.deadline < day:
                overdue = days_late(r.deadline, day)
            last: str | datetime | None = r.last_report_at
            if late and last is not None and (last < silent_text if isinstance(last, str) else last < silent_since):
                missing = 1  # 漏报: nothing reported for longer than allowed, as of the date
        level = 0
        if overdue:
            level = levels.get((r.workflow, overdue), -1)
            if level < 0:
                spec = app.registry.find(r.workflow)
                level = levels[(r.workflow, overdue)] = spec.deadlines.level_reached(overdue) if spec else 0
        yield TaskFacts(  # positional: a million of these
            r.code,
            r.unit,
            r.priority,
            on_time,
            overdue,
            level,
            r.sent_back,
            on_cadence[r.code] if r.code in on_cadence else r.late_between + missing,
            records.get(r.code, ()),
            late_replies.get(r.code, 0),
        )


def _late_replies(uow: UnitOfWork, at: datetime, day: date) -> dict[str, int]:
    """Per task, the supervision notices issued by the date whose reply came late, or had not come past its day."""
    replies = uow.records.bodies(NOTICE_REPLY, at)
    out: dict[str, int] = {}
    for _key, (body, _at) in uow.records.bodies(NOTICE, at).items():
        reply = replies.get(str(body["number"]))
        due = date.fromisoformat(str(body["reply_by"]))
        late = bool(reply[0].get("late")) if reply is not None else day > due
        if late:
            out[str(body["task"])] = out.get(str(body["task"]), 0) + 1
    return out


def _local_day(at: object, tz: ZoneInfo) -> date:
    instant = at if isinstance(at, datetime) else decode_instant(at)
    return instant.astimezone(tz).date()
