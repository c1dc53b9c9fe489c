"""Requests waiting for a lead leader's decision, over every task they lead: the inbox's 待我决定 list.

A supervisor's 转办 proposal waits until the lead leader consents (``transfer``) or declines; a unit's 挂起 request
waits until the lead leader suspends the task or it moves on. The inbox lists pending extension requests apart
from the to-do; these are the same kind of thing and are listed the same way, found by the rules the task page
applies to one task (``domain.decisions``: the family's last event is the request, a proposal is for the unit
that still holds the task, a request was made in the state the task is in), where the workflow still offers
the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..app import App
from ..domain.decisions import (
    SUSPEND,
    SUSPENSION_FAMILY,
    TRANSFER,
    TRANSFER_FAMILY,
    suspension_waits,
    transfer_waits,
)
from ..persistence.models import DECISION_TRIGGERS
from ..persistence.uow import UnitOfWork
from ..persistence.web_store import DecisionEvent

TRANSFER_REQUEST, SUSPENSION_REQUEST = "transfer", "suspension"
FAMILY = {
    **dict.fromkeys(TRANSFER_FAMILY, TRANSFER_REQUEST),
    **dict.fromkeys(SUSPENSION_FAMILY, SUSPENSION_REQUEST),
}
if set(FAMILY) != set(DECISION_TRIGGERS):  # the partial index must hold every event these rules read
    raise RuntimeError("decisions.FAMILY and models.DECISION_TRIGGERS differ")


@dataclass(frozen=True, slots=True)
class PendingDecision:
    code: str
    title: str
    kind: str  # TRANSFER_REQUEST or SUSPENSION_REQUEST
    at: datetime  # when it was asked
    reason: str | None
    to_unit: str | None  # where a proposed transfer would move the task


def _waits(app: App, kind: str, e: DecisionEvent) -> bool:
    spec = app.registry.find(e.workflow)
    if spec is None:
        return False
    if kind == TRANSFER_REQUEST:
        return transfer_waits(e.trigger, e.data, e.unit_id) and spec.transition(TRANSFER, e.state) is not None
    return suspension_waits(e.trigger, e.to_state, e.state) and spec.transition(SUSPEND, e.state) is not None


def pending_decisions(app: App, uow: UnitOfWork, leader_id: str | None, limit: int) -> list[PendingDecision]:
    """The requests waiting on the tasks ``leader_id`` leads (on every task, for ``None``: an admin), oldest first."""
    last: dict[tuple[int, str], DecisionEvent] = {}
    for e in uow.web.decision_events(leader_id):  # in order per task: the last of each family stays
        last[(e.task_id, FAMILY[e.trigger])] = e
    out = [
        PendingDecision(
            e.code,
            e.title,
            kind,
            e.at,
            e.comment,
            (e.data or {}).get("to_unit") if kind == TRANSFER_REQUEST else None,
        )
        for (_task, kind), e in last.items()
        if _waits(app, kind, e)
    ]
    out.sort(key=lambda d: (d.at, d.code))
    return out[:limit]
