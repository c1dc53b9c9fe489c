"""Ledger commands: duban import (a spreadsheet in as tasks) and duban export (the tasks out as one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn

from duban.engine.domain.textcheck import printable
from duban.engine.ledger.rows import LedgerInvalid, describe_error
from duban.engine.services import ledger_export, ledger_import
from duban.engine.services.ledger_export import ExportFilter
from duban.engine.services.ledger_import import ImportOptions, ImportResult

from .context import Ctx, json_option, pass_ctx
from .params import DATE
from .render import emit_json, say

WARNINGS_SHOWN = 20
SHOW_PROGRESS_FROM = 500  # rows: smaller files are done before a bar would be worth drawing


def register(cli: click.Group) -> None:
    cli.add_command(import_cmd)
    cli.add_command(export_cmd)
    from .campaign import campaign  # campaigns date what ledgers leave out: they come with the ledger commands

    cli.add_command(campaign)


class _Bar:
    """A progress bar on stderr, drawn only on a terminal and only once a file proves big; gone when done."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.console = Console(stderr=True)
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.enabled = self.console.is_terminal

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self.progress is None:
            # The service reports reading every 500 rows, so a first report before the end means a big file.
            if phase == "read" and total is not None and done >= total:
                return
            if phase == "write" and (total or 0) <= SHOW_PROGRESS_FROM:
                return
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
        words = {"read": self.ctx.t("读取并校验", "reading and checking"), "write": self.ctx.t("写入", "writing")}
        description = words.get(phase, phase)
        if total is None:  # a workbook that records no size (openpyxl's write-only mode): count the rows instead
            description += self.ctx.t(f"（已读 {done:,} 行）", f" ({done:,} rows so far)")
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(description, total=total)
        self.progress.update(self.tasks[phase], completed=done, total=total, description=description)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


@contextmanager
def _progress(ctx: Ctx) -> Iterator[_Bar]:
    bar = _Bar(ctx)
    try:
        yield bar
    finally:
        bar.stop()


@click.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", help="The worksheet to read (default: the first).")
@click.option("--campaign", help="Campaign (批次) of the tasks; its year dates expressions such as 6月底前.")
@click.option("--workflow", default="rectification", show_default=True, help="rectification or assistance.")
@click.option("--dry-run", is_flag=True, help="Check and report what would be imported; write nothing.")
@click.option("--create-units", is_flag=True, help="Create units the organisation lacks (never leaders).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML or CSV: unusual headers → fields (e.g. '反馈问题内容: 问题').",
)
@click.option(
    "--skip-invalid",
    "skip_invalid",
    metavar="REJECTS.csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Import the valid rows; write the others, with the reasons, to this CSV.",
)
@click.option(
    "--assigned-on",
    "assigned_on",
    type=DATE,
    help="交办日期 of rows whose ledger gives none (YYYY-MM-DD); 立行立改 counts from it.",
)
@json_option
@pass_ctx
def import_cmd(
    ctx: Ctx,
    file: Path,
    sheet: str | None,
    campaign: str | None,
    workflow: str,
    dry_run: bool,
    create_units: bool,
    mapping: Path | None,
    skip_invalid: Path | None,
    assigned_on: date | None,
) -> None:
    """导入台账 — import a ledger (XLSX or CSV) as tasks, all rows or none."""
    app = ctx.app()
    errors = None
    with _progress(ctx) as bar:
        try:
            result = ledger_import.import_ledger(
                app,
                ctx.actor,
                file,
                ImportOptions(
                    sheet=sheet,
                    campaign=campaign,
                    workflow=workflow,
                    dry_run=dry_run,
                    create_units=create_units,
                    mapping=mapping,
                    skip_invalid=skip_invalid,
                    progress=bar,
                    lang=ctx.lang,
                    assigned_on=assigned_on,
                ),
            )
        except LedgerInvalid as exc:
            errors = exc
    if errors is not None:
        for e in errors.errors:
            click.echo(printable(describe_error(e, ctx.lang, file.name)), err=True)
        raise errors
    if ctx.json:
        emit_json(_import_json(result))
        return
    for e in result.errors:
        click.echo(
            printable(ctx.t("duban：未导入：", "duban: rejected: ") + describe_error(e, ctx.lang, file.name)), err=True
        )
    _say_import(ctx, result, workflow)


def _import_json(r: ImportResult) -> dict[str, Any]:
    return {
        "file": r.file,
        "sheet": r.sheet or None,
        "header_row": r.header_row,
        "rows": r.rows,
        "imported": r.imported,
        "existing": r.existing,
        "rejected": r.rejected,
        "rejects_file": r.rejects_file,
        "errors": [{"row": e.row, "column": e.column, "reason": e.reason} for e in r.errors],
        "warnings": [{"row": e.row, "column": e.column, "reason": e.reason} for e in r.warnings],
        "created_units": r.created_units,
        "codes": list(r.codes),
        "by_state": r.by_state,
        "ignored_columns": r.ignored_columns,
        "dry_run": r.dry_run,
    }


