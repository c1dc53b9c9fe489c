"""The per-unit chart as SVG: text is text, so the reader's browser sets the Chinese and the server needs no font.

Inline in the HTML circular and stored beside an issued circular (.svg). Escaped throughout: unit names are typed.
"""

from __future__ import annotations

from html import escape

from duban.engine.domain.report import Report
from duban.engine.domain.text import Lang

from .bars import CLOSED_COLOUR, OPEN_COLOUR, OVERDUE_COLOUR, bars, legend

WIDTH = 1200
ROW = 40  # pixels per unit
LABEL_WIDTH = 300  # the unit names, right-aligned against the bars
RATE_WIDTH = 100
TOP, BOTTOM = 70, 100
FONTS = "'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei','SimHei',sans-serif"


def unit_chart_svg(report: Report, lang: Lang) -> str:
    words = legend(report, lang)
    rows = bars(report)
    widest = max((b.total for b in rows), default=0)
    span = WIDTH - LABEL_WIDTH - RATE_WIDTH - 20
    height = TOP + ROW * max(len(rows), 1) + BOTTOM
    scale = span / widest if widest else 0.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(words.title)}" font-family="{FONTS}">',
        f"<title>{escape(words.title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{WIDTH // 2}" y="40" font-size="28" text-anchor="middle">{escape(words.title)}</text>',
    ]
    for i, bar in enumerate(rows):
        y = TOP + i * ROW
        out.append(
            f'<g class="bar"><text x="{LABEL_WIDTH - 12}" y="{y + ROW // 2 + 7}" font-size="20" '
            f'text-anchor="end">{escape(bar.unit)}</text>'
        )
        x = float(LABEL_WIDTH)
        for count, colour in ((bar.closed, CLOSED_COLOUR), (bar.open, OPEN_COLOUR), (bar.overdue, OVERDUE_COLOUR)):
            if count:
                w = count * scale
                out.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW - 8}" fill="{colour}"/>')
                x += w
        out.append(f'<text x="{x + 8:.1f}" y="{y + ROW // 2 + 7}" font-size="18">{escape(bar.rate)}</text></g>')
    axis_y = TOP + ROW * max(len(rows), 1)
    out.append(f'<line x1="{LABEL_WIDTH}" y1="{TOP}" x2="{LABEL_WIDTH}" y2="{axis_y}" stroke="#555"/>')
    out.append(f'<line x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + span}" y2="{axis_y}" stroke="#555"/>')
    step = max(1, -(-widest // 10))  # at most ten ticks, whole tasks
    for n in range(0, widest + 1, step):
        tx = LABEL_WIDTH + n * scale
        out.append(f'<text x="{tx:.1f}" y="{axis_y + 24}" font-size="17" text-anchor="middle">{n}</text>')
    out.append(
        f'<text x="{LABEL_WIDTH + span // 2}" y="{axis_y + 52}" font-size="19" text-anchor="middle">'
        f"{escape(words.axis)}</text>"
    )
    lx = WIDTH // 2 - 270
    for label, colour in ((words.closed, CLOSED_COLOUR), (words.open, OPEN_COLOUR), (words.overdue, OVERDUE_COLOUR)):
        out.append(f'<rect x="{lx}" y="{axis_y + 68}" width="20" height="20" fill="{colour}"/>')
        out.append(f'<text x="{lx + 28}" y="{axis_y + 85}" font-size="19">{escape(label)}</text>')
        lx += 190
    out.append("</svg>")
    return "\n".join(out)
