"""Task commands: assign, the workflow verbs, progress, list, show."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from rich.cells import cell_len

from duban.engine.domain.co_units import PART_LABELS
from duban.engine.domain.errors import NoActor

from .context import Ctx, json_option, pass_ctx
from .params import DATE, KEY_VALUE
from .render import emit_json, emit_json_stream, say, table, when

if TYPE_CHECKING:  # each command imports the services it runs: `show` loads no firing path, `start` no queries
    from duban.engine.app import App
    from duban.engine.services import queries, report_duties, tasks
    from duban.engine.services.queries import ListedSummary, TaskDetail, TaskSummary

LIST_PAGE = 50  # as services.queries.LIST_PAGE (tests/integration/test_cli.py checks they agree)

VERBS = ("start", "submit", "approve", "reject", "close", "reopen", "cancel", "suspend", "resume")
VERB_HELP = {
    "start": "签收 — the unit starts work (assigned → in_progress).",
    "submit": "提交验收 — submit for review (needs a progress report).",
    "approve": "审核通过 — the lead leader approves (submitted → reviewed).",
    "reject": "退回 — return to the unit with a reason (submitted → in_progress).",
    "close": "销号 — close a reviewed task.",
    "reopen": "回头看 — reopen a closed task when the problem recurs (reason required).",
    "cancel": "撤销 — cancel an open task (reason required).",
    "suspend": "挂起 — the lead leader suspends a task waiting on another body (reason required); its clock stops.",
    "resume": "恢复办理 — resume a suspended task; its deadline moves by the working days suspended.",
}


def register(cli: click.Group) -> None:
    cli.add_command(assign)
    cli.add_command(fire)
    cli.add_command(progress)
    cli.add_command(list_cmd)
    cli.add_command(show)
    for verb in VERBS:
        cli.add_command(_verb_command(verb))


@click.command()
@click.option("--title", required=True, help="What is to be rectified, in a line.")
@click.option("--unit", required=True, help="Responsible unit (责任单位), by name.")
@click.option("--leader", required=True, help="Lead leader (责任领导), by id or name.")
@click.option(
    "--deadline", help="Deadline (整改时限): 2026-06-30, 2026年6月底前, 年底前, 第三季度末, 立行立改, 长期坚持 …"
)
@click.option("--category", help="Category (问题类别), e.g. 民生问题.")
@click.option("--campaign", help="Campaign (批次), e.g. 2026年主题教育整改.")
@click.option("--measure", "measures", multiple=True, help="A measure (整改措施); repeatable.")
@click.option("--problem", help="The problem as the inspection stated it.")
@click.option("--co-unit", "co_units", multiple=True, help="A co-unit (配合单位); repeatable.")
@click.option("--person", help="Responsible person (责任人), by id or name.")
@click.option("--priority", type=click.Choice(["高", "中", "低", "high", "medium", "low"]))
@click.option("--workflow", default="rectification", show_default=True, help="rectification or assistance.")
@click.option("--field", "fields", type=KEY_VALUE, multiple=True, help="A workflow field, e.g. households=3.")
@click.option(
    "--source", help="Where the problem comes from (问题来源), one of the workflow's sources, e.g. 巡视巡察反馈."
)
@click.option("--source-ref", help="The source's document number, e.g. 县委巡察反馈意见 第3条.")
@click.option("--source-date", type=DATE, help="The source document's date (YYYY-MM-DD).")
@click.option("--instruction", help="The leader's instruction (领导批示) it is turned from, e.g. PS-2026-0001.")
@json_option
@pass_ctx
def assign(
    ctx: Ctx,
    title: str,
    unit: str,
    leader: str,
    deadline,
    category,
    campaign,
    measures,
    problem,  # type: ignore[no-untyped-def]
    co_units,
    person,
    priority,
    workflow: str,
    fields,
    source: str | None,
    source_ref: str | None,
    source_date,  # type: ignore[no-untyped-def]
    instruction: str | None,
) -> None:
    """交办 — assign a new task to a responsible unit; prints its code."""
    from duban.engine.services import tasks

    app = ctx.app()
    code = tasks.assign(
        app,
        ctx.actor,
        tasks.NewTask(
            title=title,
            unit=unit,
            leader=leader,
            workflow=workflow,
            deadline=deadline,
            category=category,
            campaign=campaign,
            measures=list(measures),
            problem=problem,
            co_units=list(co_units),
            responsible_person=person,
            priority=priority,
            fields=dict(fields),
            source=source,
            source_ref=source_ref,
            source_date=source_date,
            instruction=instruction,
        ),
    )
    if ctx.json:
        emit_json({"code": code})
    else:
        say(code)


def _print_fired(ctx: Ctx, result: tasks.FireResult) -> None:
    if ctx.json:
        o = result.outcome
        emit_json(
            {"code": result.code, "trigger": o.trigger, "from": o.source, "to": o.dest, "version": result.version}
        )
        return
    o = result.outcome
    wf = ctx.app().registry.spec(result.workflow)
    say(
        ctx.t(
            f"{result.code}：{wf.trigger_label(o.trigger).zh}，{wf.state_label(o.source).zh} → {wf.state_label(o.dest).zh}",
            f"{result.code}: {o.trigger}, {wf.state_label(o.source).en} → {wf.state_label(o.dest).en}",
        )
    )


def _verb_command(verb: str) -> click.Command:
    @click.command(name=verb, help=VERB_HELP[verb])
    @click.argument("code")
    @click.option("--comment", "-m", help="A comment; the reason, where one is required.")
    @click.option("--if-version", type=int, help="Refuse if the task is no longer at this version.")
    @json_option
    @pass_ctx
    def command(ctx: Ctx, code: str, comment: str | None, if_version: int | None) -> None:
        from duban.engine.services import tasks

        _print_fired(ctx, tasks.fire(ctx.app(), ctx.actor, code, verb, comment=comment, if_version=if_version))

    return command


@click.command()
@click.argument("code")
@click.argument("trigger")
@click.option("--comment", "-m", help="A comment; the reason, where one is required.")
@click.option("--if-version", type=int, help="Refuse if the task is no longer at this version.")
@json_option
@pass_ctx
def fire(ctx: Ctx, code: str, trigger: str, comment: str | None, if_version: int | None) -> None:
    """Fire any trigger of the task's workflow (see 'duban workflow show')."""
    from duban.engine.services import tasks

    _print_fired(ctx, tasks.fire(ctx.app(), ctx.actor, code, trigger, comment=comment, if_version=if_version))


