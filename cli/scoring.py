"""duban score (考核评分) and duban accountability open/close/list (问责)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from duban.engine.domain.accountability import AccountabilityRecord
from duban.engine.domain.errors import InvalidInput
from duban.engine.domain.scoring import RULE_LABELS, number, policy_dict, scores_dict
from duban.engine.domain.supervision_notices import NoticeReply, SupervisionNotice
from duban.engine.services import accountability as records
from duban.engine.services import supervision_notices
from duban.engine.services.scoring import ScoreRequest, compute_scores

from .context import Ctx, json_option, pass_ctx
from .params import DATE
from .render import emit_json, say, table
from .report import _check_target, _write


def register(cli: click.Group) -> None:
    cli.add_command(score)
    cli.add_command(accountability)
    cli.add_command(notices)


@click.command()
@click.option(
    "--as-of", "as_of", type=DATE, help="Score the ledger as it stood at the end of this day (default: today)."
)
@click.option(
    "--period",
    type=click.Choice(["week", "month", "quarter", "year"]),
    default="month",
    show_default=True,
    help="The change is shown against the end of the period before.",
)
@click.option("--campaign", help="Only this campaign; its own policy if it has one.")
@click.option("--unit", help="Only this unit, with every point of its breakdown.")
@json_option
@pass_ctx
def score(ctx: Ctx, as_of: date | None, period: str, campaign: str | None, unit: str | None) -> None:
    """考核评分 — each unit's score, band and rank, by the scoring policy (DUBAN_SCORING)."""
    result = compute_scores(ctx.app(), ScoreRequest(as_of=as_of, period=period, campaign=campaign, unit=unit))
    if ctx.json:
        d = scores_dict(result.policy, result.scores)
        for line, s in zip(d["units"], result.scores, strict=True):
            before = result.previous.get(s.unit)
            line["previous_score"] = number(before) if before is not None else None
            line["change"] = number(s.score - before) if before is not None else None
        emit_json(
            {
                "as_of": result.as_of.isoformat(),
                "period": {"kind": result.period.kind, "from": result.period.start, "to": result.period.end},
                "scope": {"campaign": campaign, "unit": unit},
                **d,
            }
        )
        return
    p = policy_dict(result.policy)
    say(
        ctx.t(
            f"考核评分（截至{result.as_of}，{p['name']} 第{p['version']}版，{p['hash'][:12]}）",
            f"Scores as of {result.as_of} ({p['name']} version {p['version']}, {p['hash'][:12]})",
        )
    )
    rows = []
    for s in result.scores:
        before = result.previous.get(s.unit)
        change = "" if before is None else f"{number(s.score - before):+g}"
        rows.append([str(s.rank), s.unit, f"{number(s.score):g}", s.band or "", change, str(s.tasks)])
    table(
        ctx,
        [
            ("名次", "rank"),
            ("单位", "unit"),
            ("得分", "score"),
            ("等次", "band"),
            ("较上期", "change"),
            ("任务", "tasks"),
        ],
        rows,
    )
    if unit or len(result.scores) == 1:
        for s in result.scores:
            table(
                ctx,
                [("任务", "task"), ("规则", "rule"), ("分值", "points"), ("说明", "detail")],
                [
                    [
                        i.task or "",
                        ctx.t(*RULE_LABELS.get(i.rule, (i.rule, i.rule))),
                        f"{number(i.points):+g}",
                        i.detail,
                    ]
                    for i in s.items
                ],
                title=ctx.t(
                    f"{s.unit} 得分明细（基础分 {number(result.policy.base):g}）",
                    f"{s.unit}: every point (base {number(result.policy.base):g})",
                ),
            )
    else:
        say(ctx.t("加 --unit 单位 查看每一分的来历", "add --unit NAME to see where every point came from"))


@click.group()
def accountability() -> None:
    """问责 — accountability records for tasks at the red level."""


