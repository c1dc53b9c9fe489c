"""Circulars (定期通报): `duban report` on demand, `duban circulars list/show/issue` for the issued ones."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from duban.engine.domain.errors import BadFile, InvalidInput
from duban.engine.domain.report import Report
from duban.engine.domain.text import Bilingual, Lang
from duban.engine.services import circulars as circular_service
from duban.engine.services.report import NAMED_LIMIT, ReportRequest, build_report
from duban.engine.services.report_files import (
    BINARY_FORMATS,
    FORMATS,
    SUFFIXES,
    Letterhead,
    chart_svg,
    draw_chart,
    render_report,
    terminal,
)

from .context import Ctx, json_option, pass_ctx
from .params import DATE
from .render import console, emit_json, say, table, when


def register(cli: click.Group) -> None:
    cli.add_command(report)
    cli.add_command(circulars)


def _format_for(output: Path | None, fmt: str | None, as_json: bool) -> str:
    if fmt:
        return fmt
    if as_json:
        return "json"
    if output is not None:
        by_suffix = {suffix: name for name, suffix in SUFFIXES.items()}
        found = by_suffix.get(output.suffix.lower())
        if found is None:
            raise InvalidInput(
                what="-o",
                detail=Bilingual(
                    f"无法从文件名 '{output.name}' 判断格式；请加 --format（{'、'.join(FORMATS)}）",
                    f"cannot tell the format from '{output.name}'; add --format ({', '.join(FORMATS)})",
                ),
            )
        return found
    return "table"


def _write(path: Path, content: bytes) -> None:
    """Through a temporary file, so a failed write never leaves half a document behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(content)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or exc.__class__.__name__
        raise BadFile(path, Bilingual(f"无法写入（{reason}）", f"cannot write it ({reason})")) from None


def _check_target(path: Path | None, what: str) -> None:
    """Refuse an unwritable target before any work is done."""
    if path is not None and (path.is_dir() or not path.parent.is_dir()):
        zh = {"report": "通报", "notice": "督办单"}.get(what, "图表")
        raise BadFile(
            path,
            Bilingual(
                f"无法把{zh}写到这里（文件夹不存在，或这是一个文件夹）",
                f"cannot write the {what} there (no such folder, or it is a folder)",
            ),
        )


def warn(lang: Lang, warnings: list[str]) -> None:
    for w in warnings:
        click.echo(("duban：提示：" if lang == "zh" else "duban: warning: ") + w, err=True)


def emit(
    ctx: Ctx,
    report: Report,
    lang: Lang,
    fmt: str,
    output: Path | None,
    chart: Path | None,
    issuer: str | None,
    letterhead: Letterhead | None = None,
) -> None:
    """Print or write a report in one format; the chart as well when asked for (SVG natively, PNG by matplotlib)."""
    if fmt not in (*FORMATS, "table"):
        raise InvalidInput(
            what="--format",
            detail=Bilingual(
                f"'{fmt}' 不在可选格式 table、{'、'.join(FORMATS)} 之中",
                f"'{fmt}' is not one of table, {', '.join(FORMATS)}",
            ),
        )
    _check_target(output, "report")
    _check_target(chart, "chart")
    picture: bytes | None = None
    if chart is not None and chart.suffix.lower() == ".svg":
        picture = chart_svg(report, lang)
    elif chart is not None:
        picture, warnings = draw_chart(report, lang)  # a PNG needs a font with Chinese glyphs: warned if missing
        warn(lang, warnings)
    if fmt == "table":
        if output is not None:
            raise InvalidInput(
                what="-o",
                detail=Bilingual(
                    "表格格式只在终端显示；写入文件请用 --format 指定格式",
                    "the table format prints to the terminal; give --format for a file",
                ),
            )
        for part in terminal(report, lang):
            console.print(part)
    else:
        content = render_report(report, fmt, lang, issuer=issuer, letterhead=letterhead)
        if output is not None:
            _write(output, content)
        elif fmt in BINARY_FORMATS:
            raise InvalidInput(
                what="-o",
                detail=Bilingual(
                    f"{fmt} 是二进制格式：请用 -o 文件 写入文件",
                    f"{fmt} is a binary format: write it to a file with -o FILE",
                ),
            )
        else:
            sys.stdout.write(content.decode("utf-8-sig" if fmt == "csv" else "utf-8"))
            if not content.endswith(b"\n"):
                sys.stdout.write("\n")
    if chart is not None and picture is not None:
        _write(chart, picture)
    if output is not None or chart is not None:
        written = [str(p) for p in (output, chart) if p is not None]
        click.echo(("已写入：" if lang == "zh" else "written: ") + ", ".join(written), err=True)