@click.command()
@click.argument("code")
@click.option("--percent", type=click.IntRange(0, 100), required=True, help="How far along, 0–100.")
@click.option("--note", required=True, help="What was done (整改进展).")
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Evidence file (佐证材料); repeatable.",
)
@json_option
@pass_ctx
def progress(ctx: Ctx, code: str, percent: int, note: str, attachments: tuple[Path, ...]) -> None:
    """报送进展 — report progress on a task, with evidence files."""
    from duban.engine.services import tasks

    result = tasks.report_progress(ctx.app(), ctx.actor, code, tasks.ProgressInput(percent, note, attachments))
    if ctx.json:
        emit_json({"code": code, "percent": percent, "version": result.version, "attachments": len(attachments)})
    else:
        say(ctx.t(f"{code}：已报送进展 {percent}%", f"{code}: progress {percent}% reported"))


LIGHTS = {"red": ("红", "red"), "yellow": ("黄", "yellow"), "green": ("绿", "green")}


def light_text(ctx: Ctx, light: str | None, days_overdue: int | None, days_left: int | None) -> str:
    if light is None:
        return ""
    zh, en = LIGHTS[light]
    if light == "red":
        return ctx.t(f"{zh} 逾期{days_overdue}日", f"{en} {days_overdue}d late")
    if days_left is not None:
        return ctx.t(f"{zh} 剩{days_left}日", f"{en} {days_left}d left")
    return ctx.t(zh, en)


def task_table(ctx: Ctx, rows: list[TaskSummary], title: str | None = None) -> None:
    """The ledger as a table: `duban list` and the demo's closing view (配合单位 when a row has co-units)."""
    co = any(s.co_units for s in rows)
    table(
        ctx,
        [
            ("编号", "Code"),
            ("任务", "Title"),
            ("状态", "State"),
            ("灯", "Light"),
            ("责任单位", "Unit"),
            *([("配合单位", "Co-units")] if co else []),
            ("责任领导", "Leader"),
            ("时限", "Deadline"),
            ("督办", "Level"),
        ],
        [
            [
                s.code,
                s.title,
                ctx.pick(s.state_label),
                light_text(ctx, s.light, s.days_overdue, s.days_left),
                s.unit,
                *(["、".join(s.co_units)] if co else []),
                s.leader_name or "",
                s.deadline.isoformat() if s.deadline else (s.deadline_expr or ""),
                str(s.escalation_level) if s.escalation_level else "",
            ]
            for s in rows
        ],
        title=title,
    )