def _say_import(ctx: Ctx, r: ImportResult, workflow: str) -> None:
    where = Path(r.file).name + (f" [{r.sheet}]" if r.sheet else "")
    spec = ctx.app().registry.spec(workflow)
    order = list(spec.states)
    counts = sorted(r.by_state.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    states = "，".join(f"{ctx.pick(spec.state_label(k))} {v}" for k, v in counts)
    if r.dry_run:
        say(
            ctx.t(
                f"试导入（未写入）：{where} 第 {r.header_row} 行为表头，共 {r.rows} 行；将导入 {r.imported} 项"
                + (f"（{states}）" if states else ""),
                f"dry run, nothing written: {where}, header in row {r.header_row}, {r.rows} rows; "
                f"would import {r.imported} task(s)" + (f" ({states.replace('，', ', ')})" if states else ""),
            )
        )
    else:
        span = f"{r.codes[0]} … {r.codes[-1]}" if len(r.codes) > 1 else (r.codes[0] if r.codes else "")
        say(
            ctx.t(
                f"已导入 {r.imported} 项：{where}"
                + (f"，{span}" if span else "")
                + (f"（{states}）" if states else ""),
                f"imported {r.imported} task(s) from {where}"
                + (f": {span}" if span else "")
                + (f" ({states.replace('，', ', ')})" if states else ""),
            )
        )
    if r.existing:
        say(ctx.t(f"{r.existing} 行此前已导入，跳过", f"{r.existing} row(s) were imported before: skipped"))
    if r.created_units:
        units = "、".join(r.created_units)
        say(
            ctx.t(
                ("将新建单位：" if r.dry_run else "已新建单位：") + units,
                ("would create" if r.dry_run else "created") + f" units: {units}",
            )
        )
    if r.errors:
        n = r.rejected
        if r.rejects_file:
            say(
                ctx.t(
                    f"{n} 行未导入，连同原因写入 {r.rejects_file}",
                    f"{n} row(s) rejected, written with the reasons to {r.rejects_file}",
                )
            )
        else:
            say(ctx.t(f"{n} 行有误，将不导入", f"{n} row(s) invalid: would be left out"))
    for w in r.warnings[:WARNINGS_SHOWN]:
        say(ctx.t("提示：", "warning: ") + printable(describe_error(w, ctx.lang, Path(r.file).name)))
    if len(r.warnings) > WARNINGS_SHOWN:
        more = len(r.warnings) - WARNINGS_SHOWN
        say(ctx.t(f"……另有 {more} 条提示（--json 可见全部）", f"… and {more} more warning(s) (all of them in --json)"))
    if r.ignored_columns:
        cols = " | ".join(r.ignored_columns)
        say(
            ctx.t(
                f"未识别的列按原表头保留在任务中、导出时写回：{cols}（可用 --mapping 指定字段或 ignore）",
                f"columns kept as they are (not a field; written back on export): {cols} "
                "(see --mapping to name a field or ignore one)",
            )
        )


@click.command(name="export")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.xlsx or FILE.csv."
)
@click.option("--campaign", help="Only this campaign.")
@click.option("--state", "states", multiple=True, help="Only tasks in this state; repeatable.")
@click.option("--unit", help="Only this responsible unit.")
@click.option("--workflow", help="Only this workflow.")
@click.option("--as-of", "as_of", type=DATE, help="The ledger as it stood at the end of this day (YYYY-MM-DD).")
@click.option("--source", help="Only tasks from this source (问题来源); '-' for tasks that cite none.")
@json_option
@pass_ctx
def export_cmd(
    ctx: Ctx,
    output: Path,
    campaign: str | None,
    states: tuple[str, ...],
    unit: str | None,
    workflow: str | None,
    as_of: date | None,
    source: str | None,
) -> None:
    """导出台账 — the ledger as a formatted XLSX or a CSV, headers in the chosen language."""
    result = ledger_export.export_ledger(
        ctx.app(),
        output,
        ExportFilter(
            campaign=campaign, states=states, unit=unit, workflow=workflow, as_of=as_of, lang=ctx.lang, source=source
        ),
    )
    if ctx.json:
        emit_json({"file": result.file, "format": result.format, "rows": result.rows, "as_of": result.as_of})
        return
    when = ctx.t(f"（截至 {as_of}）", f" (as of {as_of})") if as_of else ""
    say(
        ctx.t(
            f"已导出 {result.rows} 项到 {result.file}{when}", f"exported {result.rows} task(s) to {result.file}{when}"
        )
    )
