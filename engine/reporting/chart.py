"""The per-unit progress chart: closed, open and overdue tasks, units in rank order.

A chart in Chinese needs a font with Chinese glyphs; without one matplotlib
draws empty boxes (豆腐块). So the font is looked for, checked glyph by glyph,
and where a label cannot be drawn the chart says it differently (English words,
a rank number) and returns a warning rather than a broken picture.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import MaxNLocator

from duban.engine.domain.report import Report, UnitLine, pct
from duban.engine.domain.text import Bilingual, Lang

from . import labels as L

CHART_SIZE = (1200, 700)  # pixels, width × height: 12 × 7 inches at 100 dpi
_DPI = 100
_FIGSIZE = (CHART_SIZE[0] / _DPI, CHART_SIZE[1] / _DPI)
FONT_ENV = "DUBAN_CJK_FONT"  # a font file to use for Chinese, ahead of the installed ones

CLOSED_COLOUR = "#2e7d32"
OPEN_COLOUR = "#90a4ae"
OVERDUE_COLOUR = "#c62828"

# Families known to carry Simplified Chinese, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Hiragino Sans GB",
    "Heiti SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Noto Serif CJK SC",
)
# File names that suggest Chinese glyphs, for fonts whose family is not listed above.
_FILE_HINTS = ("cjk", "han", "wqy", "hei", "song", "kai", "ming", "yahei", "msyh", "fang", "fallback", "gothic")
NO_CJK_FONT = Bilingual(
    "未找到可显示中文的字体，统计图改用英文标注；请安装中文字体（如 fonts-noto-cjk）或设置 DUBAN_CJK_FONT",
    "no font with Chinese glyphs found, so the chart is labelled in English; install one (e.g. fonts-noto-cjk) or set DUBAN_CJK_FONT",
)
UNITS_BY_RANK = Bilingual(
    "字体无法显示部分单位名称，统计图中以排名（#1、#2…）代替，与各单位进展表对应",
    "the font cannot draw some unit names, so their bars are labelled by rank (#1, #2, …) as in the units table",
)
_PROBE = "中文整改通报已销号逾期年月日"


@dataclass(frozen=True, slots=True)
class Font:
    path: str
    family: str
    glyphs: frozenset[int] = field(repr=False)

    def draws(self, text: str) -> bool:
        return all(ord(ch) in self.glyphs or ch.isspace() for ch in text)


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    font: Font  # the font every label is set in
    lang: Lang  # the language of the labels: English when Chinese could not be drawn
    warnings: tuple[str, ...]


@cache
def _load(path: str) -> Font | None:
    try:
        face = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return None
    return Font(path, face.family_name, frozenset(face.get_charmap()))


def _cjk(path: str) -> Font | None:
    font = _load(path)
    return font if font is not None and font.draws(_PROBE) else None


@cache
def _installed_cjk_font() -> Font | None:
    found = _cjk_font_among(font_manager.fontManager.ttflist)
    if found is None:
        # matplotlib keeps its list of fonts in a cache made when it first ran; a font installed since (the
        # usual case on a server set up after duban) is not in it. Look at the system's fonts once more.
        for path in font_manager.findSystemFonts():
            if any(hint in Path(path).name.lower() for hint in _FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = _cjk_font_among(font_manager.fontManager.ttflist)
    return found


def _cjk_font_among(entries: list[Any]) -> Font | None:
    for family in CJK_FAMILIES:
        for entry in entries:
            if entry.name == family and (font := _cjk(entry.fname)):
                return font
    for entry in entries:
        if any(hint in Path(entry.fname).name.lower() for hint in _FILE_HINTS) and (font := _cjk(entry.fname)):
            return font
    return None


def find_cjk_font(warnings: list[str] | None = None) -> Font | None:
    """The font named by DUBAN_CJK_FONT if it draws Chinese, else the best installed one."""
    override = os.environ.get(FONT_ENV)
    if override:
        font = _cjk(override)
        if font is not None:
            return font
        if warnings is not None:
            warnings.append(f"{FONT_ENV}={override}: not a readable font with Chinese glyphs; ignored")
    return _installed_cjk_font()


def _default_font() -> Font:
    font = _load(font_manager.findfont(FontProperties()))
    assert font is not None, "matplotlib's own default font cannot be read"
    return font


def _bar_labels(units: list[UnitLine], font: Font) -> tuple[list[str], bool]:
    """Unit names, or rank numbers for the names the font cannot draw (a letter tells tied ranks apart)."""
    ties: dict[int, int] = {}
    for u in units:
        ties[u.rank] = ties.get(u.rank, 0) + 1
    seen: dict[int, int] = {}
    out, replaced = [], False
    for u in units:
        if font.draws(u.unit):
            out.append(u.unit)
            continue
        replaced = True
        seen[u.rank] = seen.get(u.rank, 0) + 1
        suffix = "abcdefghijklmnopqrstuvwxyz"[(seen[u.rank] - 1) % 26] if ties[u.rank] > 1 else ""
        out.append(f"#{u.rank}{suffix}")
    return out, replaced


def _texts(report: Report, lang: Lang) -> list[str]:
    return [
        L.CHART_TITLE.pick(lang).format(period=report.period.label(lang)),
        L.CLOSED.pick(lang),
        L.CHART_OPEN.pick(lang),
        L.OVERDUE_COUNT.pick(lang),
        L.CHART_AXIS.pick(lang),
    ]


def unit_chart(report: Report, lang: Lang, *, cjk_font: bool = True) -> Chart:
    """``cjk_font=False`` draws as if no Chinese font were installed (what a bare server has)."""
    warnings: list[str] = []
    font = (find_cjk_font(warnings) if cjk_font else None) or _default_font()
    drawn_in: Lang = lang
    if not all(font.draws(t) for t in _texts(report, lang)):
        warnings.append(NO_CJK_FONT.pick(lang))
        drawn_in = "en"
    units = sorted(report.units, key=lambda u: u.rank)
    names, replaced = _bar_labels(units, font)
    if replaced:
        warnings.append(UNITS_BY_RANK.pick(lang))
    return Chart(_draw(report, units, names, font, drawn_in), font, drawn_in, tuple(warnings))


def _draw(report: Report, units: list[UnitLine], names: list[str], font: Font, lang: Lang) -> bytes:
    def fp(size: float) -> FontProperties:
        return FontProperties(fname=font.path, size=size)

    fig = Figure(figsize=_FIGSIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = list(range(len(units)))
    closed = [u.counts.closed for u in units]
    open_ = [max(u.counts.open_not_overdue, 0) for u in units]
    overdue = [u.counts.overdue for u in units]
    title, closed_label, open_label, overdue_label, axis_label = _texts(report, lang)
    ax.barh(y, closed, color=CLOSED_COLOUR, label=closed_label)
    ax.barh(y, open_, left=closed, color=OPEN_COLOUR, label=open_label)
    ax.barh(
        y, overdue, left=[c + o for c, o in zip(closed, open_, strict=True)], color=OVERDUE_COLOUR, label=overdue_label
    )
    widest = max((u.counts.tasks for u in units), default=0)
    for pos, u in zip(y, units, strict=True):
        ax.text(u.counts.tasks + widest * 0.01, pos, pct(u.counts.completion_rate), va="center", fontproperties=fp(10))
    ax.set_xlim(0, max(widest, 1) * 1.12)
    ax.set_yticks(y, names, fontproperties=fp(max(6, min(12, 420 // max(len(units), 1)))))
    ax.tick_params(axis="x", labelsize=10)
    ax.invert_yaxis()  # rank 1 at the top
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(axis_label, fontproperties=fp(11))
    ax.set_title(title, fontproperties=fp(16))
    fig.legend(prop=fp(11), loc="outside lower center", ncols=3, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()
