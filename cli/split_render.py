"""分解: how ``show`` prints a parent's roll-up and a task's place in the levels (text and --json)."""

from __future__ import annotations

from duban.engine.services.queries import TaskDetail

from .context import Ctx
from .render import say, table, when


def split_json(d: TaskDetail) -> dict[str, object]:
    """``sub_tasks`` (in the order split) and ``roll_up`` (null without sub-tasks): stable keys."""
    r = d.roll_up
    return {
        "sub_tasks": [
            {
                "code": v.code,
                "title": v.title,
                "unit": v.unit,
                "state": v.state,
                "state_label": v.state_label,
                "deadline": v.deadline,
                "closed": v.closed,
                "open": v.open,
                "percent": v.percent,
                "latest_note": v.note,
                "noted_at": v.noted_at,
            }
            for v in d.sub_tasks
        ],
        "roll_up": None
        if r is None
        else {
            "total": r.total,
            "closed": r.closed,
            "open": r.open,
            "latest_notes": [
                {"code": v.code, "unit": v.unit, "note": v.note, "at": v.noted_at} for v in r.latest_notes
            ],
        },
    }


def show_sub_tasks(ctx: Ctx, d: TaskDetail) -> None:
    r = d.roll_up
    if r is None:
        return
    tz = ctx.app().tz
    table(
        ctx,
        [("编号", "Code"), ("责任单位", "Unit"), ("状态", "State"), ("时限", "Deadline"), ("最新进展", "Latest note")],
        [
            [
                v.code,
                v.unit,
                ctx.pick(v.state_label),
                v.deadline.isoformat() if v.deadline else "",
                (f"{v.percent}% " if v.percent is not None else "") + (v.note or ""),
            ]
            for v in d.sub_tasks
        ],
        title=ctx.t(
            f"子任务：已办结 {r.closed}/{r.total}，未办结 {r.open}",
            f"Sub-tasks: {r.closed} of {r.total} closed, {r.open} open",
        ),
    )
    for v in r.latest_notes:
        say(f"{ctx.t('最新进展', 'Latest')} {v.code}（{v.unit}，{when(v.noted_at, tz)}）：{v.note}")
