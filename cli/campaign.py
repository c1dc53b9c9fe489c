"""duban campaign add / list: the campaigns (整改专项) and the dates imports count from."""

from __future__ import annotations

from datetime import date

import click

from duban.engine.services import campaigns

from .context import Ctx, json_option, pass_ctx
from .params import DATE
from .render import emit_json, say, table


@click.group(name="campaign")
def campaign() -> None:
    """整改专项 — campaigns: when the feedback came, from whom."""


@campaign.command(name="add")
@click.argument("name")
@click.option("--feedback-date", "feedback_on", type=DATE, help="反馈日期: when the feedback was given (YYYY-MM-DD).")
@click.option("--source", help="Who gave the feedback, e.g. 县委第二巡察组.")
@click.option("--start", "started_on", type=DATE, help="When rectification started (default: the feedback date).")
@json_option
@pass_ctx
def campaign_add(ctx: Ctx, name: str, feedback_on: date | None, source: str | None, started_on: date | None) -> None:
    """Add a campaign (leader or admin); recorded on the audit chain."""
    view = campaigns.add_campaign(
        ctx.app(), ctx.actor, name, feedback_on=feedback_on, source=source, started_on=started_on
    )
    if ctx.json:
        emit_json(_json(view))
        return
    say(ctx.t(f"已登记整改专项：{view.name}", f"campaign added: {view.name}"))


@campaign.command(name="list")
@json_option
@pass_ctx
def campaign_list(ctx: Ctx) -> None:
    """The campaigns, by feedback date."""
    views = campaigns.list_campaigns(ctx.app())
    if ctx.json:
        emit_json([_json(v) for v in views])
        return
    table(
        ctx,
        [("专项", "Campaign"), ("反馈日期", "Feedback"), ("开始日期", "Started"), ("来源", "Source")],
        [[v.name, str(v.feedback_on or ""), str(v.started_on or ""), v.source or ""] for v in views],
    )


def _json(v: campaigns.CampaignView) -> dict[str, object]:
    def day(d: date | None) -> str | None:
        return d.isoformat() if d else None

    return {"name": v.name, "feedback_on": day(v.feedback_on), "source": v.source, "started_on": day(v.started_on)}
