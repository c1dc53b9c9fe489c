"""Daily digests: what a person's morning digest says (the beat and `duban sweep` write them)."""

from __future__ import annotations

import re

import click

from duban.engine.domain.clock import parse_date, parse_instant
from duban.engine.services import digest as digests

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say, when


def register(cli: click.Group) -> None:
    cli.add_command(digest)


@click.group()
def digest() -> None:
    """Daily digests (one message per working morning instead of one per task)."""


@digest.command()
@click.argument("person")
@click.option(
    "--as-of",
    "as_of",
    metavar="ISO",
    help="A day (that day's digest, at DUBAN_DIGEST_AT) or an instant, e.g. 2026-09-08 or 2026-09-08T08:00.",
)
@json_option
@pass_ctx
def preview(ctx: Ctx, person: str, as_of: str | None) -> None:
    """Show the digest PERSON (id or name) receives, per channel; writes and sends nothing."""
    app = ctx.app()
    at = None
    if as_of:
        if re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", as_of):
            at = digests.digest_instant(app, parse_date(as_of))
        else:
            at = parse_instant(as_of, app.tz)
    p = digests.preview(app, person, at)
    if ctx.json:
        emit_json(
            {
                "person": p.person_id,
                "name": p.name,
                "day": p.day,
                "subscribed": p.subscribed,
                "folded": p.folded,
                "working_day": p.working_day,
                "send_at": p.send_at,
                "messages": [m.__dict__ for m in p.messages],
            },
            app.tz,
        )
        return
    if not p.subscribed:
        say(
            ctx.t(
                f"注意：{p.name}（{p.person_id}）未订阅每日摘要（组织文件 digest: daily）；以下仅为预览",
                f"note: {p.name} ({p.person_id}) has no daily digest (digest: daily in the organisation file); "
                "this is a preview only",
            )
        )
    elif not p.working_day:
        say(ctx.t(f"注意：{p.day} 不是工作日，当天不发摘要", f"note: {p.day} is not a working day; no digest is sent"))
    else:
        say(ctx.t(f"发送时间：{when(p.send_at, app.tz)}", f"sent at {when(p.send_at, app.tz)}"))
    for m in p.messages:
        say(f"--- {m.channel}" + (f" → {m.address}" if m.address else ""))
        say(m.subject)
        say("")
        say(m.body)
