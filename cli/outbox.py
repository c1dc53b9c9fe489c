"""The sweep and the notification outbox: sweep, notifications list/retry."""

from __future__ import annotations

import click

from engine.domain.clock import FixedClock, parse_instant
from engine.services import delivery
from engine.services.circulars import issue_due
from engine.services.sweep import sweep as run_sweep

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say, table, when


def register(cli: click.Group) -> None:
    cli.add_command(sweep)
    cli.add_command(notifications)


@click.command()
@click.option(
    "--now", "now_text", metavar="ISO", help="Sweep as of this instant (default: now), e.g. 2026-10-12T09:00."
)
@click.option("--deliver", is_flag=True, help="Also deliver what is pending, in this process.")
@json_option
@pass_ctx
def sweep(ctx: Ctx, now_text: str | None, deliver: bool) -> None:
    """Write due reminders and escalations to the outbox (what the beat schedule runs)."""
    # Every delivery setting is parsed before the sweep writes: a bad one refuses the whole command.
    policy = delivery.check_delivery_settings(ctx.settings) if deliver else None
    app = ctx.app()
    real = app.clock
    if now_text:
        app.clock = FixedClock(parse_instant(now_text, app.tz))
    result = run_sweep(app)
    issued = issue_due(app)
    outcomes = None
    if deliver:
        # Leases must hold in real time, or a worker could take a row this process is still sending:
        # deliver as of the later of the two clocks.
        app.clock = FixedClock(max(app.clock.now(), real.now()))
        outcomes = delivery.deliver_pending(app, policy=policy)
    if ctx.json:
        emit_json(
            {
                "tasks": result.tasks,
                "notifications": result.notifications,
                "escalations": result.escalations,
                "circulars": issued,
                "delivered": dict(outcomes) if outcomes is not None else None,
            }
        )
        return
    say(
        ctx.t(
            f"检查到期任务 {result.tasks} 项，写入通知 {result.notifications} 条（其中督办 {result.escalations} 条）",
            f"{result.tasks} task(s) due, {result.notifications} notification(s) written "
            f"({result.escalations} escalation(s))",
        )
    )
    if issued:
        say(
            ctx.t(f"生成定期通报 {len(issued)} 份", f"{len(issued)} circular(s) issued")
            + f": {', '.join(map(str, issued))}"
        )
    if outcomes is not None:
        say(ctx.t("投递：", "delivered: ") + (", ".join(f"{k} {v}" for k, v in outcomes.items()) or "0"))


@click.group()
def notifications() -> None:
    """The notification outbox."""


@notifications.command(name="list")
@click.option("--status", type=click.Choice(list(delivery.STATUSES)))
@click.option("--limit", type=click.IntRange(1, 100000), default=200, show_default=True)
@json_option
@pass_ctx
def list_cmd(ctx: Ctx, status: str | None, limit: int) -> None:
    """Notifications, newest first."""
    app = ctx.app()
    rows = delivery.list_notifications(app, status, limit)
    if ctx.json:
        emit_json([r.__dict__ for r in rows], app.tz)
        return
    table(
        ctx,
        [
            ("编号", "Id"),
            ("任务", "Task"),
            ("类型", "Rule"),
            ("级别", "Level"),
            ("接收人", "To"),
            ("渠道", "Channel"),
            ("状态", "Status"),
            ("次数", "Tries"),
            ("时间", "Created"),
            ("错误", "Error"),
        ],
        [
            [
                str(r.id),
                r.code or "",
                r.rule,
                str(r.level),
                r.recipient or "",
                r.channel,
                r.status,
                str(r.attempts),
                when(r.created_at, app.tz),
                (r.last_error or "")[:80],
            ]
            for r in rows
        ],
    )


@notifications.command()
@click.argument("ids", nargs=-1, type=click.IntRange(1, 2**62))
@click.option("--failed", "all_failed", is_flag=True, help="Every failed notification.")
@pass_ctx
def retry(ctx: Ctx, ids: tuple[int, ...], all_failed: bool) -> None:
    """Send failed notifications again (their attempts start over)."""
    if bool(ids) == all_failed:
        raise click.UsageError("give notification ids, or --failed")
    count = delivery.retry_notifications(ctx.app(), None if all_failed else list(ids))
    say(ctx.t(f"已重新排队 {count} 条", f"{count} notification(s) queued again"))