def summary_json(s: TaskSummary) -> dict[str, object]:
    return {
        "code": s.code,
        "title": s.title,
        "workflow": s.workflow,
        "state": s.state,
        "state_label": s.state_label,
        "unit": s.unit,
        "leader": s.leader,
        "leader_name": s.leader_name,
        "deadline": s.deadline,
        "category": s.category,
        "campaign": s.campaign,
        "priority": s.priority,
        "version": s.version,
        "updated_at": s.updated_at,
        "original_deadline": s.original_deadline,
        "deadline_expr": s.deadline_expr,
        "light": s.light,
        "days_overdue": s.days_overdue,
        "days_left": s.days_left,
        "closed_days_late": s.closed_days_late,
        "escalation_level": s.escalation_level,
        "sign_by": s.sign_by,
        "signed_at": s.signed_at,
        "sign_late": s.sign_late,
        "source": s.source,
        "source_ref": s.source_ref,
        "source_date": s.source_date,
        "instruction": s.instruction,
        "co_units": list(s.co_units),
        "parent": s.parent,
    }


def duty_json(v: report_duties.DutyView | None) -> dict[str, object]:
    """定期填报 in a listing: the next report due, and the late and missed ones so far (None: no periodic reports)."""
    return {
        "next_report_due": v.next_due if v else None,
        "reports_late": v.tally.late if v else None,
        "reports_missed": v.tally.missed if v else None,
    }


_NO_DUTIES = duty_json(None)


def _streamed_json(s: ListedSummary, v: report_duties.DutyView | None, tz: ZoneInfo) -> dict[str, object]:
    """A row of ``list --all --json``: ``listed_json``'s keys and text. A ``ListedSummary`` holds
    ``summary_json``'s keys in order (tests/unit/test_list_keys.py), so the dict is built in one step."""
    out: dict[str, object] = s._asdict()
    out["state_label"] = {"zh": s.state_label.zh, "en": s.state_label.en}
    out["updated_at"] = s.updated_at.astimezone(tz).isoformat()
    if s.signed_at is not None:
        out["signed_at"] = s.signed_at.astimezone(tz).isoformat()
    for key, day in (
        ("deadline", s.deadline),
        ("original_deadline", s.original_deadline),
        ("sign_by", s.sign_by),
        ("source_date", s.source_date),
    ):
        if day is not None:
            out[key] = day.isoformat()
    out.update(_NO_DUTIES if v is None else duty_json(v))
    return out


def listed_json(app: App, rows: list[TaskSummary]) -> list[dict[str, object]]:
    """A page of tasks as ``list --json`` (and the API) gives them: the summary and the periodic reports."""
    from duban.engine.services import report_duties

    views = report_duties.page_duties(app, [s.code for s in rows])
    return [{**summary_json(s), **duty_json(views.get(s.code))} for s in rows]


def shown_json(app: App, d: TaskDetail) -> dict[str, object]:
    """A task as ``show --json`` (and the API) gives it: the details and its periodic reports (定期填报)."""
    from duban.engine.services import report_duties

    duty = report_duties.task_duties(app, d.summary.code)
    return {**detail_json(d), **duty_json(duty), "reporting": duty.to_dict() if duty else None}


