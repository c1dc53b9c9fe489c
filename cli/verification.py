"""duban verify: 复核 before closing, by someone outside the unit, with evidence."""

from __future__ import annotations

from pathlib import Path

import click

from duban.engine.services import verification

from .context import Ctx, json_option, pass_ctx
from .tasks import _print_fired


def register(cli: click.Group) -> None:
    cli.add_command(verify)


@click.command(name="verify")
@click.argument("code")
@click.option("--confirm", "outcome", flag_value="confirm", help="Verified: the task may be closed.")
@click.option("--send-back", "outcome", flag_value="send_back", help="Not as reported: back to the unit.")
@click.option("--comment", "-m", help="What was checked and what was found (required).")
@click.option("--on-site", is_flag=True, help="Checked on site (default: on paper).")
@click.option(
    "--attach",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An evidence file; repeatable.",
)
@json_option
@pass_ctx
def verify(
    ctx: Ctx, code: str, outcome: str | None, comment: str | None, on_site: bool, files: tuple[Path, ...]
) -> None:
    """复核 — a supervisor outside the unit verifies a reviewed task and confirms it or sends it back."""
    if outcome is None:
        raise click.UsageError(ctx.t("请选择 --confirm 或 --send-back", "choose --confirm or --send-back"))
    _print_fired(
        ctx,
        verification.verify_task(
            ctx.app(), ctx.actor, code, outcome == "confirm", comment, on_site=on_site, files=tuple(files)
        ),
    )
