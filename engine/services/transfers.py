"""退办 and 转办: a unit returns a task that is not its duty; the lead leader reassigns it or insists; a supervisor
proposes moving a task between units and the lead leader consents or declines.

Each is one firing of the workflow (its permission rule, reason and notification come from the YAML), in one
unit of work with the checks here: the events name both units, a unit returns a task once, and a transfer
happens only on a pending proposal. The deadline follows ``deadlines.transfer`` (see watch.reassigned).
``if_version`` (a web form's version) is checked inside the same unit of work as the step: a stale form writes nothing.
"""

from __future__ import annotations

from typing import Any

from ..app import App
from ..domain.decisions import DECLINE, PROPOSE, TRANSFER, TRANSFER_FAMILY, transfer_waits
from ..domain.errors import InvalidInput, UnknownTask
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..persistence.uow import UnitOfWork
from .notify import cached_org
from .org import resolve_unit
from .refusals import refusals_recorded
from .tasks import FireResult, fire_within

RETURN, REASSIGN, INSIST = "return", "reassign", "insist"


def _unit_name(app: App, uow: UnitOfWork, unit_id: int) -> str:
    unit = cached_org(app, uow).directory.units.get(unit_id)
    return unit.name if unit else str(unit_id)


def _task(uow: UnitOfWork, code: str, actor_id: str) -> Any:
    found = uow.tasks.for_firing(code, actor_id)
    if found is None:
        raise UnknownTask(code=code)
    return found[0]


def _comment(comment: str | None) -> str | None:
    return check_text(comment, "comment", max_len=4000, multiline=True) or None if comment else None


def _result(fired: Any, code: str) -> FireResult:
    return FireResult(code=code, workflow=fired.task.workflow, outcome=fired.outcome, version=fired.seq)


def return_task(
    app: App, actor_id: str | None, code: str, reason: str | None, *, if_version: int | None = None
) -> FireResult:
    """退办: back to the lead leader, with a reason; a unit that was insisted on cannot return it again."""
    with refusals_recorded(app, actor_id, RETURN, code[:64]):
        code, reason = check_text(code, "task code", max_len=32), _comment(reason)
        with app.uow(write=True) as uow:
            task = _task(uow, code, actor_id or "")
            unit = task.facts.unit_id
            allowed_now = app.registry.spec(task.workflow).transition(RETURN, task.facts.state) is not None
            if allowed_now and any(
                (d or {}).get("unit_id") == unit for _t, d in uow.tasks.steps_of(task.id, (RETURN,))
            ):
                name = _unit_name(app, uow, unit)
                raise InvalidInput(
                    what=Bilingual("退办", "return"),
                    detail=Bilingual(
                        f"{name} 已退办过任务 {code}，责任领导坚持交办后不能再次退办；请签收办理，或申请延期",
                        f"{name} returned {code} once already and the lead leader insisted; sign for it, "
                        "or ask for an extension",
                    ),
                )
            data = {"unit_id": unit, "unit": _unit_name(app, uow, unit), "to_leader": task.facts.lead_leader_id}
            fired = fire_within(app, uow, actor_id, code, RETURN, comment=reason, data=data, if_version=if_version)
            uow.commit()
    return _result(fired, code)


def _move_data(app: App, uow: UnitOfWork, old: int, new: int) -> dict[str, Any]:
    return {
        "from_unit_id": old,
        "from_unit": _unit_name(app, uow, old),
        "to_unit_id": new,
        "to_unit": _unit_name(app, uow, new),
    }


def _other_unit(app: App, uow: UnitOfWork, code: str, current: int, unit: str) -> int:
    target = resolve_unit(cached_org(app, uow), check_text(unit, "unit", max_len=200))
    if target == current:
        raise InvalidInput(
            what="--unit",
            detail=Bilingual(
                f"任务 {code} 已由 {unit} 承办；改派、转办须交给另一单位（坚持由其办理用 duban insist）",
                f"{code} is already {unit}'s; a reassignment or transfer goes to another unit (duban insist keeps it)",
            ),
        )
    return target


