"""Who may see a task: the rule the web workspace and its API apply before showing anything.

A pure function over facts about the person and the task, so the rule is
tested without a database and the persistence layer's query filter can be
checked against it. Leaders, supervisors and admins oversee the whole ledger;
everyone else sees the work of their own unit, as responsible or co-unit, and
what they lead or answer for by name.
"""

from __future__ import annotations

from dataclasses import dataclass

OVERSEERS = frozenset({"leader", "supervisor", "admin"})


@dataclass(frozen=True, slots=True)
class Viewer:
    person_id: str
    unit_id: int | None
    roles: frozenset[str]

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & OVERSEERS)


@dataclass(frozen=True, slots=True)
class TaskPlace:
    """Where a task sits in the organisation: what decides who may see it."""

    unit_id: int
    co_unit_ids: frozenset[int]
    lead_leader_id: str | None
    responsible_person_id: str | None


def may_see(viewer: Viewer, task: TaskPlace) -> bool:
    if viewer.sees_all:
        return True
    if viewer.person_id in (task.lead_leader_id, task.responsible_person_id):
        return True
    return viewer.unit_id is not None and (viewer.unit_id == task.unit_id or viewer.unit_id in task.co_unit_ids)
