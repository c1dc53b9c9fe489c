"""The sweep and the notification outbox: sweep, notifications list/retry."""

from __future__ import annotations

import click

from duban.engine.domain.clock import FixedClock, parse_instant
from duban.engine.domain.errors import DubanError
from duban.engine.services import delivery
from duban.engine.services.circulars import issue_due
from duban.engine.services.digest import digest_at, write_due_digests
from duban.engine.services.identity import check_fixed_clock
from duban.engine.services.sweep import SweepResult
from duban.engine.services.sweep import sweep as run_sweep

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
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.option("--yes", is_flag=True, help="Sweep even though --now is in the future.")
@json_option
@pass_ctx
def sweep(ctx: Ctx, now_text: str | None, deliver: bool, dry_run: bool, yes: bool) -> None:
    """Write due reminders and escalations to the outbox (what the beat schedule runs)."""
    if dry_run and deliver:
        raise click.UsageError(
            ctx.t(
                "--dry-run 不写入任何内容，不能同时使用 --deliver", "--dry-run writes nothing, so it cannot --deliver"
            )
        )
    # Every delivery setting is parsed before the sweep writes: a bad one refuses the whole command.
    policy = delivery.check_delivery_settings(ctx.settings) if deliver else None
    app = ctx.app()
    digest_at(app)  # a bad DUBAN_DIGEST_AT refuses the command before the sweep writes
    real = app.clock
    if now_text:
        if not dry_run:
            check_fixed_clock(app)  # whoever sets the sweep's clock could date its notices: not on a shared desk
        at = parse_instant(now_text, app.tz)
        if at > real.now() and not (yes or dry_run):
            raise FutureSweep(at=when(at, app.tz), now=when(real.now(), app.tz))
        app.clock = FixedClock(at)
    result = run_sweep(app, dry_run=dry_run)
    if dry_run:
        _show_dry_run(ctx, result)
        return
    digests = write_due_digests(app)
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
                "reports": result.reports,
                "digests": digests,
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
    if digests:
        say(ctx.t(f"写入每日摘要 {digests} 条", f"{digests} daily digest(s) written"))
    if issued:
        say(
            ctx.t(f"生成定期通报 {len(issued)} 份", f"{len(issued)} circular(s) issued")
            + f": {', '.join(map(str, issued))}"
        )
    if outcomes is not None:
        say(ctx.t("投递：", "delivered: ") + (", ".join(f"{k} {v}" for k, v in outcomes.items()) or "0"))


class FutureSweep(DubanError):
    exit_code = 2
    zh = (
        "--now {at} 晚于当前时间 {now}：会提前写入并发出尚未到期的提醒和督办；"
        "先用 --dry-run 查看将写入什么，确需如此请加 --yes"
    )
    en = (
        "--now {at} is later than now ({now}): reminders and escalations not yet due would be written and sent "
        "early; see what would be written with --dry-run, or add --yes if that is what you want"
    )


def _show_dry_run(ctx: Ctx, result: SweepResult) -> None:
    if ctx.json:
        emit_json(
            {
                "dry_run": True,
                "tasks": result.tasks,
                "notifications": len(result.planned),
                "escalations": sum(p.rule == "escalate" for p in result.planned),
                "would_write": [p.__dict__ for p in result.planned],
            }
        )
        return
    table(
        ctx,
        [
            ("任务", "Task"),
            ("类型", "Kind"),
            ("级别", "Level"),
            ("接收人", "To"),
            ("渠道", "Channel"),
            ("标题", "Subject"),
        ],
        [
            [p.code, rule_text(ctx, p.rule), str(p.level), p.recipient or "", p.channel, p.subject]
            for p in result.planned
        ],
        title=ctx.t("试运行：将写入的通知", "Dry run: what would be written"),
    )
    say(
        ctx.t(
            f"试运行：检查到期任务 {result.tasks} 项，将写入通知 {len(result.planned)} 条；未写入任何内容",
            f"dry run: {result.tasks} task(s) due, {len(result.planned)} notification(s) would be written; "
            "nothing was written",
        )
    )


RULES = {
    "remind": ("到期提醒", "reminder"),
    "escalate": ("逾期督办", "escalation"),
    "stale": ("进展滞后提醒", "no progress"),
    "sign_remind": ("签收提醒", "sign-for reminder"),
    "sign_escalate": ("超时未签收督办", "sign-for escalation"),
    "report_remind": ("定期填报提醒", "periodic report reminder"),
    "report_escalate": ("漏报督办", "missed periodic report escalation"),
    "event": ("流转通知", "event"),
    "circular": ("定期通报", "circular"),
    "notice": ("督办单", "supervision notice"),
    "digest": ("每日摘要", "daily digest"),
    "co_unit_late": ("配合单位超时提醒", "co-unit late"),
    "substitution": ("代理", "substitute"),
}
STATUS_TEXT = {
    "pending": ("待发送", "pending"),
    "sending": ("发送中", "sending"),
    "sent": ("已发送", "sent"),
    "failed": ("发送失败", "failed"),
    "folded": ("并入摘要", "in digest"),
}


def rule_text(ctx: Ctx, rule: str) -> str:
    zh, en = RULES.get(rule, (rule, rule))
    return ctx.t(zh, en)


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
                rule_text(ctx, r.rule),
                str(r.level),
                r.recipient or "",
                r.channel,
                ctx.t(*STATUS_TEXT.get(r.status, (r.status, r.status))),
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
        raise click.UsageError(ctx.t("请给出通知编号，或使用 --failed", "give notification ids, or --failed"))
    count = delivery.retry_notifications(ctx.app(), None if all_failed else list(ids))
    say(ctx.t(f"已重新排队 {count} 条", f"{count} notification(s) queued again"))
