"""Extension requests (延期申请): the unit asks, the lead leader grants or denies.

Both steps are transitions of the task's workflow (``extend``,
``grant_extension``, ``deny_extension``), so who may take them is data and
each is an event in the history. A grant moves the deadline under a new
deadline version (reminders and escalations are planned afresh); the
original deadline stays on the task for the on-time rate.
"""

from __future__ import annotations

from datetime import date

from ..app import App
from ..domain.errors import ExtensionConflict, InvalidInput, UnknownExtension, UnknownTask
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..persistence.extensions import ExtensionView
from .identity import acting
from .refusals import refusals_recorded
from .splitting import check_sub_extension
from .tasks import fire_within, resolve_deadline

__all__ = ["ExtensionView", "decide_extension", "list_extensions", "request_extension"]


def request_extension(app: App, actor_id: str | None, code: str, to: date | str, reason: str) -> int:
    with refusals_recorded(app, actor_id, "extend", code[:64]):
        return _request_extension(app, actor_id, code, to, reason)


def _request_extension(app: App, actor_id: str | None, code: str, to: date | str, reason: str) -> int:
    reason = check_text(reason or "", "reason", max_len=2000, multiline=True)
    with app.uow(write=True) as uow:
        actor_id = acting(app, uow, actor_id).actor_id
        task = uow.extensions.lock_task(code)
        if task is None:
            raise UnknownTask(code=code)
        if task.deadline is None:
            raise ExtensionConflict(
                detail=Bilingual(
                    f"任务 {code} 没有整改时限（长期坚持或未设），无需延期",
                    f"task {code} has no deadline (ongoing or none set), so there is nothing to extend",
                )
            )
        pending = uow.extensions.pending_for(task.id)
        if pending is not None:
            raise ExtensionConflict(
                detail=Bilingual(
                    f"任务 {code} 已有待审批的延期申请 {pending}",
                    f"task {code} already has extension request {pending} pending",
                )
            )
        now = app.clock.now()
        wanted = resolve_deadline(app, app.registry.spec(task.workflow), to, task.campaign, now)
        if wanted is None or wanted.due is None:
            raise InvalidInput(
                what=Bilingual("新的整改时限", "new deadline"),
                detail=Bilingual(
                    "--to 须是一个日期，如 2026-12-31 或 年底前", "--to needs a date, e.g. 2026-12-31 or 年底前"
                ),
            )
        check_sub_extension(uow, code, wanted.due)  # 分解: never past the parent's deadline
        today = now.astimezone(app.tz).date()
        if wanted.due <= max(today, task.deadline or today):
            raise InvalidInput(
                what=Bilingual("新的整改时限", "new deadline"),
                detail=Bilingual(
                    f"{wanted.due} 不晚于现在的整改时限 {task.deadline or today}",
                    f"{wanted.due} is not later than the current deadline {task.deadline or today}",
                ),
            )
        fired = fire_within(
            app,
            uow,
            actor_id,
            code,
            "extend",
            comment=reason,
            extension=wanted.due,
            data={"from": task.deadline.isoformat() if task.deadline else None, "to": wanted.due.isoformat()},
        )
        request_id = uow.extensions.add(
            task_id=task.id,
            requested_by=actor_id,
            requested_at=fired.at,
            current_deadline=task.deadline,
            requested_deadline=wanted.due,
            reason=reason,
        )
        uow.commit()
    return request_id


def decide_extension(
    app: App, actor_id: str | None, request_id: int, approve: bool, comment: str | None
) -> ExtensionView:
    action = "grant_extension" if approve else "deny_extension"
    with refusals_recorded(app, actor_id, action, f"extension {request_id}"):
        return _decide_extension(app, actor_id, request_id, approve, comment)


def _decide_extension(
    app: App, actor_id: str | None, request_id: int, approve: bool, comment: str | None
) -> ExtensionView:
    comment = check_text(comment, "comment", max_len=2000, multiline=True) if comment else None
    with app.uow(write=True) as uow:
        actor_id = acting(app, uow, actor_id).actor_id
        status = uow.extensions.for_decision(request_id)
        if status is None:
            raise UnknownExtension(id=request_id)
        code = status.code
        if status.status != "pending":
            raise ExtensionConflict(
                detail=Bilingual(
                    f"延期申请 {request_id} 已{ {'approved': '同意', 'denied': '驳回'}.get(status.status, '撤回') }，不能再审批",
                    f"extension request {request_id} is already {status.status}",
                )
            )
        if approve:
            check_sub_extension(uow, code, status.requested_deadline)  # 分解: never past the parent's deadline
        now = app.clock.now()
        taken = uow.extensions.decide(
            request_id, status="approved" if approve else "denied", by=actor_id, at=now, comment=comment
        )
        if not taken:
            raise ExtensionConflict(
                detail=Bilingual(
                    f"延期申请 {request_id} 已被他人审批", f"extension request {request_id} was decided meanwhile"
                )
            )
        trigger = "grant_extension" if approve else "deny_extension"
        fire_within(
            app,
            uow,
            actor_id,
            code,
            trigger,
            comment=comment,
            extension=request_id,
            new_deadline=status.requested_deadline if approve else None,
            data={
                "request": request_id,
                "from": status.deadline.isoformat() if status.deadline else None,
                "to": status.requested_deadline.isoformat(),
            },
        )
        uow.commit()
    return list_extensions(app, request_id=request_id)[0]


def list_extensions(
    app: App, status: str | None = None, code: str | None = None, request_id: int | None = None
) -> list[ExtensionView]:
    if status is not None and status not in ("pending", "approved", "denied", "withdrawn"):
        raise InvalidInput(
            what=Bilingual("状态", "status"),
            detail=Bilingual(
                f"'{status}' 不是 pending（待审批）、approved（同意）、denied（不同意）或 withdrawn（撤回）",
                f"'{status}' is not pending, approved, denied or withdrawn",
            ),
        )
    with app.uow(write=False) as uow:
        return uow.extensions.views(status=status, code=code, request_id=request_id)
