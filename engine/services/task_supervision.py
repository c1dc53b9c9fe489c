"""What the task page shows around the supervision steps: the pending 退办, 提请转办 and 申请挂起 the person
decides on, the units a task may go to, its 督办单 with their replies, its 问责 records and the 领导批示 it
came from.

Read for someone who may see the task (``visibility.task_page`` has checked); the steps themselves go through
``steps`` to the same services as the CLI. The pending requests are read from the task's own timeline, the
same events the services decide on, so the page and the refusal never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..app import App
from ..domain.accountability import AccountabilityRecord
from ..domain.decisions import PROPOSE, SUSPENSION_FAMILY, TRANSFER_FAMILY, suspension_waits, transfer_waits
from ..domain.errors import DubanError
from ..domain.supervision_notices import COLOR_NAMES
from ..domain.text import Bilingual
from ..domain.visibility import Viewer
from ..persistence.instructions import InstructionRow
from . import accountability, instructions, supervision_notices, transfers
from .org import org_view
from .queries import EventView, TaskDetail
from .supervision_notices import NoticeView

UNIT_ROLES = frozenset({"unit_head", "unit_member"})


@dataclass(frozen=True)
class SupervisionView:
    units: list[str] = field(default_factory=list)  # where a reassignment or a proposed transfer may go
    returned: EventView | None = None  # the 退办 the lead leader decides on (reassign or insist)
    proposed: EventView | None = None  # the 提请转办 awaiting the lead leader's consent
    asked_suspension: EventView | None = None  # the unit's 申请挂起 not yet decided
    notices: list[NoticeView] = field(default_factory=list)  # 督办单, oldest first
    may_reply: bool = False  # the person is of the task's unit: they answer its notices
    accountability: list[AccountabilityRecord] | None = None  # None: not for this person's eyes
    instruction: InstructionRow | None = None  # the 领导批示 the task was turned from
    source_label: Bilingual | None = None  # 问题来源 in both languages, as the workflow names it
    color_names: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(COLOR_NAMES))  # 黄色督办单 …


def _last(events: Sequence[EventView], triggers: tuple[str, ...]) -> EventView | None:
    return next((e for e in reversed(events) if e.trigger in triggers), None)


def pending_return(detail: TaskDetail) -> EventView | None:
    """The 退办 that put the task where it is, while it is still returned."""
    last = detail.events[-1] if detail.events else None
    if last is None or last.trigger != transfers.RETURN or last.dest != detail.summary.state:
        return None
    return last


def pending_transfer(detail: TaskDetail) -> EventView | None:
    """The proposal not yet consented to or declined, for the unit that still holds the task."""
    last = _last(detail.events, TRANSFER_FAMILY)
    return last if last is not None and transfer_waits(last.trigger, last.data, detail.unit_id) else None


def pending_suspension(detail: TaskDetail) -> EventView | None:
    """The unit's request to suspend, until the lead leader suspends the task or it moves on."""
    last = _last(detail.events, SUSPENSION_FAMILY)
    return last if last is not None and suspension_waits(last.trigger, last.dest, detail.summary.state) else None


def may_see_accountability(me: Viewer, task_unit: int) -> bool:
    """问责 names people: leaders, supervisors and admins see it, and the head of the unit concerned."""
    return me.sees_all or ("unit_head" in me.roles and me.unit_id == task_unit)


def supervision_view(app: App, person_id: str, detail: TaskDetail) -> SupervisionView:
    code = detail.summary.code
    with app.uow(write=False) as uow:
        store = uow.web
        me, place = store.viewer(person_id), store.task_place(code)
        instruction = None
        if detail.summary.instruction:
            try:
                instruction = instructions.find_instruction(uow, detail.summary.instruction)
            except DubanError:
                instruction = None  # an imported ledger may cite one not registered here
    if me is None or place is None:
        return SupervisionView()
    units: list[str] = []
    if {transfers.REASSIGN, PROPOSE} & set(detail.allowed):
        units = [u.name for u in org_view(app).units if u.name != detail.summary.unit]
    records = None
    source = detail.summary.source
    spec = app.registry.find(detail.summary.workflow)
    found = spec.sources.get(source) if spec and source else None
    source_label = found.label if found else (Bilingual(source, source) if source else None)
    if may_see_accountability(me, place.unit_id):
        records = accountability.list_records(app, task=code)
    return SupervisionView(
        units=units,
        returned=pending_return(detail),
        proposed=pending_transfer(detail),
        asked_suspension=pending_suspension(detail),
        notices=supervision_notices.list_notices(app, task=code),
        may_reply=me.unit_id == place.unit_id and bool(UNIT_ROLES & me.roles),
        accountability=records,
        instruction=instruction,
        source_label=source_label,
    )
