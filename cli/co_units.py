"""duban co-unit: 牵头/配合 — a co-unit signs for its part and reports on it; the lead leader may waive a part."""

from __future__ import annotations

import click

from duban.engine.services import co_units

from .context import Ctx, json_option, pass_ctx
from .tasks import _print_fired


def register(cli: click.Group) -> None:
    cli.add_command(co_unit)


@click.group(name="co-unit")
def co_unit() -> None:
    """配合单位 — a co-unit's part of a task: sign for it, report on it, or (the lead leader) waive it."""


@co_unit.command(name="sign")
@click.argument("code")
@click.option("--unit", help="The co-unit, by name (default: your own unit).")
@click.option("--comment", "-m", help="A note.")
@json_option
@pass_ctx
def sign(ctx: Ctx, code: str, unit: str | None, comment: str | None) -> None:
    """配合单位签收 — your unit signs for its part of a task it helps with."""
    _print_fired(ctx, co_units.co_unit_step(ctx.app(), ctx.actor, code, "sign", unit, comment))


@co_unit.command(name="report")
@click.argument("code")
@click.option("--unit", help="The co-unit, by name (default: your own unit).")
@click.option("--comment", "-m", help="What your unit did for its part (required).")
@json_option
@pass_ctx
def report(ctx: Ctx, code: str, unit: str | None, comment: str | None) -> None:
    """报送配合情况 — your unit reports its part done to the lead unit."""
    _print_fired(ctx, co_units.co_unit_step(ctx.app(), ctx.actor, code, "report", unit, comment))


@co_unit.command(name="waive")
@click.argument("code")
@click.option("--unit", help="The co-unit whose part is waived, by name (required).")
@click.option("--comment", "-m", help="Why the part is not needed (required).")
@json_option
@pass_ctx
def waive(ctx: Ctx, code: str, unit: str | None, comment: str | None) -> None:
    """免于配合 — the lead leader waives a co-unit's part, with a reason, so the lead unit may submit."""
    _print_fired(ctx, co_units.co_unit_step(ctx.app(), ctx.actor, code, "waive", unit, comment))
