"""`duban backup FILE` and `duban restore FILE`: a consistent copy of a SQLite workspace, and back."""

from __future__ import annotations

from pathlib import Path

import click

from engine.services import backup as backup_service

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
@click.option("--yes", is_flag=True, help="Replace the existing database with the backup.")
@json_option
@pass_ctx
def restore(ctx: Ctx, source: Path, yes: bool) -> None:
    """Put a backup in place of the database, after checking it is an intact duban database."""
    info = backup_service.restore(ctx.app(check=False), source, replace=yes)
    if ctx.json:
        emit_json({"restored": str(source), "tasks": info.tasks, "events": info.events})
        return
    say(
        ctx.t(
            f"已从 {source} 恢复（任务 {info.tasks} 项，事件 {info.events} 条）",
            f"restored from {source} ({info.tasks} tasks, {info.events} events)",
        )
    )
