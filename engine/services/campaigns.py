"""Campaigns (整改专项): when the feedback came and from whom, so imports can date what a ledger leaves out.

A campaign row is kept on the record chain (kind "campaign"), like the organisation: ``audit verify``
notices a campaign added or changed behind the engine's back. Leaders and admins add them.
"""

from __future__ import annotations

from datetime import date

from ..app import App
from ..domain.errors import InvalidInput, NotPermitted, UnknownPerson
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..persistence.campaigns import CampaignView
from .chain import record_changes
from .identity import acting

__all__ = ["CampaignView", "add_campaign", "list_campaigns"]

MAY_ADD = ("leader", "admin")


def add_campaign(
    app: App,
    actor_id: str | None,
    name: str,
    *,
    feedback_on: date | None,
    source: str | None,
    started_on: date | None = None,
) -> CampaignView:
    name = check_text(name, "campaign", max_len=200)
    if not name:
        raise InvalidInput(
            what=Bilingual("专项", "campaign"), detail=Bilingual("专项须有名称", "a campaign needs a name")
        )
    source = check_text(source, "source", max_len=500) or None if source else None
    if feedback_on is not None and started_on is not None and started_on < feedback_on:
        raise InvalidInput(
            what="--start",
            detail=Bilingual(
                f"{started_on} 早于反馈日期 {feedback_on}；整改从反馈日期当天或之后开始",
                f"{started_on} is before the feedback date {feedback_on}; rectification starts on or after it",
            ),
        )
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        actor = uow.tasks.actor(who.actor_id)
        if actor is None:
            raise UnknownPerson(person=who.actor_id, near="")
        if not any(r in actor.roles for r in MAY_ADD):
            raise NotPermitted(
                actor=f"{actor.name}({actor.id})",
                action=Bilingual("登记整改专项", "add a campaign"),
                code=Bilingual(name, name),
                rule=Bilingual("领导或管理员", "leader or admin"),
            )
        if uow.campaigns.exists(name):
            raise InvalidInput(
                what=Bilingual("整改专项", "campaign"),
                detail=Bilingual(
                    f"'{name}' 已登记过（用 'duban campaign list' 查看）",
                    f"'{name}' exists already ('duban campaign list' shows it)",
                ),
            )
        uow.campaigns.add(name=name, feedback_on=feedback_on, source=source, started_on=started_on, at=app.clock.now())
        record_changes(
            app, uow, "campaign", uow.records.campaign_bodies(), account=who.account, operator_id=who.operator_id
        )
        uow.commit()
    return CampaignView(name, feedback_on, source, started_on)


def list_campaigns(app: App) -> list[CampaignView]:
    with app.uow(write=False) as uow:
        return uow.campaigns.listing()