@accountability.command("open")
@click.argument("code")
@click.option("--kind", required=True, help="约谈, 通报批评, 责令检查 or 移交纪检 (the policy's kinds).")
@click.option("--person", "persons", multiple=True, required=True, help="A person concerned; repeat for more.")
@click.option("--decision", required=True, help="What was decided.")
@click.option("--on", "decided_on", type=DATE, help="The day it was decided (default: today).")
@json_option
@pass_ctx
def open_command(
    ctx: Ctx, code: str, kind: str, persons: tuple[str, ...], decision: str, decided_on: date | None
) -> None:
    """Open an accountability record on a task at the red level (the highest escalation)."""
    record = records.open_record(
        ctx.app(), ctx.actor, code, kind=kind, persons=list(persons), decision=decision, decided_on=decided_on
    )
    if ctx.json:
        emit_json(_json(record))
        return
    say(
        ctx.t(
            f"已启动问责 {record.number}：{record.task} {record.kind}",
            f"accountability record {record.number} opened: {record.task} {record.kind}",
        )
    )


@accountability.command("close")
@click.argument("number")
@click.option("-m", "--note", help="How it was settled.")
@json_option
@pass_ctx
def close_command(ctx: Ctx, number: str, note: str | None) -> None:
    """Close (办结) an accountability record."""
    record = records.close_record(ctx.app(), ctx.actor, number, note)
    if ctx.json:
        emit_json(_json(record))
        return
    say(ctx.t(f"问责 {record.number} 已办结", f"accountability record {record.number} closed"))


@accountability.command("list")
@click.option("--unit", help="Only this unit's records.")
@click.option("--person", help="Only records naming this person.")
@click.option("--task", help="Only this task's records.")
@click.option("--status", type=click.Choice(["open", "closed"]), help="Only open or closed records.")
@json_option
@pass_ctx
def list_command(ctx: Ctx, unit: str | None, person: str | None, task: str | None, status: str | None) -> None:
    """Accountability records, by date of decision."""
    found = records.list_records(ctx.app(), unit=unit, person=person, task=task, status=status)
    if ctx.json:
        emit_json([_json(r) for r in found])
        return
    if not found:
        say(ctx.t("没有问责记录", "no accountability records"))
        return
    table(
        ctx,
        [
            ("编号", "number"),
            ("任务", "task"),
            ("单位", "unit"),
            ("方式", "kind"),
            ("相关人员", "persons"),
            ("决定", "decision"),
            ("日期", "decided"),
            ("状态", "status"),
        ],
        [
            [
                r.number,
                r.task,
                r.unit,
                r.kind,
                "、".join(r.persons),
                r.decision,
                str(r.decided_on),
                ctx.t("已办结" if r.status == "closed" else "办理中", r.status),
            ]
            for r in found
        ],
    )


def _json(r: AccountabilityRecord) -> dict[str, Any]:
    return {"number": r.number, **r.body()}


@click.group()
def notices() -> None:
    """督办单 — numbered supervision notices the escalation levels issued, and the units' replies."""


@notices.command("list")
@click.option("--task", help="Only this task's notices.")
@click.option("--unit", help="Only this unit's notices.")
@click.option("--year", type=click.IntRange(2000, 2100), help="Only this year's.")
@json_option
@pass_ctx
def notices_list(ctx: Ctx, task: str | None, unit: str | None, year: int | None) -> None:
    """Supervision notices, by number."""
    views = supervision_notices.list_notices(ctx.app(), task=task, unit=unit, year=year)
    if ctx.json:
        emit_json([_notice_json(v) for v in views])
        return
    if not views:
        say(ctx.t("没有督办单", "no supervision notices"))
        return
    table(
        ctx,
        [
            ("编号", "number"),
            ("类别", "colour"),
            ("任务", "task"),
            ("单位", "unit"),
            ("级别", "level"),
            ("下发日期", "issued"),
            ("反馈期限", "reply by"),
            ("反馈", "reply"),
        ],
        [
            [
                v.notice.number,
                supervision_notices.color_label(v.notice.color, ctx.lang),
                v.notice.task,
                v.notice.unit,
                str(v.notice.level),
                str(v.notice.issued_on),
                str(v.notice.reply_by),
                _reply_text(ctx, v),
            ]
            for v in views
        ],
    )


