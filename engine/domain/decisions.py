"""When a request still waits for the lead leader's decision: one rule for the task page and the inbox.

A supervisor's 转办 proposal waits until the lead leader consents (``transfer``) or declines, and only while the
unit it was proposed away from still holds the task; a unit's 挂起 request waits until the lead leader suspends
the task, or the task moves on from the state it was asked in. Each is read off the last event of its family.
Why here: the task page (one task's events) and the inbox (every task a leader leads) both ask, and the unit is
compared by id, as ``transfers.consent`` checks it, never by a name an organisation import may change.
"""

from __future__ import annotations

from typing import Any

PROPOSE, TRANSFER, DECLINE = "propose_transfer", "transfer", "decline_transfer"
ASK_SUSPENSION, SUSPEND, RESUME = "ask_suspension", "suspend", "resume"

TRANSFER_FAMILY = (PROPOSE, TRANSFER, DECLINE)
SUSPENSION_FAMILY = (ASK_SUSPENSION, SUSPEND, RESUME)


def transfer_waits(last_trigger: str, data: dict[str, Any] | None, holding_unit_id: int | None) -> bool:
    """The family's last event is a proposal, made for the unit that still holds the task."""
    return last_trigger == PROPOSE and (data or {}).get("from_unit_id") == holding_unit_id


def suspension_waits(last_trigger: str, asked_in: str | None, state: str) -> bool:
    """The family's last event is the unit's request, made in the state the task is still in."""
    return last_trigger == ASK_SUSPENSION and asked_in == state
