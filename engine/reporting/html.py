"""The circular as one self-contained web page: it opens offline and from a mail attachment.

Styles are inline and the chart is inline SVG, so the page fetches nothing and
the reader's browser sets the chart's Chinese: the server needs no font.
Every piece of text is escaped, since task titles are typed by users.
"""

from __future__ import annotations

from html import escape

from duban.engine.domain.report import Report, headline, notes
from duban.engine.domain.text import Lang

from . import labels as L
from .cells import date_text
from .letterhead import Letterhead
from .svg_chart import unit_chart_svg
from .tables import Section, row_texts, sections

_NUMERALS = "一二三四五六七八九十"
_STYLE = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
       margin: 2em auto; max-width: 72em; color: #222; line-height: 1.5; }
h1 { text-align: center; font-size: 1.6em; }
p.period { text-align: center; color: #555; }
p.headline { text-indent: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #999; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #d9e1f2; }
td.num { text-align: right; white-space: nowrap; }
tr.overdue td { background: #ffc7ce; color: #9c0006; }
tr.total td { font-weight: bold; }
p.note { font-style: italic; color: #555; }
p.issue-no, p.masthead { text-align: center; margin: 0.2em 0; }
p.masthead { border-bottom: 2px solid #c00; padding-bottom: 0.5em; }
p.signature { text-align: right; margin: 0.2em 0; }
p.cc { border-top: 1px solid #999; border-bottom: 1px solid #999; padding: 0.3em 0; margin-top: 2em; }
figure { margin: 1em 0; text-align: center; }
figure svg { max-width: 100%; height: auto; }
"""


def heading_number(n: int, lang: Lang) -> str:
    """一、二、… as the Word circular numbers its parts."""
    return f"{_NUMERALS[n - 1]}、" if lang == "zh" and n <= len(_NUMERALS) else f"{n}. "


def _table(section: Section, lang: Lang, n: int) -> list[str]:
    out = [f'<section id="{escape(section.key)}">', f"<h2>{escape(heading_number(n, lang) + section.title)}</h2>"]
    if section.rows:
        out.append("<table>")
        out.append("<thead><tr>" + "".join(f"<th>{escape(c.label)}</th>" for c in section.columns) + "</tr></thead>")
        out.append("<tbody>")
        for row in section.rows:
            classes = " ".join(name for name, on in (("overdue", row.highlight), ("total", row.total)) if on)
            tr = f'<tr class="{classes}">' if classes else "<tr>"
            cells = "".join(
                f'<td class="num">{escape(text)}</td>' if column.numeric else f"<td>{escape(text)}</td>"
                for text, column in zip(row_texts(section, row, lang), section.columns, strict=True)
            )
            out.append(tr + cells + "</tr>")
        out.append("</tbody></table>")
    if section.note:
        out.append(f'<p class="note">{escape(section.note)}</p>')
    out.append("</section>")
    return out


def _chart(report: Report, lang: Lang) -> str:
    return f'<figure class="chart">{unit_chart_svg(report, lang)}</figure>'


def render_html(report: Report, lang: Lang, *, chart: bool = True, letterhead: Letterhead | None = None) -> str:
    """The same layout as the Word circular: 第N期, office and date, title, numbered sections, 落款, 抄送."""
    head = letterhead or Letterhead()
    title = L.title(report, lang)
    period = L.period_line(report, lang)
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
    ]
    number = head.number(lang)
    if number:
        out.append(f'<p class="issue-no">{escape(number)}</p>')
    out += [
        f'<p class="masthead">{escape(head.masthead(report, lang))}</p>',
        f"<h1>{escape(title)}</h1>",
        f'<p class="period">{escape(period)}</p>',
        f"<h2>{escape(heading_number(1, lang) + L.SUMMARY.pick(lang))}</h2>",
        f'<p class="headline">{escape(headline(report, lang))}</p>',
    ]
    if notes(report, lang):
        out.append(f"<p><strong>{escape(L.NOTES.pick(lang))}</strong></p>")
        out.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes(report, lang)) + "</ul>")
    for n, section in enumerate(sections(report, lang), start=2):
        out += _table(section, lang, n)
        if section.key == "units" and chart and report.units:
            out.append(_chart(report, lang))
    signed = head.signed_by()
    if signed:
        out.append(f'<p class="signature">{escape(signed)}</p>')
        out.append(f'<p class="signature">{escape(date_text(head.day(report), lang))}</p>')
    cc = head.cc_line(lang)
    if cc:
        out.append(f'<p class="cc">{escape(cc)}</p>')
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
