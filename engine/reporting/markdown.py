"""The circular as Markdown: for a chat robot (企业微信, 钉钉), a wiki or a plain-text mail."""

from __future__ import annotations

from duban.engine.domain.report import Report, headline, notes
from duban.engine.domain.text import Lang

from . import labels as L
from .tables import Section, row_texts, sections


def escape(text: str) -> str:
    """A '|' in a task title would split the cell and a newline would end the table; '<' would let raw HTML through a renderer."""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
    return text.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def _table(section: Section, lang: Lang) -> list[str]:
    lines = [f"## {escape(section.title)}", ""]
    if section.rows:
        lines.append("| " + " | ".join(escape(c.label) for c in section.columns) + " |")
        lines.append("|" + "|".join("---:" if c.numeric else "---" for c in section.columns) + "|")
        for row in section.rows:
            cells = [escape(t) for t in row_texts(section, row, lang)]
            if row.total:
                cells = [f"**{c}**" if c else c for c in cells]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if section.note:
        lines += [f"*{escape(section.note)}*", ""]
    return lines


def render_markdown(report: Report, lang: Lang) -> str:
    lines = [f"# {escape(L.title(report, lang))}", "", escape(headline(report, lang)), ""]
    if notes(report, lang):
        lines += [f"**{L.NOTES.pick(lang)}**", ""] + [f"- {escape(n)}" for n in notes(report, lang)] + [""]
    for section in sections(report, lang):
        lines += _table(section, lang)
    return "\n".join(lines).rstrip("\n") + "\n"
