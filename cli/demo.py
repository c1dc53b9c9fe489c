"""``duban demo``: build a sample workspace, play out weeks of work, show where things stand."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from duban.engine.services.circulars import get_circular
from duban.engine.services.report_files import terminal

from .context import Ctx, json_option, pass_ctx
from .render import console, emit_json, say
from .tasks import summary_json, task_table

ACTION_LABELS = {
    "reminders": "催办提醒",
    "escalations": "督办",
    "assign": "交办",
    "start": "签收",
    "progress": "报送进展",
    "submit": "提交验收",
    "approve": "审核通过",
    "reject": "退回",
    "close": "销号",
    "reopen": "回头看",
    "cancel": "撤销",
    "circulars": "定期通报",
    "accountability": "问责",
    "instruction": "登记领导批示",
    "return": "退办",
    "reassign": "改派",
    "suspend": "挂起",
    "resume": "恢复办理",
    "co_sign": "配合单位签收",
    "co_report": "报送配合情况",
    "co_waive": "免于配合",
    "substitute": "代理",
    "split": "分解交办",
    "close_out": "核销子任务",
}


def register(cli: click.Group) -> None:
    cli.add_command(demo)


@click.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("duban-demo"),
    show_default=True,
    help="Folder for the demo workspace (its database is rebuilt).",
)
@click.option(
    "--examples",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder with org.yaml and ledger.csv (default: the repository's examples/).",
)
@json_option
@pass_ctx
def demo(ctx: Ctx, folder: Path, examples: Path | None) -> None:
    """Build a demo workspace from examples/ and play out six weeks of work."""
    from duban.engine.demo import run_demo

    result = run_demo(folder, examples, ctx.settings.timezone)
    ctx.single_desk = True  # the demo's workspace is one shared desk, and every command on it says so
    try:
        if ctx.json:
            emit_json(
                {
                    "database": str(result.database),
                    "tasks": [summary_json(t) for t in result.tasks],
                    "weeks": [{"label": w.label, "actions": dict(w.actions)} for w in result.weeks],
                    "circular": result.circular,
                    "accountability": result.accountability,
                    "supervision_notices": result.notice_count,
                    "red_notice": str(result.red_notice) if result.red_notice else None,
                    "circular_files": [str(p) for p in result.circular_files],
                },
                result.app.tz,
            )
            return
        say(
            ctx.t(
                f"演示工作区：{result.folder}（数据库 {result.database}）",
                f"demo workspace: {result.folder} (database {result.database})",
            )
        )
        for w in result.weeks:
            parts = [f"{ACTION_LABELS[a] if ctx.lang == 'zh' else a} {n}" for a, n in w.actions.items()]
            say(f"  {ctx.t(w.zh, w.en)}{ctx.t('：', ': ')}" + ctx.t("，", ", ").join(parts))
        task_table(ctx, result.tasks, title=ctx.t("各项任务现状", "Where every task stands"))
        counts = Counter(ctx.pick(t.state_label) for t in result.tasks)
        say(ctx.t("合计：", "Totals: ") + ", ".join(f"{k} {v}" for k, v in counts.items()))
        sent = sum(1 for _ in result.notices.open(encoding="utf-8")) if result.notices.exists() else 0
        say(
            ctx.t(f"已发送通知 {sent} 条，见 {result.notices}", f"{sent} notifications delivered, see {result.notices}")
        )
        if result.circular is not None:
            circular = get_circular(result.app, result.circular)
            for part in terminal(circular.report, ctx.lang):
                console.print(part)
            files = "、".join(str(p) for p in result.circular_files)
            say(
                ctx.t(
                    f"上周定期通报已生成（duban circulars show {result.circular}）：{files}",
                    f"last week's circular is written (duban circulars show {result.circular}): "
                    f"{', '.join(map(str, result.circular_files))}",
                )
            )
        if result.red_notice is not None:
            say(
                ctx.t(
                    f"各督办层级共下发督办单 {result.notice_count} 份（duban --db {result.database} notices list），"
                    f"首份红色督办单已写入：{result.red_notice}",
                    f"{result.notice_count} supervision notices issued (duban --db {result.database} notices list); "
                    f"the first red one is written: {result.red_notice}",
                )
            )
        for number in result.accountability:
            say(
                ctx.t(
                    f"督查室已对红色督办任务启动问责 {number}：duban --db {result.database} accountability list",
                    f"the supervision office opened accountability record {number} on a red task: "
                    f"duban --db {result.database} accountability list",
                )
            )
        say(
            ctx.t(
                f"继续试用：duban --db {result.database} show {result.tasks[0].code}",
                f"try next: duban --db {result.database} show {result.tasks[0].code}",
            )
        )
        roles = {
            "leader": ("领导", "leader"),
            "unit_head": ("单位负责人", "unit head"),
            "supervisor": ("督查室", "supervisor"),
        }
        say(
            ctx.t(
                f"在浏览器中打开：duban serve --db {result.database}，然后访问 http://127.0.0.1:8000/ 并以下列账号登录：",
                f"open it in a browser: duban serve --db {result.database}, then visit http://127.0.0.1:8000/ and sign in as:",
            )
        )
        for name, role, password in result.web_accounts:
            zh, en = roles.get(role, (role, role))
            say(ctx.t(f"  {name}（{zh}）密码 {password}", f"  {name} ({en}) password {password}"))
    finally:
        result.app.close()
