"""`duban config show`: the settings in force and where each came from, secrets masked."""

from __future__ import annotations

import click

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, table


def register(cli: click.Group) -> None:
    cli.add_command(config)


@click.group()
def config() -> None:
    """The configuration (environment and DUBAN_CONFIG file)."""


@config.command("show")
@json_option
@pass_ctx
def show(ctx: Ctx) -> None:
    """Every DUBAN_* setting in force; passwords, tokens and keys are shown as ****."""
    rows = ctx.settings.shown()
    if ctx.json:
        emit_json([{"name": n, "value": v, "source": s} for n, v, s in rows])
        return
    table(
        ctx, [("设置", "setting"), ("值", "value"), ("来源", "source")], [[n, v, _source(ctx, s)] for n, v, s in rows]
    )


def _source(ctx: Ctx, source: str) -> str:
    """default, environment, or the config file's path: in the chosen language (the --json key stays)."""
    if source == "default":
        return ctx.t("默认", "default")
    if source == "environment":
        return ctx.t("环境变量", "environment")
    return ctx.t(f"配置文件 {source}", source)
