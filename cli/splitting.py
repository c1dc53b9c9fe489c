"""分解/多级交办 commands: split a task into a sub-task for a lower unit, and close a sub-task out."""

from __future__ import annotations

import click

from duban.engine.services import splitting

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say
from .tasks import _print_fired


def register(cli: click.Group) -> None:
    for command in (split_cmd, close_out_cmd):
        cli.add_command(command)


@click.command(name="split")
@click.argument("code")
@click.option("--unit", required=True, help="The lower unit the sub-task goes to.")
@click.option("--title", help="The sub-task's title (default: the parent's).")
@click.option(
    "--deadline",
    help="Its deadline: a date or an expression such as 6月底前; no later than the parent's (default: the parent's).",
)
@click.option("--person", help="Responsible person (责任人) in the lower unit, by id or name.")
@click.option("--measure", "measures", multiple=True, help="A measure (整改措施); repeatable.")
@click.option("--comment", "-m", help="A comment, on the parent's record.")
@json_option
@pass_ctx
def split_cmd(
    ctx: Ctx,
    code: str,
    unit: str,
    title: str | None,
    deadline: str | None,
    person: str | None,
    measures: tuple[str, ...],
    comment: str | None,
) -> None:
    """分解交办 — split a task into a sub-task for a lower unit; prints the sub-task's code."""
    sub = splitting.split(
        ctx.app(),
        ctx.actor,
        splitting.NewSubTask(
            parent=code,
            unit=unit,
            title=title,
            deadline=deadline,
            person=person,
            measures=list(measures),
            comment=comment,
        ),
    )
    if ctx.json:
        emit_json({"code": sub, "parent": code})
    else:
        say(sub)


@click.command(name="close-out")
@click.argument("code")
@click.option("--comment", "-m", help="Why it is closed out without being done (required).")
@json_option
@pass_ctx
def close_out_cmd(ctx: Ctx, code: str, comment: str | None) -> None:
    """核销子任务 — a leader closes an open sub-task out, with a reason, so its parent may be submitted."""
    _print_fired(ctx, splitting.close_out(ctx.app(), ctx.actor, code, comment))
