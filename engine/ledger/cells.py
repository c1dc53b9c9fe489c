"""Cell contents as offices type them: numbered measures in one cell, lists of units, row numbers.

A measures cell is one block of text, numbered by hand ("1. … 2. …",
"（1）…（2）…", "①…②…", "一是…二是…") on one line or several. The numbering
is the office's way of writing a list, so it is read as one: the markers are
found in sequence (1 before 2 before 3), which keeps "投入3.5万元" or "2处"
from being taken for a marker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime

from ..domain.textcheck import strip_blank

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CN_NUMERALS = "一二三四五六七八九十"
_MAX_ITEMS = 50
_TRAILING = "；;，,、 \t\n"
_LINE_BULLET = re.compile(r"^\s*(?:[-–—•·●▪*]|[（(]?\d{1,2}[.．、)）])\s*")

# Where a marker may start: the start of the cell, after a line break, a space or a punctuation mark.
_BEFORE = r"(?:^|(?<=[\s；;。，,、！!？?:：]))"


def _dot(k: int) -> str:
    return rf"{_BEFORE}{k}\s*[.．、)）](?!\d)"


def _paren(k: int) -> str:
    return rf"[（(]{k}[）)]"


def _circled(k: int) -> str:
    return re.escape(CIRCLED[k - 1]) if k <= len(CIRCLED) else r"(?!)"


def _cn(k: int) -> str:
    if k > len(CN_NUMERALS):
        return r"(?!)"
    return rf"{_BEFORE}{CN_NUMERALS[k - 1]}(?:是|、)"


_STYLES: tuple[Callable[[int], str], ...] = (_paren, _circled, _dot, _cn)
# Compiled once: a 100,000-row ledger splits 100,000 cells.
_FIRST = [re.compile(r"\s*" + style(1)) for style in _STYLES]
_NEXT = [[re.compile(style(k), re.M) for k in range(2, _MAX_ITEMS + 1)] for style in _STYLES]
_ANY_MARKER = re.compile(r"^\s*(?:[（(]1[）)]|①|1\s*[.．、)）]|一[是、])")


def split_measures(text: str | None) -> list[str]:
    """The measures of one cell, numbering removed; an unnumbered cell is one measure per line."""
    if text is None:
        return []
    text = text.strip()
    if not text:
        return []
    if not _ANY_MARKER.match(text):
        return [m for m in (_clean(_LINE_BULLET.sub("", line)) for line in text.splitlines()) if m]
    for s, style in enumerate(_STYLES):
        first = _FIRST[s].match(text)
        if not first:
            continue
        starts = [(first.start(), first.end())]
        pos = first.end()
        for pattern in _NEXT[s]:
            m = pattern.search(text, pos)
            if m is None:
                break
            starts.append((m.start(), m.end()))
            pos = m.end()
        if style is _cn and len(starts) < 2:
            continue  # "一" alone opens many sentences; only a sequence is a list
        items = []
        for i, (_s, e) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            items.append(text[e:end])
        return [m for m in (_clean(i) for i in items) if m]
    return [m for m in (_clean(_LINE_BULLET.sub("", line)) for line in text.splitlines()) if m]


def _clean(item: str) -> str:
    return item.strip().rstrip(_TRAILING).strip()


def numbered(measures: list[str]) -> str:
    """Measures written back into one cell, one numbered line each, as split_measures reads them."""
    return "\n".join(f"{i}. {m}" for i, m in enumerate(measures, 1))


_UNIT_SEPARATORS = re.compile(r"[、,，;；/／\n]+")


def split_units(text: str | None) -> list[str]:
    """Co-units listed in one cell: 阳光社区党支部、和平社区党支部."""
    if not text:
        return []
    return list(dict.fromkeys(u.strip() for u in _UNIT_SEPARATORS.split(text) if u.strip()))


def cell_text(value: object) -> str:
    """A cell as text: numbers without a spurious '.0', dates as ISO dates, the rest stripped.

    Stripped of invisible characters too (zero-width spaces, Hangul fillers…): a cell that only looks empty
    is empty, so a problem made of them is "missing" like a blank one, never a task nobody can see.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return strip_blank(str(value))


def row_number(value: str) -> str:
    """序号 as a key: full-width digits, '1.0' and '01' all read as 1; anything else as written."""
    if value.isdecimal():
        return str(int(value))
    text = unicodedata.normalize("NFKC", value).strip().rstrip(".、")
    if re.fullmatch(r"\d+(?:\.0+)?", text):
        return str(int(float(text)))
    return text


def is_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d+(?:\.0+)?", unicodedata.normalize("NFKC", value).strip().rstrip(".、")))


_SECTION_NUMBER = re.compile(r"^\s*(?:[（(]?[一二三四五六七八九十]+[）)、.．]?|\d+[、.．])\s*")
_SECTION_COUNT = re.compile(r"\s*[（(]\s*(?:共)?\s*\d+\s*(?:个|项|条|件)?\s*[）)]\s*$")


def section_title(text: str) -> str:
    """'一、民生问题（5个）' → '民生问题': a section row of a ledger names the category of the rows below."""
    title = _SECTION_NUMBER.sub("", text.strip(), count=1).rstrip("：: ")
    return _SECTION_COUNT.sub("", title).strip().rstrip("：:").strip()
