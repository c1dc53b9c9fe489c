"""Deadline commands: extension requests and decisions, reminders by hand."""

from __future__ import annotations

import click

from duban.engine.domain.text import Bilingual
from duban.engine.services import extensions, tasks
from duban.engine.services.extensions import ExtensionView

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say, table, when

# An extension request's status as people read it; --status and --json keep the keys.
EXTENSION_STATUS = {
    "pending": Bilingual("待审批", "pending"),
    "approved": Bilingual("已同意", "approved"),
    "denied": Bilingual("不同意", "denied"),
    "withdrawn": Bilingual("已撤回", "withdrawn"),
}


def register(cli: click.Group) -> None:
    cli.add_command(extend)
    cli.add_command(extension)
    cli.add_command(remind)


@click.command()
@click.argument("code")
@click.option("--to", "to", required=True, help="The new deadline: a date or an expression such as 年底前.")
@click.option("--reason", required=True, help="Why more time is needed.")
@json_option
@pass_ctx
def extend(ctx: Ctx, code: str, to: str, reason: str) -> None:
    """延期申请 — ask for a new deadline (the responsible unit)."""
    request_id = extensions.request_extension(ctx.app(), ctx.actor, code, to, reason)
    if ctx.json:
        emit_json({"id": request_id, "code": code})
    else:
        say(
            ctx.t(
                f"{code}：已提交延期申请 {request_id}，待责任领导审批",
                f"{code}: extension request {request_id} sent to the lead leader",
            )
        )


@click.group()
def extension() -> None:
    """Extension requests: list, approve, deny (the lead leader)."""


def _view_json(v: ExtensionView) -> dict[str, object]:
    return {
        "id": v.id,
        "code": v.code,
        "title": v.title,
        "requested_by": v.requested_by,
        "requested_at": v.requested_at,
        "current_deadline": v.current_deadline,
        "requested_deadline": v.requested_deadline,
        "reason": v.reason,
        "status": v.status,
        "decided_by": v.decided_by,
        "decided_at": v.decided_at,
        "comment": v.comment,
    }


def _decide(ctx: Ctx, request_id: int, approve: bool, comment: str | None) -> None:
    view = extensions.decide_extension(ctx.app(), ctx.actor, request_id, approve, comment)
    if ctx.json:
        emit_json(_view_json(view), ctx.app().tz)
        return
    if approve:
        say(
            ctx.t(
                f"{view.code}：同意延期，整改时限调整为 {view.requested_deadline}",
                f"{view.code}: extension granted, the deadline is now {view.requested_deadline}",
            )
        )
    else:
        say(
            ctx.t(
                f"{view.code}：不同意延期，整改时限仍为 {view.current_deadline}",
                f"{view.code}: extension denied, the deadline stays {view.current_deadline}",
            )
        )


@extension.command()
@click.argument("request_id", type=click.IntRange(1, 2**62))
@click.option("--comment", "-m")
@json_option
@pass_ctx
def approve(ctx: Ctx, request_id: int, comment: str | None) -> None:
    """同意延期 — grant the request: the deadline moves, reminders are planned afresh."""
    _decide(ctx, request_id, True, comment)


@extension.command()
@click.argument("request_id", type=click.IntRange(1, 2**62))
@click.option("--comment", "-m")
@json_option
@pass_ctx
def deny(ctx: Ctx, request_id: int, comment: str | None) -> None:
    """不同意延期 — deny the request: the deadline stays."""
    _decide(ctx, request_id, False, comment)


@extension.command(name="list")
@click.option("--status", type=click.Choice(["pending", "approved", "denied", "withdrawn"]))
@click.option("--task", "code", help="Only this task's requests.")
@json_option
@pass_ctx
def list_cmd(ctx: Ctx, status: str | None, code: str | None) -> None:
    """Extension requests, newest last."""
    app = ctx.app()
    views = extensions.list_extensions(app, status=status, code=code)
    if ctx.json:
        emit_json([_view_json(v) for v in views], app.tz)
        return
    table(
        ctx,
        [
            ("编号", "Id"),
            ("任务", "Task"),
            ("现时限", "Deadline"),
            ("申请延至", "Asked"),
            ("理由", "Reason"),
            ("状态", "Status"),
            ("申请时间", "Asked at"),
        ],
        [
            [
                str(v.id),
                v.code,
                str(v.current_deadline or ""),
                str(v.requested_deadline),
                v.reason,
                ctx.pick(EXTENSION_STATUS[v.status]) if v.status in EXTENSION_STATUS else v.status,
                when(v.requested_at, app.tz),
            ]
            for v in views
        ],
    )


@click.command()
@click.argument("code")
@click.option("--note", "-m", help="What the supervision office asks for.")
@json_option
@pass_ctx
def remind(ctx: Ctx, code: str, note: str | None) -> None:
    """催办 — remind the unit by hand (supervisor or leader), through the notification outbox."""
    result = tasks.fire(ctx.app(), ctx.actor, code, "remind", comment=note)
    if ctx.json:
        emit_json({"code": code, "version": result.version})
    else:
        say(ctx.t(f"{code}：已催办", f"{code}: reminder sent"))
