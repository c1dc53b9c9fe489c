"""duban substitute request / approve / deny / cancel / list: substitutes (代理) for people away.

The substitute then acts for the absent person with the global ``--for PERSON``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from duban.engine.domain.substitution import Substitution
from duban.engine.services import substitutes
from duban.engine.services.substitutes import STATUS_LABEL, SubstitutionView

from .context import Ctx, json_option, pass_ctx
from .params import DATE
from .render import emit_json, say, table, when


def register(cli: click.Group) -> None:
    cli.add_command(substitute)


@click.group(name="substitute")
def substitute() -> None:
    """代理 — substitutes: a person away names someone to stand in for a range of dates; their head approves."""


@substitute.command(name="request")
@click.option("--substitute", "substitute_ref", required=True, help="Who stands in, by id or name.")
@click.option("--from", "starts_on", type=DATE, required=True, help="The first day away (YYYY-MM-DD).")
@click.option("--to", "ends_on", type=DATE, required=True, help="The last day away (YYYY-MM-DD); it ends by itself.")
@click.option("--reason", required=True, help="Why: 休假, 外出培训 …")
@click.option("--person", help="Who is away, when asking for them (default: yourself).")
@json_option
@pass_ctx
def substitute_request(
    ctx: Ctx, substitute_ref: str, starts_on: date, ends_on: date, reason: str, person: str | None
) -> None:
    """Ask for a substitute over a range of dates; prints its code; the approvers are notified."""
    code = substitutes.request_substitution(
        ctx.app(),
        ctx.actor,
        substitute=substitute_ref,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        person=person,
    )
    if ctx.json:
        emit_json({"code": code, "status": "requested"})
    else:
        say(code)


@substitute.command(name="approve")
@click.argument("code")
@json_option
@pass_ctx
def substitute_approve(ctx: Ctx, code: str) -> None:
    """Approve a request (the head of the absent person's unit, or an admin, as the policy says)."""
    _decided(ctx, substitutes.decide_substitution(ctx.app(), ctx.actor, code, approve=True))


@substitute.command(name="deny")
@click.argument("code")
@json_option
@pass_ctx
def substitute_deny(ctx: Ctx, code: str) -> None:
    """Deny a request."""
    _decided(ctx, substitutes.decide_substitution(ctx.app(), ctx.actor, code, approve=False))


@substitute.command(name="cancel")
@click.argument("code")
@json_option
@pass_ctx
def substitute_cancel(ctx: Ctx, code: str) -> None:
    """End a substitution early, or withdraw a request; it stops at once."""
    _decided(ctx, substitutes.cancel_substitution(ctx.app(), ctx.actor, code))


def _decided(ctx: Ctx, s: Substitution) -> None:
    if ctx.json:
        emit_json(_json_of(s), ctx.app().tz)
    else:
        say(f"{s.code}  {ctx.pick(STATUS_LABEL[s.status])}")


@substitute.command(name="list")
@click.option("--person", help="Only this person's substitutions (away or standing in).")
@click.option("--on", "on", type=DATE, help="Which were in force at the end of this day (YYYY-MM-DD).")
@json_option
@pass_ctx
def substitute_list(ctx: Ctx, person: str | None, on: date | None) -> None:
    """Substitutions by first day, and whether each is in force now (or on --on)."""
    app = ctx.app()
    rows = substitutes.list_substitutions(app, person=person, on=on)
    if ctx.json:
        emit_json([_json(v) for v in rows], app.tz)
        return
    table(
        ctx,
        [
            ("编号", "Code"),
            ("不在岗", "Away"),
            ("代理人", "Substitute"),
            ("起止", "Dates"),
            ("事由", "Reason"),
            ("状态", "Status"),
            ("生效", "In force"),
            ("审批", "Decided by"),
        ],
        [
            [
                v.s.code,
                f"{v.absent_name}({v.s.absent_id})",
                f"{v.substitute_name}({v.s.substitute_id})",
                f"{v.s.starts_on} – {v.s.ends_on}",
                v.s.reason,
                ctx.pick(STATUS_LABEL[v.s.status]) + (f" {when(v.s.cancelled_at, app.tz)}" if v.s.cancelled_at else ""),
                ctx.t("是", "yes") if v.in_force else "",
                v.s.decided_by or "",
            ]
            for v in rows
        ],
    )


def _json_of(s: Substitution) -> dict[str, Any]:
    return {
        "code": s.code,
        "absent": s.absent_id,
        "substitute": s.substitute_id,
        "from": s.starts_on.isoformat(),
        "to": s.ends_on.isoformat(),
        "reason": s.reason,
        "status": s.status,
        "requested_by": s.requested_by,
        "requested_at": s.requested_at,
        "decided_by": s.decided_by,
        "decided_at": s.decided_at,
        "cancelled_by": s.cancelled_by,
        "cancelled_at": s.cancelled_at,
    }


def _json(v: SubstitutionView) -> dict[str, Any]:
    return {**_json_of(v.s), "absent_name": v.absent_name, "substitute_name": v.substitute_name, "in_force": v.in_force}
