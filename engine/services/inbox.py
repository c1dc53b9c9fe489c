"""我的待办: what a person may do now, and for overseers what needs their eye: one urgent page at a time.

Which tasks a person may act on is asked of the database in the workflow's own terms
(``WorkflowMachine.acting_grounds``: per state, the relations the rules need), so the page reads the
most urgent ``PAGE`` rows (red first, then by deadline) and counts the rest per light by one aggregate.
The steps offered are then computed by the workflow machine for the rows shown only, from the same
facts that decide a firing, so the inbox never offers a step that would then be refused (unless the
task moves in between; the form's version catches that).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import date

from ..app import App
from ..domain.errors import InvalidInput, UnknownPerson
from ..domain.machine import Actor, relations_of
from ..domain.text import Bilingual
from ..domain.visibility import Viewer
from ..persistence.read.inbox_page import (
    FAR,
    Grounds,
    Lights,
    UrgentRow,
)
from ..persistence.web_store import PendingExtension
from .decisions import PendingDecision, pending_decisions
from .ledger_view import COUNT_CAP, light_bands
from .queries import TaskSummary, summaries_of
from .substitutes import standing_for

LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2, None: 3}
PAGE = 50  # rows per list: the inbox is a page, never every open task of a unit
# Rows of the sections beside the to-do list (the approval queue, the overdue tasks named): the most urgent, as
# the morning digest shows them; the rest are counted in the heading and found in the to-do list's next pages
# (every submitted task is there) or the ledger. A page of three lists of fifty was long on a phone.
SHOWN = 20
OVERDUE_CAP = COUNT_CAP  # past it the overdue heading says "more than 10,000", as the ledger's count does


@dataclass(frozen=True)
class InboxItem:
    task: TaskSummary
    steps: list[str]  # triggers this person may fire now, the workflow's standing ones left out


@dataclass(frozen=True)
class StandIn:
    """代理: someone this person stands in for now, and the first page of that person's work."""

    substitution: str
    absent_id: str
    absent_name: str
    until: date
    inbox: Inbox


@dataclass
class Inbox:
    person_id: str
    name: str
    roles: frozenset[str]
    todo: list[InboxItem] = field(default_factory=list)  # the most urgent page of what they may do now
    counts: dict[str, int] = field(default_factory=dict)  # red/yellow/green/none over everything they may do now
    todo_total: int = 0
    next_after: str | None = None  # the cursor of the next page of ``todo``
    after: str = ""  # the cursor this page started from ("" for the first page)
    approvals: list[TaskSummary] = field(default_factory=list)  # submitted tasks this leader leads (first SHOWN)
    approvals_total: int = 0
    extensions: list[PendingExtension] = field(default_factory=list)  # pending requests on tasks they lead
    decisions: list[PendingDecision] = field(default_factory=list)  # 转办 proposals, 挂起 requests they decide
    overdue: list[TaskSummary] = field(default_factory=list)  # red tasks they oversee, most overdue first
    overdue_total: int = 0  # with ``overdue_capped``, OVERDUE_CAP + 1: "more than OVERDUE_CAP"
    overdue_capped: bool = False
    overdue_scope: str = ""  # whose: "all" (the supervision office: every open task), "led" (a leader's), "" none
    may_remind: set[str] = field(default_factory=set)  # codes of overdue tasks this person may remind
    standing_in: list[StandIn] = field(default_factory=list)  # 代理: whom they stand in for now (first page only)


def _grounds(
    app: App, actor: Actor, triggers: frozenset[str] | None, units: frozenset[int], *, to_do: bool = False
) -> Grounds:
    pairs = [
        (spec.name, state, rels)
        for spec in app.registry.specs
        for state, rels in app.registry.machine(spec.name).acting_grounds(actor, triggers, to_do=to_do)
    ]
    return Grounds(tuple(pairs), units)


def _every_open(app: App, relations: frozenset[str] = frozenset()) -> Grounds:
    return Grounds(
        tuple(
            (spec.name, key, relations) for spec in app.registry.specs for key, s in spec.states.items() if not s.final
        )
    )


def overseen(app: App, roles: frozenset[str]) -> tuple[str, Grounds | None]:
    """督办: whose overdue tasks a person is shown by name, beside their to-do list: the supervision office every
    open task, a leader the tasks they lead. Why apart from the to-do: a leader may suspend or transfer any task
    they lead at any time (standing steps), which does not make each of them something to do today, yet the
    overdue ones are theirs to chase."""
    if "supervisor" in roles:
        return "all", _every_open(app)
    if "leader" in roles:
        return "led", _every_open(app, frozenset({"lead_leader"}))
    return "", None