def _reply_text(ctx: Ctx, v: supervision_notices.NoticeView) -> str:
    if v.reply is None:
        return ctx.t("未反馈", "none")
    return f"{v.reply.on}" + (ctx.t("（逾期）", " (late)") if v.reply.late else "")


@notices.command("show")
@click.argument("number")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it as a Word (.docx) or PDF (.pdf) file.",
)
@json_option
@pass_ctx
def notices_show(ctx: Ctx, number: str, output: Path | None) -> None:
    """One notice (督办〔2026〕第12号, or 2026-12): its text, or the document with -o FILE.docx or -o FILE.pdf."""
    render = _notice_renderer(output.suffix.lower()) if output is not None else None
    if output is not None and render is None:
        raise InvalidInput(
            what="-o",
            detail=ctx.t(
                f"'{output.name}' 不是 .docx 或 .pdf 文件；督办单可存为 .docx 文档或 .pdf 文件，请以其一结尾命名",
                f"'{output.name}' is not a .docx or .pdf file; a notice is written as a Word or PDF document",
            ),
        )
    view = supervision_notices.get_notice(ctx.app(), number)
    if output is not None and render is not None:
        _check_target(output, "notice")
        _write(output, render(view.notice, view.reply))
        click.echo(ctx.t("已写入：", "written: ") + str(output), err=True)
        return
    if ctx.json:
        emit_json(_notice_json(view))
        return
    n = view.notice
    say(f"{n.issuer}  {supervision_notices.color_label(n.color, 'zh')}  {n.number}")
    say(
        f"{n.unit}：{n.title}（{n.task}），{ctx.t('整改时限', 'deadline')} {n.deadline or '—'}，"
        f"{ctx.t('逾期', 'overdue')} {n.days_overdue} {ctx.t('个工作日', 'working days')}，{ctx.t('第', 'level ')}{n.level}{ctx.t('级督办', '')}"
    )
    say(n.demand)
    say(
        ctx.t(f"反馈期限：{n.reply_by}；反馈：", f"reply by {n.reply_by}; reply: ")
        + _reply_text(ctx, view)
        + (f" — {view.reply.note}" if view.reply else "")
    )


@notices.command("reply")
@click.argument("number")
@click.option("-m", "--note", required=True, help="The reply (反馈): what was done, what comes next.")
@json_option
@pass_ctx
def notices_reply(ctx: Ctx, number: str, note: str) -> None:
    """Record the unit's reply (反馈) to a notice; late when after its reply-by day."""
    reply = supervision_notices.reply_to_notice(ctx.app(), ctx.actor, number, note)
    if ctx.json:
        emit_json(reply.body() | {"number": reply.number})
        return
    late = ctx.t("（逾期反馈）", " (late)") if reply.late else ""
    say(ctx.t(f"已记录对 {reply.number} 的反馈{late}", f"reply to {reply.number} recorded{late}"))


def _notice_renderer(suffix: str) -> Callable[[SupervisionNotice, NoticeReply | None], bytes] | None:
    """The document a suffix asks for, as ``duban report -o`` reads it; imported here, so other commands skip them."""
    if suffix == ".docx":
        from duban.engine.reporting.notice_docx import notice_docx

        return notice_docx
    if suffix == ".pdf":
        from duban.engine.reporting.notice_pdf import notice_pdf  # reportlab: some 200 ms to import

        return notice_pdf
    return None


def _notice_json(v: supervision_notices.NoticeView) -> dict[str, Any]:
    return {**v.notice.body(), "key": v.notice.key, "reply": v.reply.body() if v.reply else None}