@click.command()
@click.option("--period", type=click.Choice(["week", "month", "quarter", "year"]), default="week", show_default=True)
@click.option("--from", "start", type=DATE, help="First day of the period (with --to instead of --period).")
@click.option("--to", "end", type=DATE, help="Last day of the period (default: the as-of date).")
@click.option(
    "--as-of", "as_of", type=DATE, help="Report the ledger as it stood at the end of this day (default: today)."
)
@click.option("--campaign", help="Only this campaign (专项).")
@click.option("--unit", help="Only this unit.")
@click.option("--category", help="Only this category (问题类别).")
@click.option("--source", help="Only tasks from this source (问题来源); '-' for tasks that cite none.")
@click.option(
    "--level",
    type=click.Choice(["top", "all"]),
    default="top",
    show_default=True,
    help="Count top tasks only, or sub-tasks (分解) too.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", *FORMATS]), help="Output format (default: table, or from -o)."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the chart to this file: .svg (drawn natively, no font needed) or .png.",
)
@click.option(
    "--limit",
    type=click.IntRange(0, 1_000_000),
    default=NAMED_LIMIT,
    show_default=True,
    help="Tasks named per list; 0: all.",
)
@click.option("--issuer", help="The issuing office, in the masthead and the 落款 (DOCX, HTML).")
@click.option(
    "--issue-no", type=click.IntRange(1, 100_000), help="Number it 第N期 (DOCX, HTML); unnumbered if not given."
)
@click.option("--cc", "cc", multiple=True, help="An office it is copied to (抄送); repeat for more.")
@click.option("--lang", "report_lang", type=click.Choice(["zh", "en"]), help="Language of the report.")
@json_option
@pass_ctx
def report(
    ctx: Ctx,
    period: str,
    start: date | None,
    end: date | None,
    as_of: date | None,
    campaign: str | None,
    unit: str | None,
    category: str | None,
    source: str | None,
    level: str,
    fmt: str | None,
    output: Path | None,
    chart: Path | None,
    limit: int,
    issuer: str | None,
    issue_no: int | None,
    cc: tuple[str, ...],
    report_lang: Lang | None,
) -> None:
    """The progress circular (定期通报): per-unit figures, overdue tasks named, change since last period."""
    lang: Lang = report_lang or ctx.lang
    fmt = _format_for(output, fmt, ctx.json)
    req = ReportRequest(period, start, end, as_of, campaign, unit, category, limit or None, source=source, level=level)
    letterhead = Letterhead(issuer=issuer, issue_no=issue_no, cc=tuple(c.strip() for c in cc if c.strip()))
    emit(ctx, build_report(ctx.app(), req), lang, fmt, output, chart, issuer, letterhead)


@click.group()
def circulars() -> None:
    """Circulars issued on schedule (DUBAN_CIRCULARS) and stored with their files."""


@circulars.command("list")
@click.option("--schedule", help="Only this schedule's circulars.")
@json_option
@pass_ctx
def list_command(ctx: Ctx, schedule: str | None) -> None:
    """Issued circulars, the latest first."""
    app = ctx.app()
    views = circular_service.list_circulars(app, schedule)
    if ctx.json:
        emit_json(
            [
                {
                    "id": v.id,
                    "schedule": v.schedule,
                    "period": {"kind": v.period_kind, "from": v.period_from, "to": v.period_to},
                    "campaign": v.campaign,
                    "created_at": v.created_at,
                    "files": [{"name": n, "media_type": m, "size": s} for n, m, s in v.files],
                    "totals": v.figures.get("totals"),
                }
                for v in views
            ],
            app.tz,
        )
        return
    if not views:
        say(ctx.t("尚无通报", "no circulars yet"))
        return
    table(
        ctx,
        [
            ("编号", "id"),
            ("计划", "schedule"),
            ("时段", "period"),
            ("专项", "campaign"),
            ("完成率", "completion"),
            ("逾期", "overdue"),
            ("文件", "files"),
            ("生成时间", "issued"),
        ],
        [
            [
                str(v.id),
                v.schedule,
                f"{v.period_from} ~ {v.period_to}",
                v.campaign or "",
                _pct(v.figures.get("totals", {}).get("completion_rate")),
                str(v.figures.get("totals", {}).get("overdue", "")),
                ", ".join(n for n, _m, _s in v.files),
                when(v.created_at, app.tz),
            ]
            for v in views
        ],
    )


def _pct(rate: object) -> str:
    return f"{float(rate) * 100:.1f}%" if isinstance(rate, (int, float)) else "—"


@circulars.command("show")
@click.argument("circular_id", metavar="ID")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it to this file.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", *FORMATS]), help="Output format (default: table, or from -o)."
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw its chart to this file: .svg (drawn natively, no font needed) or .png.",
)
@json_option
@pass_ctx
def show_command(ctx: Ctx, circular_id: str, output: Path | None, fmt: str | None, chart: Path | None) -> None:
    """One issued circular, as issued: its stored file when there is one, else rendered from its stored figures."""
    app = ctx.app()
    view = circular_service.get_circular(app, circular_service.check_id(circular_id))
    lang: Lang = "en" if view.lang == "en" else "zh"
    fmt = _format_for(output, fmt, ctx.json)
    stored = (
        circular_service.circular_file(app, view.id, SUFFIXES[fmt]) if output is not None and fmt in SUFFIXES else None
    )
    if stored is not None and output is not None and chart is None:
        _check_target(output, "circular")
        _write(output, stored.content)
        click.echo(("已写入：" if lang == "zh" else "written: ") + str(output), err=True)
        return
    emit(ctx, view.report, lang, fmt, output, chart, None)


@circulars.command("issue")
@json_option
@pass_ctx
def issue_command(ctx: Ctx) -> None:
    """Issue the scheduled circulars that are due (the beat does this on every tick)."""
    app = ctx.app()
    ids = circular_service.issue_due(app)
    if ctx.json:
        emit_json({"issued": ids})
        return
    say(
        ctx.t(f"已生成通报 {len(ids)} 份", f"{len(ids)} circular(s) issued")
        + (f": {', '.join(map(str, ids))}" if ids else "")
    )