@click.command(name="list")
@click.option("--state", "states", multiple=True, help="Only tasks in this state; repeatable.")
@click.option("--unit", help="Only this responsible unit.")
@click.option("--campaign", help="Only this campaign.")
@click.option("--workflow", help="Only this workflow.")
@click.option("--mine", is_flag=True, help="Only tasks of my unit, or that I lead or answer for.")
@click.option(
    "--light",
    "lights",
    multiple=True,
    type=click.Choice(["red", "yellow", "green"]),
    help="Only tasks with this traffic light; repeatable.",
)
@click.option("--overdue", is_flag=True, help="Only overdue tasks (the red light).")
@click.option("--source", help="Only tasks from this source (问题来源); '-' for tasks that cite none.")
@click.option("--instruction", help="Only tasks turned from this leader's instruction (PS-2026-0001).")
@click.option("--top", is_flag=True, help="Only top tasks, not sub-tasks (分解).")
@click.option("--limit", type=int, default=LIST_PAGE, show_default=True, help="Show at most this many.")
@click.option("--after", metavar="CODE", help="Start after this task code (the next page).")
@click.option("--all", "every", is_flag=True, help="Every match, streamed (JSON: an array written row by row).")
@json_option
@pass_ctx
def list_cmd(
    ctx: Ctx,
    states: tuple[str, ...],
    unit: str | None,
    campaign: str | None,
    workflow: str | None,
    mine: bool,
    lights: tuple[str, ...],
    overdue: bool,
    source: str | None,
    instruction: str | None,
    top: bool,
    limit: int,
    after: str | None,
    every: bool,
) -> None:
    """List tasks, with their traffic light (红黄绿灯): a page at a time, or --all streamed."""
    from duban.engine.services import queries

    if mine and not ctx.actor:
        raise NoActor()
    app = ctx.app()
    flt = queries.TaskFilter(
        states=states,
        unit=unit,
        campaign=campaign,
        workflow=workflow,
        mine_for=ctx.actor if mine else None,
        lights=tuple(sorted(set(lights) | ({"red"} if overdue else set()))),
        source=source,
        instruction=instruction,
        top_only=top,
    )
    if every and ctx.json:
        listed = queries.iter_listed(app, flt, after=after)
        head = next(listed, None)  # a bad filter is refused before anything is printed
        emit_json_stream(
            (_streamed_json(s, v, app.tz) for s, v in ([] if head is None else itertools.chain([head], listed))),
            app.tz,
        )
        return
    if every:
        stream = queries.iter_tasks(app, flt, after=after, scan=True)
        first = next(stream, None)  # a bad filter is refused before anything is printed
        rows = stream if first is None else itertools.chain([first], stream)
        shown = 0
        while chunk := list(itertools.islice(rows, 500)):
            task_table(ctx, chunk)
            shown += len(chunk)
        say(ctx.t(f"共 {shown} 项", f"{shown} task(s)"))
        return
    page = queries.list_page(app, flt, limit=limit, after=after)
    if ctx.json:
        emit_json(listed_json(app, page.rows), app.tz)
    else:
        task_table(ctx, page.rows)
        n = len(page.rows)
        say(ctx.t(f"本页 {n} 项", f"{n} task(s) on this page") if page.more else ctx.t(f"共 {n} 项", f"{n} task(s)"))
    if page.next_after:
        click.echo(
            ctx.t(
                f"还有更多：duban list --after {page.next_after} …（或 --all 列出全部）",
                f"more follow: duban list --after {page.next_after} … (or --all for every one)",
            ),
            err=True,
        )


def detail_json(d: TaskDetail) -> dict[str, object]:
    from .split_render import split_json

    return {
        **summary_json(d.summary),
        "problem": d.problem,
        "measures": d.measures,
        "co_units": d.co_units,
        "co_unit_parts": [
            {
                "unit": p.unit,
                "state": p.state,
                "sign_by": p.sign_by,
                "report_by": p.report_by,
                "signed_on": p.signed_on,
                "settled_on": p.settled_on,
                "days_late": d.co_days_late.get(p.unit, 0),
            }
            for p in d.co_parts
        ],
        "responsible_person": d.responsible_person,
        "fields": d.fields,
        "target": d.target,
        "assigned_on": d.assigned_on,
        "closed_on": d.closed_on,
        "ledger_columns": d.ledger_columns,
        "created_at": d.created_at,
        "allowed": d.allowed,
        "events": [
            {
                "seq": e.seq,
                "trigger": e.trigger,
                "from": e.source,
                "to": e.dest,
                "actor": e.actor,
                "actor_name": e.actor_name,
                "operator": e.operator,
                "operator_name": e.operator_name,
                "on_behalf_of": e.actor if e.substitution else None,
                "substitution": e.substitution,
                "at": e.at,
                "comment": e.comment,
                "data": e.data,
            }
            for e in d.events
        ],
        "progress": [
            {
                "percent": p.percent,
                "note": p.note,
                "actor": p.actor,
                "at": p.at,
                "evidence": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in p.evidence],
            }
            for p in d.progress
        ],
        **split_json(d),
    }


