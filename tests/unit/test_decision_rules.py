"""When a 转办 proposal or a 挂起 request still waits for the lead leader (engine/domain/decisions.py)."""

from __future__ import annotations

from duban.engine.domain.decisions import (
    ASK_SUSPENSION,
    DECLINE,
    PROPOSE,
    RESUME,
    SUSPEND,
    TRANSFER,
    suspension_waits,
    transfer_waits,
)


def test_a_proposal_waits_only_while_the_unit_it_moves_the_task_from_still_holds_it() -> None:
    proposal = {"from_unit_id": 7, "from_unit": "住建局", "to_unit_id": 9, "to_unit": "城管局"}
    assert transfer_waits(PROPOSE, proposal, 7)
    assert not transfer_waits(PROPOSE, proposal, 9)  # the task moved since (改派): the proposal is spent
    assert not transfer_waits(PROPOSE, {"from_unit": "住建局"}, 7)  # by id, never by a name that may change
    assert not transfer_waits(TRANSFER, proposal, 7) and not transfer_waits(DECLINE, proposal, 7)  # decided
    assert not transfer_waits(PROPOSE, None, 7)


def test_a_suspension_request_waits_until_decided_or_the_task_moves_on() -> None:
    assert suspension_waits(ASK_SUSPENSION, "in_progress", "in_progress")
    assert not suspension_waits(ASK_SUSPENSION, "in_progress", "submitted")  # the unit went on and submitted
    assert not suspension_waits(SUSPEND, "suspended", "suspended") and not suspension_waits(
        RESUME, "in_progress", "in_progress"
    )
