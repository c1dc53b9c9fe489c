"""The rows a page draws fifty at a time (the ledger's table, the inbox's lists), written in Python.

Why not in the template: at fifty rows of a dozen values, Jinja's attribute lookups, escapes and the
Markup objects it makes for each value cost as much as the ledger's query (about a third of the ledger
page's time over HTTP). Every value is escaped here exactly as Jinja's autoescape would (``escape_text``);
the pages' other parts stay in their templates.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from markupsafe import Markup

from .context import escape_text, light_badge, templates


def _due(s: Any) -> str:
    return escape_text(s.deadline or s.deadline_expr or "")


def ledger_rows(page: Any, tr: Callable[..., str]) -> Markup:
    """The ledger table's body rows (``_ledger_table.html``), one per item of the page."""
    out = []
    for it in page.items:
        r = it.row
        code = escape_text(r.code)
        category = f' <span class="unit">{escape_text(r.category)}</span>' if r.category else ""
        out.append(
            f'<tr class="{escape_text(it.light or "none")}"><td class="code"><a href="/tasks/{code}">{code}</a></td>'
            f'<td><a href="/tasks/{code}">{escape_text(r.title)}</a>{category}</td>\n'
            f"<td>{escape_text(tr(it.state_label))}</td><td>{light_badge(it, tr)}</td>"
            f'<td class="wide">{escape_text(r.unit)}</td><td class="wide">{_due(r)}</td>'
            f'<td class="wide">{escape_text(r.campaign or "")}</td></tr>\n'
        )
    return Markup("".join(out))


def inbox_rows(items: Any, tr: Callable[..., str]) -> Markup:
    """The inbox's list of things to do now (``inbox.html``), one ``<li>`` per item."""
    out = []
    for item in items:
        s = item.task
        code = escape_text(s.code)
        out.append(
            f'    <li class="{escape_text(s.light or "none")}">\n'
            f'      <a href="/tasks/{code}"><b>{code}</b> {escape_text(s.title)}</a>\n'
            f'      <div class="meta"><span class="state">{escape_text(tr(s.state_label))}</span> {light_badge(s, tr)} '
            f'<span class="unit">{escape_text(s.unit)}</span> <span>{_due(s)}</span></div>\n'
            "    </li>\n"
        )
    return Markup("".join(out))


def task_links(tasks: Any) -> Markup:
    """A plain list of tasks by code, title and unit (the approval queue), one ``<li>`` each."""
    out = []
    for s in tasks:
        code = escape_text(s.code)
        out.append(
            f'<li><a href="/tasks/{code}"><b>{code}</b> {escape_text(s.title)}</a> '
            f'<span class="unit">{escape_text(s.unit)}</span></li>'
        )
    return Markup("".join(out))


def overdue_rows(tasks: Any, may_remind: Collection[str], csrf: str, tr: Callable[..., str]) -> Markup:
    """The overdue tasks named in the inbox, each with its light and, where the person may, a one-click 催办
    (htmx posts it and swaps the button for the answer)."""
    token = escape_text(csrf)
    label = escape_text(tr("催办", "Remind"))
    out = []
    for s in tasks:
        code = escape_text(s.code)
        remind = (
            f'<span id="remind-{code}"><button class="small" hx-post="/tasks/{code}/remind" '
            f'hx-vals=\'{{"csrf": "{token}"}}\' hx-target="#remind-{code}" hx-swap="innerHTML">{label}</button></span>'
            if s.code in may_remind
            else ""
        )
        out.append(
            f'    <li><a href="/tasks/{code}"><b>{code}</b> {escape_text(s.title)}</a> '
            f'<span class="unit">{escape_text(s.unit)}</span> {light_badge(s, tr)}\n    {remind}\n    </li>\n'
        )
    return Markup("".join(out))


def capped(total: int, is_capped: bool, tr: Callable[..., str]) -> str:
    """A count that stopped at its cap (``total`` is then cap + 1) as "超过 cap", otherwise the count."""
    return f"{tr('超过', 'more than')} {total - 1:,}" if is_capped else str(total)


templates.env.globals["ledger_rows"] = ledger_rows
templates.env.globals["capped"] = capped
templates.env.globals["inbox_rows"] = inbox_rows
templates.env.globals["task_links"] = task_links
templates.env.globals["overdue_rows"] = overdue_rows