@click.command()
@click.argument("code")
@json_option
@pass_ctx
def show(ctx: Ctx, code: str) -> None:
    """Details of a task and its timeline."""
    from duban.engine.services import queries, report_duties

    from .split_render import show_sub_tasks

    app = ctx.app()
    d = queries.show_task(app, code, viewer=ctx.actor)
    if ctx.json:
        emit_json(shown_json(app, d), app.tz)
        return
    duty = report_duties.task_duties(app, code)
    s = d.summary
    lines = [
        (ctx.t("编号", "Code"), f"{s.code}  ({ctx.pick(d.workflow_label)}, v{s.version})"),
        (ctx.t("任务", "Title"), s.title),
        (ctx.t("状态", "State"), ctx.pick(s.state_label)),
        (
            ctx.t("责任单位", "Unit"),
            s.unit + (f"  {ctx.t('配合', 'with')}: {'、'.join(d.co_units)}" if d.co_units else ""),
        ),
        (ctx.t("责任领导", "Lead leader"), f"{s.leader_name or ''} ({s.leader or ''})"),
        (ctx.t("责任人", "Responsible"), d.responsible_person_name or ""),
        (ctx.t("整改时限", "Deadline"), _deadline_text(ctx, s)),
        (ctx.t("签收时限", "Sign for by"), _sign_by_text(ctx, s)),
        (ctx.t("签收时间", "Signed for"), when(s.signed_at, app.tz) if s.signed_at else ""),
        (
            ctx.t("红黄绿灯", "Light"),
            light_text(ctx, s.light, s.days_overdue, s.days_left)
            + (
                ctx.t(f"，{s.escalation_level}级督办", f", escalation level {s.escalation_level}")
                if s.escalation_level
                else ""
            ),
        ),
        (ctx.t("定期填报", "Periodic reports"), _duty_text(ctx, duty, app.tz)),
        (ctx.t("销号", "Closed"), _closed_text(ctx, s)),
        (ctx.t("问题来源", "Source"), _source_text(ctx, s)),
        (ctx.t("类别", "Category"), s.category or ""),
        (ctx.t("批次", "Campaign"), s.campaign or ""),
        (ctx.t("问题", "Problem"), d.problem or ""),
        (ctx.t("整改目标", "Target"), d.target or ""),
        (ctx.t("交办日期", "Assigned on"), d.assigned_on.isoformat() if d.assigned_on else ""),
        (ctx.t("上级任务", "Parent task"), s.parent or ""),
    ]
    lines += [(str(header), str(value)) for header, value in d.ledger_columns if value not in (None, "")]
    lines += [(ctx.pick(d.field_labels[k]) if k in d.field_labels else k, _field_text(v)) for k, v in d.fields.items()]
    width = max(cell_len(k) for k, _ in lines)
    for k, v in lines:
        if v:
            say(f"{k}{' ' * (width - cell_len(k))}  {v}")
    for i, m in enumerate(d.measures, 1):
        say(f"{ctx.t('措施', 'Measure')} {i}. {m}")
    if d.co_parts:
        table(
            ctx,
            [
                ("配合单位", "Co-unit"),
                ("状态", "State"),
                ("签收时限", "Sign for by"),
                ("报送期限", "Report by"),
                ("报送", "Settled"),
            ],
            [
                [
                    p.unit,
                    ctx.t(*PART_LABELS[p.state]),
                    p.sign_by.isoformat() if p.sign_by else "",
                    p.report_by.isoformat() if p.report_by else "",
                    (p.settled_on.isoformat() if p.settled_on else "")
                    + (
                        ctx.t(f"（迟报{n}个工作日）", f" ({n} working days late)")
                        if (n := d.co_days_late.get(p.unit, 0))
                        else ""
                    ),
                ]
                for p in d.co_parts
            ],
            title=ctx.t("配合单位", "Co-units' parts"),
        )
    table(
        ctx,
        [("时间", "When"), ("操作", "Action"), ("状态", "State"), ("操作人", "By"), ("说明", "Comment")],
        [
            [
                when(e.at, app.tz),
                ctx.pick(e.trigger_label),
                f"{ctx.pick(e.source_label)} → {ctx.pick(e.dest_label)}" if e.source != e.dest else "",
                _by(ctx, e),
                _event_note(e),
            ]
            for e in d.events
        ],
        title=ctx.t("时间线", "Timeline"),
    )
    if d.progress:
        table(
            ctx,
            [("时间", "When"), ("进度", "Percent"), ("进展", "Note"), ("报送人", "By"), ("佐证材料", "Evidence")],
            [
                [
                    when(p.at, app.tz),
                    f"{p.percent}%",
                    p.note,
                    p.actor_name,
                    "\n".join(f"{f.name} ({f.size} B, {f.sha256[:12]})" for f in p.evidence),
                ]
                for p in d.progress
            ],
            title=ctx.t("进展报送", "Progress reports"),
        )
    show_sub_tasks(ctx, d)
    if ctx.actor:
        spec = app.registry.find(s.workflow)
        if ctx.lang == "zh" and spec is not None:
            steps = "、".join(spec.trigger_label(t).zh for t in d.allowed)
        else:
            steps = ", ".join(d.allowed)
        say(ctx.t("您可执行：", "You may: ") + (steps or ctx.t("（无）", "(nothing)")))


