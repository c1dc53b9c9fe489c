"""Putting what is not a task's event on the chain: organisation changes, workspace settings, refusals.

A change is recorded as the subject's whole state after it, in the transaction
that made it, so ``audit verify`` can compare every table people's rights come
from (people, roles, accounts, units, settings) with the chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..app import App
from ..domain.audit import RecordFacts
from ..persistence.uow import UnitOfWork


def record_changes(
    app: App,
    uow: UnitOfWork,
    kind: str,
    now_bodies: dict[str, dict[str, Any]],
    *,
    account: str,
    operator_id: str | None,
    via: str | None = None,
    at: datetime | None = None,
) -> int:
    """Record each subject whose state differs from its last record; returns how many were recorded.

    The records of one change share one instant (``at``): verify knows a workspace's first organisation load
    by its instant and account, since nobody is on record yet to have allowed it.
    """
    last = uow.records.last_bodies(kind, now_bodies)
    at = at or app.clock.now()
    n = 0
    for subject, body in sorted(now_bodies.items()):
        if subject in last and last[subject] == body:
            continue
        uow.records.append(RecordFacts(kind, subject, body, at, account, operator_id, via))
        n += 1
    return n


def record_org(
    app: App,
    uow: UnitOfWork,
    person_ids: Iterable[str],
    unit_ids: Iterable[int],
    *,
    account: str,
    operator_id: str | None,
    via: str | None = None,
) -> None:
    at = app.clock.now()
    units = uow.records.unit_bodies(unit_ids)
    record_changes(app, uow, "unit", units, account=account, operator_id=operator_id, via=via, at=at)
    people = uow.records.people_bodies(person_ids)
    record_changes(app, uow, "person", people, account=account, operator_id=operator_id, via=via, at=at)


def record_workspace(
    app: App, uow: UnitOfWork, *, account: str, operator_id: str | None, via: str | None = None
) -> None:
    bodies = uow.records.workspace_bodies()
    record_changes(app, uow, "workspace", bodies, account=account, operator_id=operator_id, via=via)
