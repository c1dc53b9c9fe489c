"""`duban audit verify|anchor|log`: prove the history has not been changed, and read who did what."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from duban.engine.domain.errors import BadFile
from duban.engine.domain.text import Bilingual
from duban.engine.services import audit as audit_service

from .context import Ctx, json_option, pass_ctx
from .params import DATE

if TYPE_CHECKING:
    from duban.engine.app import App
from .render import emit_json, say, table, when


def register(cli: click.Group) -> None:
    cli.add_command(audit)


@click.group()
def audit() -> None:
    """Tamper-evident history: verify the hash chains, anchor the chain, read the log (refusals included)."""


@audit.command("verify")
@click.option("--campaign", help="Only the tasks of this campaign (the chain is always checked whole).")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An anchor from 'duban audit anchor': also catches a history cut short or rewritten whole.",
)
@click.option(
    "--since-anchor",
    is_flag=True,
    help="Check against the latest anchor the workspace keeps (the beat takes one every DUBAN_ANCHOR_SECONDS).",
)
@json_option
@pass_ctx
def verify(ctx: Ctx, campaign: str | None, anchor_file: Path | None, since_anchor: bool) -> None:
    """Check every chain and the rows, reports, people and settings bound to it; exit 8 if anything is broken."""
    app = ctx.app()
    if anchor_file and since_anchor:
        raise click.UsageError(
            ctx.t("--anchor 与 --since-anchor 只能选一个", "give --anchor or --since-anchor, not both")
        )
    anchor = audit_service.read_anchor(app, anchor_file) if anchor_file else None
    if since_anchor:
        anchor = audit_service.latest_anchor(app)
    verdict = audit_service.verify(app, campaign, anchor)
    if ctx.json:
        emit_json(
            {
                "ok": verdict.ok,
                "tasks": verdict.tasks,
                "events": verdict.events,
                "anchor_checked": verdict.anchor_checked,
                "breaks": [
                    {"task": b.code, "seq": b.seq, "ledger_seq": b.chain_seq, "what": b.what} for b in verdict.breaks
                ],
            }
        )
    elif verdict.ok:
        say(
            ctx.t(
                f"历史记录完整：任务 {verdict.tasks} 项，事件 {verdict.events} 条" + ("，与锚点一致" if anchor else ""),
                f"history intact: {verdict.tasks} tasks, {verdict.events} events"
                + (", matching the anchor" if anchor else ""),
            )
        )
    else:
        for b in verdict.breaks:
            if ctx.lang == "zh":
                where = (f"{b.code} #{b.seq}" if b.code else "") + (
                    f"（哈希链第 {b.chain_seq} 条）" if b.chain_seq else ""
                )
                click.echo(f"duban：审计：{where.strip() + '：' if where else ''}{b.said('zh')}", err=True)
                continue
            where = (f"{b.code} #{b.seq}" if b.code else "") + (f" (chain #{b.chain_seq})" if b.chain_seq else "")
            click.echo(f"duban: audit: {where.strip()}: {b.what}", err=True)
    if not verdict.ok:
        sys.exit(8)


@audit.command("anchor")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the anchor here.")
@click.option("--store", is_flag=True, help="Also keep it in the workspace, for 'audit verify --since-anchor'.")
@pass_ctx
def anchor(ctx: Ctx, output: Path | None, store: bool) -> None:
    """The chain's head, signed with DUBAN_AUDIT_KEY: keep it (or print it in a circular) to verify against later."""
    app = ctx.app()
    text = json.dumps(audit_service.take_anchor(app, store=store).to_json(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    if output.exists():
        raise BadFile(
            output,
            Bilingual("文件已存在；锚点从不覆盖另一个锚点", "exists already; an anchor never overwrites another"),
        )
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise BadFile(output, Bilingual(f"无法写入（{reason}）", f"cannot write it ({reason})")) from None
    say(ctx.t(f"锚点已写入 {output}", f"anchor written to {output}"))


@audit.command("log")
@click.option("--actor", help="Only what this person did or tried.")
@click.option("--task", "code", help="Only this task.")
@click.option("--since", type=DATE, help="From this day on.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@json_option
@pass_ctx
def log(ctx: Ctx, actor: str | None, code: str | None, since: date | None, limit: int) -> None:
    """Who did what, latest first, with the refused attempts and why they were refused."""
    app = ctx.app()
    start = datetime.combine(since, time(0), app.tz) if since else None
    entries = audit_service.audit_log(app, actor, code, start, limit)
    if ctx.json:
        emit_json(
            [
                {
                    "at": e.at,
                    "actor": e.actor,
                    "operator": e.operator,
                    "action": e.action,
                    "task": e.task,
                    "outcome": e.outcome,
                    "detail": e.detail,
                }
                for e in entries
            ],
            app.tz,
        )
        return
    table(
        ctx,
        [("时间", "at"), ("人员", "actor"), ("操作人", "operator"), ("操作", "action"), ("任务", "task"),
         ("结果", "outcome"), ("说明", "detail")],
        [
            [
                when(e.at, app.tz),
                e.actor or "",
                e.operator or "",
                _action(ctx, app, e.action),
                e.task or "",
                ctx.t("已拒绝", "refused") if e.outcome == "refused" else ctx.t("已执行", "done"),
                (e.detail or "")[:120],
            ]
            for e in entries
        ],
    )  # fmt: skip


# Actions that are not steps of a workflow, by the names offices use.
OTHER_ACTIONS_ZH = {
    "accountability_open": "启动问责",
    "accountability_close": "结束问责",
    "notice_reply": "督办单反馈",
}


def _action(ctx: Ctx, app: App, action: str) -> str:
    """A step by its name in the workflows (报送进展, not progress) under zh; the key under en and in --json."""
    if ctx.lang != "zh":
        return action
    if action in OTHER_ACTIONS_ZH:
        return OTHER_ACTIONS_ZH[action]
    for spec in app.registry.specs:
        label = spec.trigger_label(action)
        if label.zh != action:
            return label.zh
    return action
