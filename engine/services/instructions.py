"""Leaders' instructions (领导批示): registered first, then turned into tasks that point back to them.

An instruction is put on the chain as a record of kind "instruction" in the transaction that registers it,
so ``audit verify`` names one added, changed or removed behind the engine's back. Leaders, the supervision
office (which registers its leaders' instructions in practice) and admins may register them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from ..app import App
from ..domain.errors import InvalidInput, NotPermitted, UnknownInstruction, UnknownPerson
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..persistence.uow import UnitOfWork
from .chain import record_changes
from .identity import acting
from .notify import cached_org
from .org import resolve_person

if TYPE_CHECKING:  # the instructions' table module loads SQLAlchemy: a firing imports this module, and needs none
    from ..persistence.instructions import InstructionRow, PointingTask

INSTRUCTION_PREFIX = "PS"  # 批示
MAY_REGISTER = frozenset({"leader", "supervisor", "admin"})


@dataclass(frozen=True)
class InstructionView:
    row: InstructionRow
    tasks: list[PointingTask] = field(default_factory=list)


def register_instruction(
    app: App, actor_id: str | None, *, leader: str, text: str, ref: str | None, issued_on: date
) -> str:
    """Register a leader's instruction; returns its code (PS-2026-0001)."""
    body = check_text(text, "instruction", max_len=4000, multiline=True)
    if not body:
        raise InvalidInput(
            what=Bilingual("批示内容", "instruction"),
            detail=Bilingual("请用 --text 写明批示内容", "give its words with --text"),
        )
    ref = (check_text(ref, "ref", max_len=200) or None) if ref else None
    leader = check_text(leader, "leader", max_len=200)
    now = app.clock.now()
    today = now.astimezone(app.tz).date()
    if issued_on > today:
        raise InvalidInput(
            what="--date",
            detail=Bilingual(
                f"{issued_on} 晚于今天（{today}）；批示日期是已作出批示的日期", f"{issued_on} is after today ({today})"
            ),
        )
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        actor = uow.tasks.actor(who.actor_id)
        if actor is None:
            raise UnknownPerson(person=who.actor_id, near="")
        if not (actor.roles & MAY_REGISTER):
            raise NotPermitted(
                actor=f"{actor.name}({actor.id})",
                action=Bilingual("登记领导批示", "register a leader's instruction"),
                code=Bilingual("领导批示", "instructions"),
                rule=Bilingual("领导、督查人员或管理员", "leader, supervisor or admin"),
            )
        org = cached_org(app, uow)
        leader_id = resolve_person(org, leader)
        if "leader" not in org.people()[leader_id][2]:
            raise InvalidInput(
                what="--leader",
                detail=Bilingual(f"'{leader}' 不是领导，批示须由领导作出", f"'{leader}' does not have the leader role"),
            )
        year = now.astimezone(app.tz).year
        code = f"{INSTRUCTION_PREFIX}-{year}-{uow.tasks.next_code_number(INSTRUCTION_PREFIX, year):04d}"
        repo = uow.instructions
        repo.add(code, leader_id, body, ref, issued_on, now)
        record_changes(
            app, uow, "instruction", repo.bodies([code]), account=who.account, operator_id=who.operator_id, via=who.via
        )
        uow.commit()
    return code


def list_instructions(app: App) -> list[InstructionRow]:
    with app.uow(write=False) as uow:
        return uow.instructions.listing(closed_states=_closed_states(app))


def show_instruction(app: App, code: str) -> InstructionView:
    code = check_text(code, "instruction code", max_len=32)
    with app.uow(write=False) as uow:
        repo = uow.instructions
        found = repo.listing(code=code, closed_states=_closed_states(app))
        if not found:
            raise UnknownInstruction(code=code)
        return InstructionView(found[0], repo.tasks_of(code))


def find_instruction(uow: UnitOfWork, code: str) -> InstructionRow:
    """The instruction a new task is turned from, read in the assignment's own unit of work."""
    row = uow.instructions.get(code)
    if row is None:
        raise UnknownInstruction(code=code)
    return row


def _closed_states(app: App) -> list[tuple[str, str]]:
    return [(s.name, k) for s in app.registry.specs for k, st in s.states.items() if st.report == "closed"]