def reassign(
    app: App, actor_id: str | None, code: str, unit: str, comment: str | None, *, if_version: int | None = None
) -> FireResult:
    """改派: the lead leader hands a returned task to another unit; its clock follows the policy."""
    with refusals_recorded(app, actor_id, REASSIGN, code[:64]):
        code, comment = check_text(code, "task code", max_len=32), _comment(comment)
        with app.uow(write=True) as uow:
            task = _task(uow, code, actor_id or "")
            target = _other_unit(app, uow, code, task.facts.unit_id, unit)
            data = _move_data(app, uow, task.facts.unit_id, target)
            fired = fire_within(
                app, uow, actor_id, code, REASSIGN, comment=comment, data=data, unit_id=target, if_version=if_version
            )
            uow.commit()
    return _result(fired, code)


def insist(
    app: App, actor_id: str | None, code: str, reason: str | None, *, if_version: int | None = None
) -> FireResult:
    """坚持交办: the lead leader hands a returned task back to the same unit, with a reason."""
    with refusals_recorded(app, actor_id, INSIST, code[:64]):
        code, reason = check_text(code, "task code", max_len=32), _comment(reason)
        with app.uow(write=True) as uow:
            task = _task(uow, code, actor_id or "")
            data = {"unit_id": task.facts.unit_id, "unit": _unit_name(app, uow, task.facts.unit_id)}
            fired = fire_within(app, uow, actor_id, code, INSIST, comment=reason, data=data, if_version=if_version)
            uow.commit()
    return _result(fired, code)


def _pending(uow: UnitOfWork, task_id: int, holding_unit_id: int) -> dict[str, Any] | None:
    """The transfer proposed for the unit holding the task and not yet consented to or declined, if any."""
    steps = uow.tasks.steps_of(task_id, TRANSFER_FAMILY)
    if steps and transfer_waits(steps[-1][0], steps[-1][1], holding_unit_id):
        return steps[-1][1] or {}
    return None


def propose_transfer(
    app: App, actor_id: str | None, code: str, unit: str, reason: str | None, *, if_version: int | None = None
) -> FireResult:
    """提请转办: a supervisor proposes moving the task to another unit; the lead leader decides."""
    with refusals_recorded(app, actor_id, PROPOSE, code[:64]):
        code, reason = check_text(code, "task code", max_len=32), _comment(reason)
        with app.uow(write=True) as uow:
            task = _task(uow, code, actor_id or "")
            target = _other_unit(app, uow, code, task.facts.unit_id, unit)
            pending = _pending(uow, task.id, task.facts.unit_id)
            if pending is not None:
                raise InvalidInput(
                    what=Bilingual("转办", "transfer"),
                    detail=Bilingual(
                        f"任务 {code} 已提请转办至 {pending.get('to_unit')}，待责任领导决定",
                        f"a transfer of {code} to {pending.get('to_unit')} awaits the lead leader already",
                    ),
                )
            data = _move_data(app, uow, task.facts.unit_id, target)
            fired = fire_within(
                app, uow, actor_id, code, PROPOSE, comment=reason, data=data, unit_id=target, if_version=if_version
            )
            uow.commit()
    return _result(fired, code)


def decide_transfer(
    app: App,
    actor_id: str | None,
    code: str,
    consent: bool,
    comment: str | None,
    *,
    if_version: int | None = None,
) -> FireResult:
    """The lead leader consents (转办: the task moves, as proposed) or declines, with a reason."""
    trigger = TRANSFER if consent else DECLINE
    with refusals_recorded(app, actor_id, trigger, code[:64]):
        code, comment = check_text(code, "task code", max_len=32), _comment(comment)
        with app.uow(write=True) as uow:
            task = _task(uow, code, actor_id or "")
            pending = _pending(uow, task.id, task.facts.unit_id)
            if pending is None:
                raise InvalidInput(
                    what=Bilingual("转办", "transfer"),
                    detail=Bilingual(
                        f"任务 {code} 没有待决定的转办提请；督查人员先用 duban transfer propose 提请",
                        f"no transfer of {code} awaits a decision; a supervisor proposes one with duban transfer propose",
                    ),
                )
            target = int(pending["to_unit_id"])
            data = _move_data(app, uow, task.facts.unit_id, target)
            fired = fire_within(
                app,
                uow,
                actor_id,
                code,
                trigger,
                comment=comment,
                data=data,
                unit_id=target if consent else None,
                if_version=if_version,
            )
            uow.commit()
    return _result(fired, code)
