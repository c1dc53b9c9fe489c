"""我的待办: what a person may do now, and for overseers what needs their eye.

The steps are computed by the workflow machine from the same facts that decide
a firing, so the inbox never offers a step that would then be refused (unless
the task moves in between; the form's version catches that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..app import App
from ..domain.errors import UnknownPerson
from ..persistence.web_store import PendingExtension, WebStore
from .queries import TaskFilter, TaskSummary, list_tasks

# Always available on an open task, so they do not make a task something to do now.
STANDING = frozenset({"cancel", "extend", "remind", "grant_extension", "deny_extension", "reopen"})
LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2, None: 3}


@dataclass(frozen=True)
class InboxItem:
    task: TaskSummary
    steps: list[str]  # triggers this person may fire now, STANDING ones left out


@dataclass
class Inbox:
    person_id: str
    name: str
    roles: frozenset[str]
    todo: list[InboxItem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # red/yellow/green/none over the todo list
    approvals: list[TaskSummary] = field(default_factory=list)  # submitted tasks this leader leads
    extensions: list[PendingExtension] = field(default_factory=list)  # pending requests on tasks they lead
    overdue: list[TaskSummary] = field(default_factory=list)  # for supervisors: red tasks, with 催办
    may_remind: set[str] = field(default_factory=set)  # codes of overdue tasks this person may remind


def inbox(app: App, person_id: str) -> Inbox:
    open_states = sorted({k for spec in app.registry.specs for k, s in spec.states.items() if not s.final})
    with app.uow(write=False) as uow:
        store = WebStore(uow.conn)
        me = store.viewer(person_id)
        actor = uow.tasks.actor(person_id)
        if me is None or actor is None:
            raise UnknownPerson(person=person_id, near="")
        tasks = store.open_tasks(me, open_states)
        leads = "leader" in me.roles or "admin" in me.roles
        extensions = store.pending_extensions(None if "admin" in me.roles else person_id) if leads else []
    # Summaries (lights, days left) of exactly the tasks found, not of every open task the person may see.
    wanted = tuple(t.code for t in tasks)
    summaries = {s.code: s for s in list_tasks(app, TaskFilter(codes=wanted))} if wanted else {}
    box = Inbox(person_id, actor.name, me.roles, extensions=extensions)
    for t in tasks:
        summary = summaries.get(t.code)
        if summary is None:
            continue
        allowed = app.registry.machine(t.workflow).allowed_for(t.facts, actor)
        steps = [a for a in allowed if a not in STANDING]
        if steps:
            box.todo.append(InboxItem(summary, steps))
        if "approve" in allowed:
            box.approvals.append(summary)
        if "supervisor" in me.roles and summary.light == "red":
            box.overdue.append(summary)
            if "remind" in allowed:
                box.may_remind.add(summary.code)
    box.todo.sort(key=lambda i: (LIGHT_ORDER.get(i.task.light, 3), i.task.deadline or _FAR, i.task.code))
    box.overdue.sort(key=lambda s: (-(s.days_overdue or 0), s.code))
    for item in box.todo:
        key = item.task.light or "none"
        box.counts[key] = box.counts.get(key, 0) + 1
    return box


_FAR = date.max