def _duty_text(ctx: Ctx, v: report_duties.DutyView | None, tz: ZoneInfo) -> str:
    """每月25日；下次 2026-10-26 17:00；迟报 1 次，漏报 1 次（2026-09-28）."""
    if v is None:
        return ""
    parts = [ctx.pick(v.cadence)]
    if v.next_due is not None:
        done = ctx.t("（已报）", " (reported)") if v.reported_ahead else ""
        parts.append(ctx.t(f"下次 {when(v.next_due, tz)}{done}", f"next {when(v.next_due, tz)}{done}"))
    if v.late:
        parts.append(ctx.t(f"迟报 {len(v.late)} 次", f"{len(v.late)} late"))
    if v.missed:
        days = (
            "、".join(d.isoformat() for d in v.missed[-5:])
            if ctx.lang == "zh"
            else ", ".join(d.isoformat() for d in v.missed[-5:])
        )
        parts.append(ctx.t(f"漏报 {len(v.missed)} 次（{days}）", f"{len(v.missed)} missed ({days})"))
    return ("；" if ctx.lang == "zh" else "; ").join(parts)


def _by(ctx: Ctx, e: queries.EventView) -> str:
    """Who acted; a substitute's step names both (何娟 代 冯磊)."""
    if e.substitution and e.operator_name:
        return ctx.t(f"{e.operator_name} 代 {e.actor_name}", f"{e.operator_name} for {e.actor_name}")
    return e.actor_name


def _closed_text(ctx: Ctx, s: TaskSummary) -> str:
    if s.closed_days_late is None:
        return ""
    if s.closed_days_late == 0:
        return ctx.t("按期销号", "on time")
    return ctx.t(f"逾期 {s.closed_days_late} 个工作日销号", f"{s.closed_days_late} working day(s) late")


def _event_note(e: queries.EventView) -> str:
    """The comment, and the units a return or a transfer names (社会事务科 → 督查室), or the co-unit of a part's step."""
    comment = e.comment or ""
    data = e.data
    if isinstance(data, dict) and data.get("from_unit") and data.get("to_unit"):
        moved = f"{data['from_unit']} → {data['to_unit']}"
        return f"{moved}：{comment}" if comment else moved
    if isinstance(data, dict) and data.get("co_unit"):  # 牵头/配合: the co-unit whose part it is
        return f"{data['co_unit']}：{comment}" if comment else str(data["co_unit"])
    return comment


def _source_text(ctx: Ctx, s: TaskSummary) -> str:
    parts = [p for p in (s.source, s.source_ref, s.source_date.isoformat() if s.source_date else None) if p]
    if s.instruction:
        parts.append(ctx.t(f"批示 {s.instruction}", f"instruction {s.instruction}"))
    return "，".join(parts) if ctx.lang == "zh" else ", ".join(parts)


def _sign_by_text(ctx: Ctx, s: TaskSummary) -> str:
    if s.sign_by is None:
        return ""
    return s.sign_by.isoformat() + (ctx.t("（已超时未签收）", " (late: not signed for)") if s.sign_late else "")


def _deadline_text(ctx: Ctx, s: TaskSummary) -> str:
    if s.deadline is None:
        return s.deadline_expr or ctx.t("未设", "none")
    text = s.deadline.isoformat()
    if s.deadline_expr and s.deadline_expr != text:
        text += f"（{s.deadline_expr}）" if ctx.lang == "zh" else f" ({s.deadline_expr})"
    if s.original_deadline and s.original_deadline != s.deadline:
        text += ctx.t(f"，原时限 {s.original_deadline}", f", originally {s.original_deadline}")
    return text


def _field_text(value: object) -> str:
    return "、".join(map(str, value)) if isinstance(value, list) else str(value)
