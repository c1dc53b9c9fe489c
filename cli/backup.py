"""`duban backup FILE` and `duban restore FILE`: a consistent copy of a SQLite workspace, and back."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from duban.engine.domain.errors import InvalidInput
from duban.engine.services import backup as backup_service

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say


def register(cli: click.Group) -> None:
    cli.add_command(backup)
    cli.add_command(restore)


@click.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def backup(ctx: Ctx, target: Path) -> None:
    """A consistent copy of the database while others keep working (SQLite; pg_dump for PostgreSQL)."""
    info = backup_service.backup(ctx.app(check=False), target)
    if ctx.json:
        emit_json({"file": str(info.path), "bytes": info.size, "tasks": info.tasks, "events": info.events})
        return
    say(
        ctx.t(
            f"已备份到 {info.path}（任务 {info.tasks} 项，事件 {info.events} 条，{info.size} 字节）",
            f"backed up to {info.path} ({info.tasks} tasks, {info.events} events, {info.size} bytes)",
        )
    )


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the existing database with the backup, even one that drops events.")
@json_option
@pass_ctx
def restore(ctx: Ctx, source: Path, yes: bool) -> None:
    """Put a checked backup in place of the database, keeping the replaced one beside it.

    The backup is upgraded and its hash chains verified in a temporary copy
    before anything is replaced (a tampered backup exits 8). Replacing an
    existing database takes --yes, or a yes at the prompt on a terminal, and
    the refusal says how many events an older backup would drop.
    """
    app = ctx.app(check=False)
    plan = backup_service.prepare_restore(app, source)
    try:
        warning = plan.warning()
        if plan.needs_confirmation and not yes:
            if ctx.json or not sys.stdin.isatty():
                lost = f"{ctx.pick(warning)}; " if warning else ""
                raise InvalidInput(
                    what=ctx.t("恢复", "restore"),
                    detail=ctx.t(
                        f"{plan.target} 已存在；{lost}确认替换请加 --yes（备份含任务 {plan.info.tasks} 项）",
                        f"{plan.target} exists; {lost}add --yes to replace it with the backup ({plan.info.tasks} tasks)",
                    ),
                )
            if warning:
                click.echo(ctx.t("duban：警告：", "duban: warning: ") + ctx.pick(warning), err=True)
            if not click.confirm(
                ctx.t(f"用备份替换 {plan.target}？", f"Replace {plan.target} with the backup?"), default=False, err=True
            ):
                raise click.Abort()
        elif warning:
            click.echo(ctx.t("duban：警告：", "duban: warning: ") + ctx.pick(warning), err=True)
        kept = backup_service.apply_restore(app, plan)
    finally:
        plan.discard()
    info = plan.info
    if ctx.json:
        emit_json(
            {
                "restored": str(source),
                "tasks": info.tasks,
                "events": info.events,
                "replaced_kept_at": str(kept) if kept else None,
                "dropped_events": plan.dropped,
            }
        )
        return
    say(
        ctx.t(
            f"已从 {source} 恢复（任务 {info.tasks} 项，事件 {info.events} 条，历史记录校验通过）",
            f"restored from {source} ({info.tasks} tasks, {info.events} events; its history verifies)",
        )
    )
    if kept:
        say(ctx.t(f"被替换的数据库保存在 {kept}", f"the replaced database is kept at {kept}"))
