"""duban instruction add / list / show: leaders' instructions (领导批示), turned into tasks that point back."""

from __future__ import annotations

from datetime import date

import click

from duban.engine.persistence.instructions import InstructionRow
from duban.engine.services import instructions

from .context import Ctx, json_option, pass_ctx
from .params import DATE
from .render import emit_json, say, table


def register(cli: click.Group) -> None:
    cli.add_command(instruction)


@click.group(name="instruction")
def instruction() -> None:
    """领导批示 — leaders' instructions: registered first, then turned into tasks (assign --instruction)."""


@instruction.command(name="add")
@click.option("--leader", required=True, help="The leader who gave it, by id or name.")
@click.option("--text", "words", required=True, help="The instruction's words.")
@click.option("--ref", help="Its document number or where it was written, e.g. 县委办批件〔2026〕12号.")
@click.option("--date", "issued_on", type=DATE, required=True, help="The day it was given (YYYY-MM-DD).")
@json_option
@pass_ctx
def instruction_add(ctx: Ctx, leader: str, words: str, ref: str | None, issued_on: date) -> None:
    """Register a leader's instruction (leader, supervisor or admin); prints its code; on the audit chain."""
    code = instructions.register_instruction(
        ctx.app(), ctx.actor, leader=leader, text=words, ref=ref, issued_on=issued_on
    )
    if ctx.json:
        emit_json({"code": code})
    else:
        say(code)


@instruction.command(name="list")
@json_option
@pass_ctx
def instruction_list(ctx: Ctx) -> None:
    """The instructions, by date, with how many tasks each was turned into and how many are closed."""
    rows = instructions.list_instructions(ctx.app())
    if ctx.json:
        emit_json([_json(r) for r in rows])
        return
    table(
        ctx,
        [("编号", "Code"), ("日期", "Date"), ("领导", "Leader"), ("文号", "Ref"), ("批示", "Text"), ("任务", "Tasks")],
        [
            [
                r.code,
                r.issued_on.isoformat(),
                r.leader_name or r.leader_id,
                r.ref or "",
                r.text,
                f"{r.closed}/{r.tasks}",
            ]
            for r in rows
        ],
    )


@instruction.command(name="show")
@click.argument("code")
@json_option
@pass_ctx
def instruction_show(ctx: Ctx, code: str) -> None:
    """An instruction and the tasks turned from it."""
    app = ctx.app()
    view = instructions.show_instruction(app, code)
    r = view.row
    if ctx.json:
        emit_json(
            {
                **_json(r),
                "tasks": [
                    {"code": t.code, "title": t.title, "unit": t.unit, "state": t.state, "workflow": t.workflow}
                    for t in view.tasks
                ],
            }
        )
        return
    say(f"{r.code}  {r.issued_on.isoformat()}  {r.leader_name or r.leader_id}  {r.ref or ''}".rstrip())
    say(r.text)
    table(
        ctx,
        [("编号", "Code"), ("任务", "Title"), ("责任单位", "Unit"), ("状态", "State")],
        [[t.code, t.title, t.unit, ctx.pick(app.registry.spec(t.workflow).state_label(t.state))] for t in view.tasks],
        title=ctx.t(
            f"由此立项的任务（{r.closed}/{r.tasks} 已销号）", f"Tasks turned from it ({r.closed}/{r.tasks} closed)"
        ),
    )


def _json(r: InstructionRow) -> dict[str, object]:
    return {
        "code": r.code,
        "leader": r.leader_id,
        "leader_name": r.leader_name,
        "text": r.text,
        "ref": r.ref,
        "issued_on": r.issued_on.isoformat(),
        "tasks": r.tasks,
        "closed": r.closed,
    }
