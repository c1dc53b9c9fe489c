"""A circular rendered into every format carries the same figures, safely.

No database: the Report is made by hand, so each assertion compares a format
with the very object it was rendered from.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from matplotlib.ft2font import FT2Font
from PIL import Image
from rich.console import Console
from rich.table import Table

from duban.engine.domain.errors import InvalidInput
from duban.engine.domain.report import (
    Counts,
    OverdueTask,
    Period,
    PeriodTask,
    Previous,
    Report,
    from_dict,
    headline,
    pct,
    rank_units,
)
from duban.engine.domain.text import Lang
from duban.engine.reporting import CHART_SIZE, FORMATS, MEDIA_TYPES, SUFFIXES, render, render_terminal, unit_chart
from duban.engine.reporting.chart import FONT_ENV, find_cjk_font
from duban.engine.reporting.tables import sections, short_title
from tests.conftest import IN_CI

INJECTIONS = ('=HYPERLINK("//evil.example/x","点我")', "+1 更换路灯", "-2 维修台账", "@SUM(A1:A9)")
SCRIPT_TITLE = "<script>alert(1)</script>门禁损坏"
PIPE_TITLE = "路灯|损坏\n第二行"


@pytest.fixture(scope="module")
def report() -> Report:
    per_unit = {
        "社会事务科": Counts(tasks=6, closed=4, in_progress=1, submitted=1, closed_with_deadline=4, closed_on_time=3),
        "阳光社区党支部": Counts(
            tasks=5, closed=1, in_progress=3, reviewed=1, overdue=2, closed_with_deadline=1, closed_on_time=0
        ),
        "综合办公室": Counts(tasks=3, in_progress=2, submitted=1, overdue=1),  # nothing closed: no on-time rate
        "IT Office": Counts(tasks=2, closed=2, closed_with_deadline=2, closed_on_time=2),
    }
    totals = sum(per_unit.values(), Counts())
    period = Period("month", date(2026, 11, 1), date(2026, 11, 30))
    previous = Previous(
        period.previous(),
        Counts(tasks=9, closed=3, in_progress=5, overdue=2),
        {
            "社会事务科": Counts(tasks=5, closed=2, in_progress=3, overdue=1),
            "阳光社区党支部": Counts(tasks=4, closed=1, in_progress=2, overdue=1),
        },
    )
    return Report(
        as_of=date(2026, 11, 30),
        period=period,
        totals=totals,
        units=rank_units(per_unit, totals),
        overdue_tasks=[
            OverdueTask("ZG-2026-0003", INJECTIONS[0], "阳光社区党支部", "张伟", date(2026, 10, 31), 21, 3),
            OverdueTask("ZG-2026-0007", SCRIPT_TITLE, "阳光社区党支部", None, date(2026, 11, 20), 6, 2),
            OverdueTask("ZG-2026-0011", PIPE_TITLE, "综合办公室", "王军", date(2026, 11, 27), 1, 1),
        ],
        overdue_omitted=4,
        new_in_period=[
            PeriodTask("ZG-2026-0012", INJECTIONS[1], "社会事务科", date(2026, 11, 5)),
            PeriodTask("ZG-2026-0013", INJECTIONS[2], "IT Office", date(2026, 11, 6)),
        ],
        closed_in_period=[PeriodTask("ZG-2026-0001", INJECTIONS[3], "社会事务科", date(2026, 11, 18))],
        extensions_in_period=[
            PeriodTask("ZG-2026-0005", "老旧小区改造", "社会事务科", date(2026, 11, 10), "2026-11-15 → 2026-12-31")
        ],
        by_category={"民生问题": Counts(tasks=10, closed=5, in_progress=4, overdue=2), "领导班子问题": Counts(tasks=6)},
        by_campaign={"2026年主题教育整改": totals},
        previous=previous,
        generated_at=datetime(2026, 12, 1, 9, 0),
        notes=["2027年节假日安排尚未公布，按周一至周五计算工作日"],
    )


@pytest.fixture(scope="module")
def chart_png(report: Report) -> bytes:
    return unit_chart(report, "zh").png


# --- what each format says a unit's figures are ----------------------------------------------------

Figures = dict[str, tuple[str, str, str, str, str]]  # unit -> tasks, closed, overdue, completion, rank
HEADERS = {
    "zh": ("单位", "任务数", "已销号", "逾期", "完成率", "排名"),
    "en": ("unit", "tasks", "closed", "overdue", "completion rate", "rank"),
}
OVERDUE_TITLE = {"zh": "逾期任务点名通报", "en": "Overdue tasks named"}
UNITS_TITLE = {"zh": "各单位进展", "en": "Progress by unit"}


def expected(report: Report) -> Figures:
    return {
        u.unit: (
            str(u.counts.tasks),
            str(u.counts.closed),
            str(u.counts.overdue),
            pct(u.counts.completion_rate),
            str(u.rank),
        )
        for u in report.units
    }


def from_grid(header: list[str], rows: list[list[str]], lang: Lang) -> Figures:
    """Read the units out of a table given as text, by column label; the 合计 row is not a unit."""
    unit, tasks, closed, overdue, rate, rank = (header.index(h) for h in HEADERS[lang])
    return {r[unit]: (r[tasks], r[closed], r[overdue], r[rate], r[rank]) for r in rows if r[rank] != ""}


def csv_sections(data: bytes) -> dict[str, list[list[str]]]:
    """Each section follows a blank line: its title row, then the header, the rows and maybe a note row."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    out: dict[str, list[list[str]]] = {}
    body: list[list[str]] | None = None
    for before, row in zip([[], *rows[:-1]], rows, strict=True):
        if before == [] and row:
            body = out.setdefault(row[0], [])
        elif row and body is not None:
            body.append(row)
    return out


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Each '## title' with its pipe table; a cell's escaped '\\|' stays inside the cell."""
    out: dict[str, list[list[str]]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
            out[title] = []
        elif line.startswith("|") and not line.startswith("|---"):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            out[title].append([c.strip().strip("*") for c in cells])
    return out


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.row_classes: list[list[str]] = []
        self.attrs_seen: list[tuple[str, str, str | None]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs_seen += [(tag, k, v) for k, v in attrs]
        if tag == "table":
            self.tables.append([])
            self.row_classes.append([])
        elif tag == "tr":
            self.tables[-1].append([])
            self.row_classes[-1].append(dict(attrs).get("class") or "")
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_page(data: bytes) -> _Page:
    page = _Page()
    page.feed(data.decode("utf-8"))
    return page


def xlsx_figures(data: bytes, lang: Lang) -> Figures:
    ws = openpyxl.load_workbook(io.BytesIO(data))[UNITS_TITLE[lang]]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = [str(h) for h in rows[0]]
    unit, tasks, closed, overdue, rate, rank = (header.index(h) for h in HEADERS[lang])
    return {
        r[unit]: (str(r[tasks]), str(r[closed]), str(r[overdue]), pct(r[rate]), str(r[rank]))
        for r in rows[1:]
        if r[rank] is not None
    }


def is_chart(table: Any) -> bool:
    """The Word chart is a table of shaded cells, captioned with the chart's title."""
    return bool(table._tbl.xpath("./w:tblPr/w:tblCaption"))


def docx_grid(data: bytes, report: Report, title: str) -> tuple[list[str], list[list[str]]]:
    """The Word tables come in section order; a section without rows has a note instead of a table."""
    tabled = [s.title for s in sections(report, "zh") if s.rows]
    table = [t for t in docx.Document(io.BytesIO(data)).tables if not is_chart(t)][tabled.index(title)]
    rows = [[c.text for c in r.cells] for r in table.rows]
    return rows[0], rows[1:]


# --- the same numbers everywhere --------------------------------------------------------------------


def test_every_format_carries_the_units_figures_of_the_report(report: Report, chart_png: bytes) -> None:
    want = expected(report)
    assert len(want) == 4 and any(u.counts.on_time_rate is None for u in report.units)

    csv_units = csv_sections(render(report, "csv", "zh"))[UNITS_TITLE["zh"]]
    assert from_grid(csv_units[0], csv_units[1:], "zh") == want

    md_units = markdown_tables(render(report, "markdown", "zh").decode())[UNITS_TITLE["zh"]]
    assert from_grid(md_units[0], md_units[1:], "zh") == want

    html_units = html_page(render(report, "html", "zh")).tables[0]
    assert from_grid(html_units[0], html_units[1:], "zh") == want

    header, rows = docx_grid(render(report, "docx", "zh"), report, UNITS_TITLE["zh"])
    assert from_grid(header, rows, "zh") == want

    assert xlsx_figures(render(report, "xlsx", "zh"), "zh") == want

    units = json.loads(render(report, "json", "zh"))["units"]
    assert {
        u["unit"]: (str(u["tasks"]), str(u["closed"]), str(u["overdue"]), pct(u["completion_rate"]), str(u["rank"]))
        for u in units
    } == want


def test_units_are_listed_in_rank_order_with_the_lagging_ones_marked(report: Report) -> None:
    grid = csv_sections(render(report, "csv", "zh"))[UNITS_TITLE["zh"]]
    header, rows = grid[0], grid[1:]
    ranks = [int(r[header.index("排名")]) for r in rows if r[header.index("排名")]]
    assert ranks == sorted(ranks) and len(ranks) == 4
    lagging = {r[header.index("单位")] for r in rows if r[header.index("滞后")] == "滞后"}
    assert lagging == {u.unit for u in report.units if u.lagging} == {"阳光社区党支部", "综合办公室"}
    assert rows[-1][header.index("单位")] == "合计" and rows[-1][header.index("任务数")] == str(report.totals.tasks)
    none_rate = next(r for r in rows if r[header.index("单位")] == "综合办公室")[header.index("按期完成率")]
    assert none_rate == "—"


def test_every_format_names_the_same_overdue_tasks_and_how_many_were_left_out(report: Report, chart_png: bytes) -> None:
    codes = [o.code for o in report.overdue_tasks]
    more = f"及其他{report.overdue_omitted}项"

    csv_text = render(report, "csv", "zh")
    grid = csv_sections(csv_text)[OVERDUE_TITLE["zh"]]
    assert [r[0] for r in grid[1 : 1 + len(codes)]] == codes
    assert grid[-1] == [more]

    md = render(report, "markdown", "zh").decode()
    assert [r[0] for r in markdown_tables(md)[OVERDUE_TITLE["zh"]][1:]] == codes
    assert f"*{more}*" in md

    html = html_page(render(report, "html", "zh"))
    assert [r[0] for r in html.tables[1][1:]] == codes
    assert html.row_classes[1][1:] == ["overdue"] * len(codes)

    docx_bytes = render(report, "docx", "zh")
    assert [r[0] for r in docx_grid(docx_bytes, report, OVERDUE_TITLE["zh"])[1]] == codes
    assert more in [p.text for p in docx.Document(io.BytesIO(docx_bytes)).paragraphs]

    ws = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", "zh")))[OVERDUE_TITLE["zh"]]
    assert [ws.cell(row=r, column=1).value for r in range(2, 2 + len(codes))] == codes
    assert more in [c.value for c in ws["A"]]

    data = json.loads(render(report, "json", "zh"))
    assert [o["code"] for o in data["overdue_tasks"]] == codes and data["overdue_tasks_omitted"] == 4

    assert "and 4 more" in render(report, "markdown", "en").decode()


def test_change_since_the_previous_period_matches_the_json(report: Report) -> None:
    grid = csv_sections(render(report, "csv", "en"))["Change since the previous period"]
    header, rows = grid[0], grid[1:-1]
    change = json.loads(render(report, "json", "en"))["previous_period"]
    by_unit = {r[0]: r for r in rows}
    for u in change["units"]:
        row = by_unit[u["unit"]]
        points = u["completion_rate_points"]
        assert row[header.index("change (points)")] == (
            "—" if points is None else f"{points:+.1f}".replace("+0.0", "0.0")
        )
        assert row[header.index("overdue before")] == str(u["overdue"])
    total = by_unit["total"]
    assert total[header.index("change (points)")] == f"{change['change']['completion_rate_points']:+.1f}"
    assert total[header.index("change in overdue")] == f"{change['change']['overdue']:+d}"
    assert grid[-1] == [f"previous period: {report.previous.period.label('en')}"]


def test_period_lists_cut_at_the_limit_say_how_many_more(report: Report) -> None:
    cut = replace(report, new_total=len(report.new_in_period) + 5, closed_total=1, extensions_total=0)
    tables = markdown_tables(render(cut, "markdown", "en").decode())
    assert len(tables["New this period"]) == 1 + len(report.new_in_period)
    md = render(cut, "markdown", "en").decode()
    assert md.count("*and 5 more*") == 1 and "*and 4 more*" in md  # new tasks; the overdue ones
    assert "this period 7 new" in md


def test_a_stored_circular_renders_again_to_the_same_document(report: Report) -> None:
    again = from_dict(json.loads(render(report, "json", "zh")))
    for fmt in ("markdown", "csv", "html", "json"):
        assert render(again, fmt, "zh") == render(report, fmt, "zh"), fmt


# --- CSV --------------------------------------------------------------------------------------------


def test_csv_opens_in_excel_as_chinese_and_runs_no_formula(report: Report) -> None:
    data = render(report, "csv", "zh")
    assert data.startswith(b"\xef\xbb\xbf")
    cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
    for title in map(short_title, INJECTIONS):  # a long title is cut, and still cannot run
        assert "'" + title in cells
        assert title not in cells
    # A change in a count is ours and stays a number.
    change = csv_sections(data)["与上期对比"]
    assert change[-2][change[0].index("逾期变化")] == "+1"


# --- XLSX -------------------------------------------------------------------------------------------


def test_xlsx_sheets_are_typed_frozen_and_highlighted(report: Report) -> None:
    data = render(report, "xlsx", "zh")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "总体情况"
    assert headline(report, "zh") in [c.value for row in wb["总体情况"].iter_rows() for c in row]
    for name in wb.sheetnames[1:]:
        assert wb[name].freeze_panes == "A2", name
        assert wb[name]["A1"].font.b
    ws = wb[UNITS_TITLE["zh"]]
    header = [c.value for c in ws[1]]
    rate_col = header.index("完成率") + 1
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=rate_col)
        assert isinstance(cell.value, (int, float)) and cell.number_format == "0.0%"
    red_units = {u.unit for u in report.units if u.light == "red"}
    for row in ws.iter_rows(min_row=2):
        fill = row[0].fill.fgColor.rgb
        assert (row[1].value in red_units) == str(fill).endswith("FFC7CE"), row[1].value
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert widths["B"] >= 2 * len("阳光社区党支部")  # CJK characters count double
    overdue = wb[OVERDUE_TITLE["zh"]]
    assert all(str(c.fill.fgColor.rgb).endswith("FFC7CE") for c in overdue[2])


def test_xlsx_keeps_formula_like_titles_as_text(report: Report) -> None:
    data = render(report, "xlsx", "zh")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = {c.value: c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for title in map(short_title, INJECTIONS):
        cell = cells[title]
        assert cell.data_type != "f" and cell.quotePrefix, title
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert not any("<f>" in s or "<f " in s for s in sheets)


# --- DOCX -------------------------------------------------------------------------------------------


def test_docx_is_a_circular_with_title_headline_tables_and_chart(report: Report) -> None:
    data = render(report, "docx", "zh", issuer="县委督查室")
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    # Unnumbered (no 期号 given): the masthead with the office and the day it was generated, then the title.
    assert texts[0] == "县委督查室　　2026年12月1日"
    assert texts[1] == "整改任务进展情况通报（2026年11月1日至2026年11月30日）"
    assert texts[2] == "统计时段：2026年11月1日至2026年11月30日"
    assert headline(report, "zh") in texts
    assert texts[-2:] == ["县委督查室", "2026年12月1日"]  # 落款: the issuer unless a signature is given
    assert len(document.inline_shapes) == 0  # the chart is Word's own table, not a picture drawn with a font
    fonts = document.paragraphs[1].runs[0]._element.xpath("./w:rPr/w:rFonts")
    assert fonts and fonts[0].get(qn("w:eastAsia")) == "黑体"  # Word would set Chinese in a Latin font otherwise
    assert all(t.style is not None and t.style.name == "Table Grid" for t in document.tables if not is_chart(t))
    overdue_row = docx_grid(data, report, OVERDUE_TITLE["zh"])[1][0]
    assert overdue_row[1] == short_title(INJECTIONS[0]) == '=HYPERLINK("//evil.example/x"…'
    # The chart: one row per unit in rank order, its name, its bar as shaded cells, its completion rate.
    charts = [t for t in document.tables if is_chart(t)]
    assert len(charts) == 1
    ranked = sorted(report.units, key=lambda u: u.rank)
    rows = charts[0].rows
    assert [r.cells[0].text for r in rows] == [u.unit for u in ranked]
    assert [r.cells[-1].text for r in rows] == [pct(u.counts.completion_rate) for u in ranked]
    for r, u in zip(rows, ranked, strict=True):
        fills = [c._tc.xpath("./w:tcPr/w:shd/@w:fill") for c in r.cells[1:-1]]
        shaded = [f[0] for f in fills if f]
        assert ("C62828" in shaded) == bool(u.counts.overdue) and ("2E7D32" in shaded) == bool(u.counts.closed)
    assert "■已销号　■整改中（未逾期）　■逾期　" in texts
    no_chart = docx.Document(io.BytesIO(render(report, "docx", "zh", chart=False)))
    assert not any(is_chart(t) for t in no_chart.tables)


# --- HTML -------------------------------------------------------------------------------------------


def test_html_is_standalone_escaped_and_draws_the_chart_in_svg(report: Report) -> None:
    data = render(report, "html", "zh")
    text = data.decode("utf-8")
    assert '<meta charset="utf-8">' in text
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = html_page(data)
    fetched = [(tag, v) for tag, k, v in page.attrs_seen if k in ("src", "href")]
    assert fetched == []  # nothing to fetch: the chart is inline SVG, its text set by the reader's browser
    assert not any(tag == "link" for tag, _, _ in page.attrs_seen) and "@import" not in text and "url(" not in text
    assert SCRIPT_TITLE in [r[1] for r in page.tables[1]]
    svg = text[text.index("<svg") : text.index("</svg>") + 6]
    assert "data:image" not in text and "<img" not in text
    for u in report.units:
        assert f">{html.escape(u.unit)}</text>" in svg and f">{pct(u.counts.completion_rate)}</text>" in svg
    assert ">整改中（未逾期）</text>" in svg
    ElementTree.fromstring(svg)  # well-formed XML, so it also stands as an .svg file
    assert "<svg" not in render(report, "html", "zh", chart=False).decode()


# --- Markdown ---------------------------------------------------------------------------------------


def test_markdown_tables_survive_pipes_and_newlines_in_titles(report: Report) -> None:
    md = render(report, "markdown", "zh").decode()
    assert md.startswith("# 整改任务进展情况通报（")
    rows = markdown_tables(md)[OVERDUE_TITLE["zh"]]
    assert all(len(r) == len(rows[0]) for r in rows)
    assert "路灯\\|损坏<br>第二行" in [r[1] for r in rows]
    assert "&lt;script>" in md


# --- the chart --------------------------------------------------------------------------------------


def _png_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return image.size


def test_chart_in_chinese_uses_a_font_that_draws_chinese(report: Report) -> None:
    if find_cjk_font() is None:
        reason = "no CJK font installed (apt-get install fonts-noto-cjk or fonts-wqy-microhei)"
        if IN_CI:
            pytest.fail(reason + "; .ci/run installs one")
        pytest.skip(reason)
    chart = unit_chart(report, "zh")
    assert _png_size(chart.png) == CHART_SIZE == (1200, 700)
    assert chart.lang == "zh" and chart.warnings == ()
    glyphs = FT2Font(chart.font.path).get_charmap()
    assert all(ord(ch) in glyphs for ch in "各单位整改进展阳光社区党支部")


def test_chart_without_a_chinese_font_falls_back_to_english_and_rank_numbers(report: Report) -> None:
    chart = unit_chart(report, "zh", cjk_font=False)
    assert _png_size(chart.png) == CHART_SIZE
    assert chart.lang == "en"
    assert len(chart.warnings) == 2
    assert "DUBAN_CJK_FONT" in chart.warnings[0] and "英文" in chart.warnings[0]
    assert "#1" in chart.warnings[1]
    assert not chart.font.draws("中")
    english = unit_chart(report, "en", cjk_font=False)
    assert len(english.warnings) == 1 and "rank" in english.warnings[0]


def test_chart_font_can_be_named_by_environment(
    report: Report, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-font.ttf"
    bogus.write_bytes(b"no glyphs here")
    monkeypatch.setenv(FONT_ENV, str(bogus))
    chart = unit_chart(report, "en")
    assert any(str(bogus) in w for w in chart.warnings)
    installed = find_cjk_font()
    if installed is not None:
        monkeypatch.setenv(FONT_ENV, installed.path)
        assert unit_chart(report, "zh").font.path == installed.path


# --- languages, the terminal and the dispatcher -------------------------------------------------------


@pytest.mark.parametrize("fmt", ["markdown", "csv", "html"])
def test_labels_follow_the_language(report: Report, fmt: str) -> None:
    zh = render(report, fmt, "zh").decode("utf-8-sig")
    en = render(report, fmt, "en").decode("utf-8-sig")
    for word in ("各单位进展", "完成率", "逾期任务点名通报", "责任领导", "按问题类别", "红", "滞后", "2026年11月27日"):
        assert word in zh and word not in en, word
    for word in ("Progress by unit", "completion rate", "Overdue tasks named", "lead leader", "By category", "lagging"):
        assert word in en and word not in zh, word
    assert "Rectification progress circular (2026-11-01 to 2026-11-30)" in en
    assert "2026-11-27" in en


def test_terminal_shows_every_section_with_overdue_rows_in_red(report: Report) -> None:
    renderables = render_terminal(report, "en")
    tables = [r for r in renderables if isinstance(r, Table)]
    units = tables[0]
    red = {u.unit for u in report.units if u.light == "red"}
    ranked = sorted(report.units, key=lambda u: u.rank)
    assert [row.style for row in units.rows[:-1]] == ["red" if u.unit in red else None for u in ranked]
    console = Console(record=True, width=220, color_system=None)
    for r in renderables:
        console.print(r)
    out = console.export_text()
    assert headline(report, "en")[:40] in out
    for u in report.units:
        assert u.unit in out and pct(u.counts.completion_rate) in out
    assert SCRIPT_TITLE in out


def test_dispatcher_knows_every_format_and_refuses_others(report: Report) -> None:
    assert set(FORMATS) == set(MEDIA_TYPES) == set(SUFFIXES)
    assert MEDIA_TYPES["docx"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    for fmt in FORMATS:
        assert render(report, fmt, "en"), fmt
    assert json.loads(render(report, "json", "zh"))["headline"] == headline(report, "zh")
    with pytest.raises(InvalidInput) as refused:
        render(report, "pdf", "en")
    assert "format" in refused.value.render("en") and "docx" in refused.value.render("en")
