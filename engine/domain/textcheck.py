"""Checks on free text from users and files: control characters and sizes.

A title with an escape sequence would repaint a colleague's terminal, a NUL
is refused by PostgreSQL but kept by SQLite; both are refused here, the same
on every database, with the field named.
"""

from __future__ import annotations

import re

from .errors import InvalidInput

_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def check_text(value: str, what: str, *, max_len: int, multiline: bool = False) -> str:
    """The value stripped; refused if it holds control characters or is longer than ``max_len``."""
    pattern = _CONTROL_MULTI_LINE if multiline else _CONTROL_ONE_LINE
    bad = pattern.search(value)
    if bad:
        raise InvalidInput(what=what, detail=f"contains the control character U+{ord(bad.group()):04X}; remove it")
    value = value.strip()
    if len(value) > max_len:
        raise InvalidInput(what=what, detail=f"is {len(value)} characters long; at most {max_len}")
    return value


def printable(text: str) -> str:
    """For echoing user input in an error line: control characters shown escaped, never obeyed."""
    return _CONTROL_ONE_LINE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
