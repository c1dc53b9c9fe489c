"""牵头/配合: a co-unit signs for its part and reports on it; the lead leader may waive a part, with a reason.

Each is a step of the task (an internal transition of its workflow, ``co_sign``, ``co_report``, ``co_waive``):
checked by the same rules, recorded as an event naming both the lead unit and the co-unit, and told
through the outbox in the same transaction. The part's own state moves with the event.
"""

from __future__ import annotations

from ..app import App
from ..domain.co_units import CO_REPORT, CO_SIGN, CO_WAIVE
from ..domain.errors import InvalidInput
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from .notify import cached_org
from .org import resolve_unit
from .refusals import refusals_recorded
from .tasks import FireResult, fire_within

STEPS = {"sign": CO_SIGN, "report": CO_REPORT, "waive": CO_WAIVE}


def co_unit_step(
    app: App,
    actor_id: str | None,
    code: str,
    step: str,
    unit: str | None,
    note: str | None,
    if_version: int | None = None,
) -> FireResult:
    """``step``: sign, report or waive. ``unit``: the co-unit (required to waive; else the actor's own unit).
    ``if_version``: refuse if the task changed since the person read it (a form's version)."""
    trigger = STEPS[step]
    with refusals_recorded(app, actor_id, trigger, code[:64]):
        code = check_text(code, "task code", max_len=32)
        text = check_text(note, "note", max_len=4000, multiline=True) if note else ""
        if trigger == CO_REPORT and not text:
            raise InvalidInput(
                what=Bilingual("配合情况", "report"),
                detail=Bilingual("请用 -m 写明本单位配合完成了什么", "say with -m what your unit did for its part"),
            )
        if trigger == CO_WAIVE and not unit:
            raise InvalidInput(
                what="--unit",
                detail=Bilingual("请用 --unit 指明免于配合的配合单位", "name the co-unit to waive with --unit"),
            )
        with app.uow(write=True) as uow:
            unit_id = resolve_unit(cached_org(app, uow), check_text(unit, "unit", max_len=200)) if unit else None
            fired = fire_within(
                app, uow, actor_id, code, trigger, comment=text or None, co_unit=unit_id, if_version=if_version
            )
            uow.commit()
    return FireResult(code=code, workflow=fired.task.workflow, outcome=fired.outcome, version=fired.seq)
