"""Extension requests (延期申请): the unit asks, the lead leader grants or denies.

Both steps are transitions of the task's workflow (``extend``,
``grant_extension``, ``deny_extension``), so who may take them is data and
each is an event in the history. A grant moves the deadline under a new
deadline version (reminders and escalations are planned afresh); the
original deadline stays on the task for the on-time rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import aliased

from ..app import App
from ..domain.errors import ExtensionConflict, InvalidInput, UnknownExtension, UnknownTask
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..persistence.models import ExtensionRequest, Person, Task
from .identity import acting
from .refusals import refusals_recorded
from .tasks import fire_within, resolve_deadline


@dataclass(frozen=True)
class ExtensionView:
    id: int
    code: str
    title: str
    requested_by: str
    requested_at: datetime
    current_deadline: date | None
    requested_deadline: date
    reason: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None


def request_extension(app: App, actor_id: str | None, code: str, to: date | str, reason: str) -> int:
    with refusals_recorded(app, actor_id, "extend", code[:64]):
        return _request_extension(app, actor_id, code, to, reason)


def _request_extension(app: App, actor_id: str | None, code: str, to: date | str, reason: str) -> int:
    reason = check_text(reason or "", "reason", max_len=2000, multiline=True)
    with app.uow(write=True) as uow:
        actor_id = acting(app, uow, actor_id).actor_id
        task = uow.conn.execute(  # the row lock makes two requests at once queue (SQLite: BEGIN IMMEDIATE does)
            select(Task.id, Task.deadline, Task.workflow, Task.campaign).where(Task.code == code).with_for_update()
        ).first()
        if task is None:
            raise UnknownTask(code=code)
        if task.deadline is None:
            raise ExtensionConflict(
                detail=Bilingual(
                    f"任务 {code} 没有整改时限（长期坚持或未设），无需延期",
                    f"task {code} has no deadline (ongoing or none set), so there is nothing to extend",
                )
            )
        pending = uow.conn.execute(
            select(ExtensionRequest.id).where(ExtensionRequest.task_id == task.id, ExtensionRequest.status == "pending")
        ).scalar()
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
        request_id = uow.conn.execute(
            insert(ExtensionRequest)
            .values(
                task_id=task.id,
                requested_by=actor_id,
                requested_at=fired.at,
                current_deadline=task.deadline,
                requested_deadline=wanted.due,
                reason=reason,
                status="pending",
            )
            .returning(ExtensionRequest.id)
        ).scalar_one()
        uow.commit()
    return int(request_id)


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
        status = uow.conn.execute(
            select(ExtensionRequest.status, ExtensionRequest.requested_deadline, Task.code, Task.deadline)
            .join(Task, Task.id == ExtensionRequest.task_id)
            .where(ExtensionRequest.id == request_id)
        ).first()
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
        now = app.clock.now()
        taken = uow.conn.execute(  # decided once: a second decision, even a concurrent one, finds it taken
            update(ExtensionRequest)
            .where(ExtensionRequest.id == request_id, ExtensionRequest.status == "pending")
            .values(status="approved" if approve else "denied", decided_by=actor_id, decided_at=now, comment=comment)
        ).rowcount
        if taken != 1:
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
        raise InvalidInput(what="status", detail=f"'{status}' is not pending, approved, denied or withdrawn")
    asker = aliased(Person)
    query = (
        select(ExtensionRequest, Task.code, Task.title, asker.name)
        .join(Task, Task.id == ExtensionRequest.task_id)
        .join(asker, asker.id == ExtensionRequest.requested_by)
        .order_by(ExtensionRequest.id)
    )
    if status:
        query = query.where(ExtensionRequest.status == status)
    if code:
        query = query.where(Task.code == code)
    if request_id is not None:
        query = query.where(ExtensionRequest.id == request_id)
    with app.uow(write=False) as uow:
        rows = uow.session.execute(query).all()
    return [
        ExtensionView(
            r[0].id,
            r.code,
            r.title,
            r[0].requested_by,
            r[0].requested_at,
            r[0].current_deadline,
            r[0].requested_deadline,
            r[0].reason,
            r[0].status,
            r[0].decided_by,
            r[0].decided_at,
            r[0].comment,
        )
        for r in rows
    ]
