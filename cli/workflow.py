"""Workflow definition commands: check a file, show a definition, draw it."""

from __future__ import annotations

from pathlib import Path

import click

from duban.engine.domain import graph
from duban.engine.domain.machine import describe_rules
from duban.engine.domain.registry import WorkflowRegistry
from duban.engine.domain.workflow import REQUIREMENT_LABELS, WorkflowSpec, load_workflow_file

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say, table


def register(cli: click.Group) -> None:
    cli.add_command(workflow)


def _registry(ctx: Ctx) -> WorkflowRegistry:
    return WorkflowRegistry.from_dirs(list(ctx.settings.workflow_dirs))


@click.group()
def workflow() -> None:
    """Workflow definitions (YAML in workflows/ and on DUBAN_WORKFLOW_PATH)."""


@workflow.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def check(ctx: Ctx, file: Path) -> None:
    """Validate a definition file; names the file and key of the first mistake."""
    spec = load_workflow_file(file)
    if ctx.json:
        emit_json(
            {
                "file": str(file),
                "name": spec.name,
                "version": spec.version,
                "states": list(spec.states),
                "triggers": spec.triggers,
                "ok": True,
            }
        )
        return
    say(
        ctx.t(
            f"{file}：有效 — 流程 {spec.name}（版本 {spec.version}），{len(spec.states)} 个状态，{len(spec.triggers)} 个操作",
            f"{file}: ok — workflow {spec.name} (version {spec.version}), {len(spec.states)} states, "
            f"{len(spec.triggers)} triggers",
        )
    )


def spec_json(spec: WorkflowSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "version": spec.version,
        "source": spec.source,
        "label": spec.label,
        "initial": spec.initial,
        "create": {"trigger": spec.create.trigger, "label": spec.create.label},
        "states": [{"key": s.key, "label": s.label, "final": s.final, "clock": s.clock} for s in spec.states.values()],
        "transitions": [
            {
                "trigger": t.trigger,
                "label": t.label,
                "source": list(t.sources),
                "dest": t.dest,
                "who": describe_rules(t.who),
                "requires": list(t.requires),
            }
            for t in spec.transitions
        ],
        "fields": {
            k: {"type": f.type, "label": f.label, "required": f.required, "choices": list(f.choices)}
            for k, f in spec.fields.items()
        },
        "reporting": _reporting_json(spec),
    }


def _reporting_json(spec: WorkflowSpec) -> dict[str, object] | None:
    """定期填报: the cadence, when a report is due, whose tasks owe it, and a campaign's own cadence."""
    r = spec.reporting
    if r is None:
        return None
    return {
        "every": r.every.label(),
        "at": r.due_at.strftime("%H:%M"),
        "tasks": r.tasks,
        "trigger": r.trigger,
        "remind_before_working_days": list(r.remind_before_working_days),
        "escalate": [{"level": e.level, "after_working_days": e.after_working_days} for e in r.escalation],
        "campaigns": {name: c.label() for name, c in r.campaigns},
    }


@workflow.command(name="show")
@click.argument("name")
@json_option
@pass_ctx
def show(ctx: Ctx, name: str) -> None:
    """States and transitions of a definition, as tables."""
    spec = _registry(ctx).spec(name)
    if ctx.json:
        emit_json(spec_json(spec))
        return
    yes, no = ctx.t("是", "yes"), ""
    say(f"{ctx.pick(spec.label)} ({spec.name}, {ctx.t('版本', 'version')} {spec.version}) — {spec.source}")
    table(
        ctx,
        [("状态", "State"), ("名称", "Label"), ("终态", "Final"), ("计时", "Clock runs")],
        [[s.key, ctx.pick(s.label), yes if s.final else no, yes if s.clock else no] for s in spec.states.values()],
        title=ctx.t("状态", "States"),
    )

    def state(key: str) -> str:
        return ctx.pick(spec.state_label(key))

    rows = [
        [
            spec.create.trigger,
            ctx.pick(spec.create.label),
            "—",
            state(spec.initial),
            ctx.pick(describe_rules(spec.create.who)),
            "",
        ]
    ]
    rows += [
        [
            t.trigger,
            ctx.pick(t.label),
            ctx.t("、", ", ").join(state(s) for s in t.sources),
            state(t.dest) if t.dest else ctx.t("（不变）", "(same)"),
            ctx.pick(describe_rules(t.who)),
            ctx.t("、", ", ").join(
                ctx.pick(REQUIREMENT_LABELS[r]) if r in REQUIREMENT_LABELS else r for r in t.requires
            ),
        ]
        for t in spec.transitions
    ]
    table(
        ctx,
        [
            ("操作", "Trigger"),
            ("名称", "Label"),
            ("从", "From"),
            ("到", "To"),
            ("谁可执行", "Who"),
            ("要求", "Requires"),
        ],
        rows,
        title=ctx.t("操作", "Transitions"),
    )
    if spec.reporting is not None:
        r = spec.reporting
        whose = (
            ctx.t("仅长期坚持任务", "ongoing tasks only") if r.tasks == "ongoing" else ctx.t("所有任务", "every task")
        )
        own = ctx.t("；", "; ").join(f"{name}: {ctx.pick(c.label())}" for name, c in r.campaigns)
        say(
            ctx.t("定期填报：", "Periodic reports: ")
            + f"{ctx.pick(r.every.label())} {r.due_at.strftime('%H:%M')}"
            + ctx.t(f"（{whose}）", f" ({whose})")
            + (ctx.t(f"；专项另定：{own}", f"; campaigns: {own}") if own else "")
        )


@workflow.command(name="graph")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@pass_ctx
def graph_cmd(ctx: Ctx, name: str, fmt: str) -> None:
    """The definition as a diagram: Mermaid text, or Graphviz DOT."""
    spec = _registry(ctx).spec(name)
    click.echo(graph.mermaid(spec, ctx.lang) if fmt == "mermaid" else graph.dot(spec, ctx.lang), nl=False)
