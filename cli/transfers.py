"""退办/转办 commands: return, reassign, insist, and transfer propose / consent / decline."""

from __future__ import annotations

import click

from duban.engine.services import transfers

from .context import Ctx, json_option, pass_ctx
from .tasks import _print_fired


def register(cli: click.Group) -> None:
    for command in (return_cmd, reassign_cmd, insist_cmd, transfer):
        cli.add_command(command)


@click.command(name="return")
@click.argument("code")
@click.option("--comment", "-m", help="Why it is not your unit's duty (required).")
@json_option
@pass_ctx
def return_cmd(ctx: Ctx, code: str, comment: str | None) -> None:
    """退办 — return an unsigned task to its lead leader as not your unit's duty (once)."""
    _print_fired(ctx, transfers.return_task(ctx.app(), ctx.actor, code, comment))


@click.command(name="reassign")
@click.argument("code")
@click.option("--unit", required=True, help="The unit it goes to.")
@click.option("--comment", "-m", help="A comment.")
@json_option
@pass_ctx
def reassign_cmd(ctx: Ctx, code: str, unit: str, comment: str | None) -> None:
    """改派 — the lead leader hands a returned task to another unit; its clock starts again."""
    _print_fired(ctx, transfers.reassign(ctx.app(), ctx.actor, code, unit, comment))


@click.command(name="insist")
@click.argument("code")
@click.option("--comment", "-m", help="Why the unit must do it (required).")
@json_option
@pass_ctx
def insist_cmd(ctx: Ctx, code: str, comment: str | None) -> None:
    """坚持交办 — the lead leader hands a returned task back to the same unit."""
    _print_fired(ctx, transfers.insist(ctx.app(), ctx.actor, code, comment))


@click.group(name="transfer")
def transfer() -> None:
    """转办 — move a task between units: a supervisor proposes, the lead leader consents or declines."""


@transfer.command(name="propose")
@click.argument("code")
@click.option("--unit", required=True, help="The unit it should go to.")
@click.option("--comment", "-m", help="Why (required).")
@json_option
@pass_ctx
def transfer_propose(ctx: Ctx, code: str, unit: str, comment: str | None) -> None:
    """A supervisor proposes a transfer to another unit; the lead leader is told."""
    _print_fired(ctx, transfers.propose_transfer(ctx.app(), ctx.actor, code, unit, comment))


@transfer.command(name="consent")
@click.argument("code")
@click.option("--comment", "-m", help="A comment.")
@json_option
@pass_ctx
def transfer_consent(ctx: Ctx, code: str, comment: str | None) -> None:
    """The lead leader consents: the task moves to the proposed unit, which signs for it afresh."""
    _print_fired(ctx, transfers.decide_transfer(ctx.app(), ctx.actor, code, True, comment))


@transfer.command(name="decline")
@click.argument("code")
@click.option("--comment", "-m", help="Why not (required).")
@json_option
@pass_ctx
def transfer_decline(ctx: Ctx, code: str, comment: str | None) -> None:
    """The lead leader declines the proposed transfer; the task stays."""
    _print_fired(ctx, transfers.decide_transfer(ctx.app(), ctx.actor, code, False, comment))