def encode_after(row: UrgentRow) -> str:
    key = [row.rank, (row.deadline or FAR).isoformat(), row.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_after(raw: str) -> tuple[int, date, int] | None:
    """A cursor from the page's own link; anything else is refused as bad input."""
    if not raw:
        return None
    try:
        rank, due, tid = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(rank, int) or not isinstance(tid, int) or not isinstance(due, str):
            raise ValueError
        return rank, date.fromisoformat(due), tid
    except (ValueError, TypeError):
        raise InvalidInput(
            what=Bilingual("翻页链接", "page"),
            detail=Bilingual("已损坏；请从第一页重新开始", "the page link is damaged; start again from the first page"),
        ) from None


def inbox(app: App, person_id: str, after: str = "", *, exact_overdue: bool = False) -> Inbox:
    """The person's inbox; ``exact_overdue`` counts every overdue task they oversee, past OVERDUE_CAP too (the
    morning digest, written once a day)."""
    cursor = decode_after(after)
    overdue_cap = None if exact_overdue else OVERDUE_CAP
    today = app.clock.now().astimezone(app.tz).date()
    lights = Lights(light_bands(app, "red", today), light_bands(app, "yellow", today), light_bands(app, "green", today))
    with app.uow(write=False) as uow:
        actor = uow.tasks.actor(person_id)
        if actor is None:
            raise UnknownPerson(person=person_id, near="")
        me = Viewer(actor.id, actor.unit_id, actor.roles)
        units = uow.inbox.units_of(me)
        todo_where = _grounds(app, actor, None, units, to_do=True)
        counts = uow.inbox.counts_by_light(me, todo_where, lights)
        todo_rows = uow.inbox.urgent_page(me, todo_where, lights, limit=PAGE, after=cursor)
        approval_rows: list[UrgentRow] = []
        approvals_total = 0
        if cursor is None:
            approving = _grounds(app, actor, frozenset({"approve"}), units)
            if approving.pairs:
                approvals_total = sum(uow.inbox.counts_by_light(me, approving, lights).values())
                approval_rows = uow.inbox.urgent_page(me, approving, lights, limit=SHOWN)[:SHOWN]
        overdue_rows: list[UrgentRow] = []
        overdue_total = 0
        scope, watched = overseen(app, me.roles)
        if watched is not None and cursor is None:
            overdue_total = uow.inbox.count_red(me, watched, lights, overdue_cap)
            overdue_rows = uow.inbox.urgent_page(me, watched, lights, limit=SHOWN, red_only=True)[:SHOWN]
        covering = standing_for(app, uow, person_id) if cursor is None else []
        leads = "leader" in me.roles or "admin" in me.roles
        extensions = (
            uow.web.pending_extensions(None if "admin" in me.roles else person_id, limit=PAGE)
            if leads and cursor is None
            else []
        )
        decisions = (
            pending_decisions(app, uow, None if "admin" in me.roles else person_id, PAGE)
            if leads and cursor is None
            else []
        )
        more = len(todo_rows) > PAGE
        todo_rows = todo_rows[:PAGE]
        # Summaries (lights, days left) of exactly the rows shown, and the co-units' parts of the to-do rows.
        shown = tuple(dict.fromkeys(r.id for r in (*todo_rows, *approval_rows, *overdue_rows)))
        summaries = {s.code: s for s in summaries_of(app, uow.inbox.summaries(shown))}
        parts = uow.co_units.parts_of([r.id for r in todo_rows], app.tz)
    box = Inbox(
        person_id,
        actor.name,
        me.roles,
        counts=counts,
        todo_total=sum(counts.values()),
        next_after=encode_after(todo_rows[-1]) if more else None,
        after=after,
        approvals_total=approvals_total,
        extensions=extensions,
        decisions=decisions,
        overdue_total=overdue_total,
        overdue_capped=overdue_cap is not None and overdue_total > overdue_cap,
        overdue_scope=scope if cursor is None else "",
    )
    offered: dict[tuple[str, str, frozenset[str]], list[str]] = {}  # the steps per (workflow, state, relations)
    for r in todo_rows:
        summary = summaries.get(r.code)
        if summary is None:
            continue
        # 牵头/配合: a co-unit acts on the tasks whose part still waits for it
        waiting = frozenset(p.unit_id for p in parts.get(r.id, []) if not p.settled)
        facts = replace(r.facts, co_unit_ids=waiting) if waiting else r.facts
        key = (r.workflow, facts.state, relations_of(actor, facts))
        if key not in offered:
            offered[key] = app.registry.machine(r.workflow).allowed_under(facts.state, actor, key[2], to_do=True)
        if steps := offered[key]:
            box.todo.append(InboxItem(summary, steps))
    box.approvals = [summaries[r.code] for r in approval_rows if r.code in summaries]
    reminds: dict[tuple[str, str, frozenset[str]], bool] = {}  # may they 催办, per (workflow, state, relations)
    for r in overdue_rows:
        summary = summaries.get(r.code)
        if summary is None:
            continue
        box.overdue.append(summary)
        key = (r.workflow, r.facts.state, relations_of(actor, r.facts))
        if key not in reminds:
            reminds[key] = "remind" in app.registry.machine(r.workflow).allowed_under(key[1], actor, key[2])
        if reminds[key]:
            box.may_remind.add(r.code)
    for sub in covering:  # ranges never chain (one who is away stands in for nobody), so this recursion is one deep
        theirs = inbox(app, sub.absent_id)
        box.standing_in.append(StandIn(sub.code, sub.absent_id, theirs.name, sub.ends_on, theirs))
    return box
