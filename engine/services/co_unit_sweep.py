"""The sweep's look at co-units' parts (牵头/配合): a part late to sign for, or late to report, is told once.

Parts have their own days (``deadlines.co_units``), apart from the task's deadline ladder, and are few:
one query finds the late ones not yet chased, and each is marked in the same transaction as its notices,
so a second sweep writes nothing twice (and the dedup keys would refuse it anyway).
"""

from __future__ import annotations

from datetime import datetime

from ..app import App
from ..persistence.outbox import About, OutgoingNotice
from .notify import cached_org, write_notices

RULE = "co_unit_late"
LIMIT = 10_000


def chase_co_units(app: App, now: datetime) -> int:
    """Write the notices for parts that became late since the last sweep; returns rows written."""
    today = now.astimezone(app.tz).date()
    open_states = [
        (spec.name, state.key)
        for spec in app.registry.specs
        if spec.deadlines.co_units is not None
        for state in spec.states.values()
        if state.clock and not state.final
    ]
    with app.uow(write=True) as uow:
        late = uow.co_units.late(today, open_states, LIMIT)
        if not late:
            return 0
        directory = cached_org(app, uow).directory
        lang = app.settings.notify_lang
        notices: list[OutgoingNotice] = []
        abouts: dict[int, About] = {}  # a task's parts are late together more often than not
        for part in late:
            about = abouts.get(part.task_id) or abouts.setdefault(part.task_id, uow.outbox.about(part.task_id))
            policy = app.registry.spec(about.workflow).deadlines.co_units
            assert policy is not None
            unit = directory.units.get(part.unit_id)
            name = unit.name if unit else str(part.unit_id)
            if part.kind == 1:
                note = (
                    f"配合单位{name}超过签收时限（{part.due}）仍未签收（duban co-unit sign {about.code}）"
                    if lang == "zh"
                    else f"co-unit {name} has not signed for its part, due {part.due} (duban co-unit sign {about.code})"
                )
            else:
                note = (
                    f"配合单位{name}超过报送期限（{part.due}）仍未报送配合情况（duban co-unit report {about.code}）"
                    if lang == "zh"
                    else f"co-unit {name} has not reported on its part, due {part.due} (duban co-unit report {about.code})"
                )
            write_notices(
                app,
                uow.outbox,
                directory,
                about,
                RULE,
                part.kind,
                policy.late_notify,
                f"{about.id}:{RULE}:{part.unit_id}:{part.kind}",
                now,
                note,
                sink=notices,
                co_unit=part.unit_id,
            )
            uow.co_units.chased(part.task_id, part.unit_id, part.kind)
        written = uow.outbox.add_many(notices, now)
        uow.commit()
    return written
