"""The one guard against formula injection, for every spreadsheet and CSV duban writes.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
runs as a formula in Excel or WPS (CSV injection: a task title such as
``=HYPERLINK(…)`` typed by anyone who may assign). The ledger export and the
circular's XLSX/CSV both write words from the ledger, so both use this guard;
the importer undoes the quote with :func:`unquote` so a round trip keeps the text.
"""

from __future__ import annotations

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would take this text for a formula."""
    return text.startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """For CSV: a leading apostrophe makes spreadsheet programs take the cell as text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unquote(text: str) -> str:
    """Undo the apostrophe an export puts before a cell that would otherwise run as a formula."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text
