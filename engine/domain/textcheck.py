"""Checks on free text from users and files: control characters, hidden characters and sizes.

A title with an escape sequence would repaint a colleague's terminal, a NUL
is refused by PostgreSQL but kept by SQLite; both are refused here, the same
on every database, with the field named.

Two kinds of text hide what they are. A title made only of invisible
characters (a zero-width space, a Hangul filler, a braille blank) looks empty
in every list and circular yet passes a plain ``strip()``; such characters are
trimmed from both ends like spaces, so an invisible-only title is empty and
refused as such. Bidirectional controls (overrides, embeddings, isolates,
direction marks) make text display in another order than it is stored: a
unit's "已完成" can be shown where the file says something else ("Trojan
Source"). They are refused in every field, with the code point named, since
no ledger of Chinese or English text needs them and silently removing them
would store something other than what was typed.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidInput
from .text import Bilingual

_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")

# Bidirectional formatting characters (Unicode's Bidi_Control property): LRE RLE PDF LRO RLO, LRI RLI FSI PDI,
# LRM RLM, and the Arabic letter mark.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")

# Characters that draw nothing and are not whitespace to Python: zero-width space, non-joiner and joiner, word
# joiner and the invisible operators, the byte-order mark, soft hyphen, combining grapheme joiner, Mongolian vowel
# separator, Khmer inherent vowels, the Hangul fillers and the braille blank.
INVISIBLE = (
    "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u034f\u180e\u17b4\u17b5\u115f\u1160\u3164\uffa0\u2800"
)
# What str.isspace() calls whitespace (NBSP, the ideographic space and the other Unicode spaces included).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Trimmed from both ends like spaces, with str.strip (linear, whatever the cell holds; an end-anchored regex
# would be quadratic over a long run of spaces in the middle of a hostile cell).
BLANK = WHITESPACE + INVISIBLE


def _name(char: str) -> str:
    return unicodedata.name(char, "").lower()


# The fields' names in Chinese, for the error line under --lang zh (English names are the callers').
_FIELD_ZH = {
    "title": "标题",
    "problem": "问题",
    "measure": "整改措施",
    "note": "进展说明",
    "progress note": "进展说明",
    "comment": "意见",
    "reason": "理由",
    "unit": "单位",
    "co-unit": "配合单位",
    "leader": "责任领导",
    "person": "责任人",
    "category": "问题类别",
    "campaign": "批次",
    "task code": "任务编号",
}


def _field(what: str) -> Bilingual:
    zh = _FIELD_ZH.get(what) or (f"字段 {what[6:]}" if what.startswith("field ") else what)
    return Bilingual(zh, what)


def strip_blank(value: str) -> str:
    """The value without spaces or invisible characters at either end: an invisible-only value is empty."""
    return value.strip(BLANK)


def check_text(value: str, what: str, *, max_len: int, multiline: bool = False) -> str:
    """The value trimmed; refused if it holds control or bidi characters or is longer than ``max_len``.

    An empty result is the caller's to refuse ("a task needs a title"): a value
    of only spaces or invisible characters comes back empty.
    """
    pattern = _CONTROL_MULTI_LINE if multiline else _CONTROL_ONE_LINE
    bad = pattern.search(value)
    if bad:
        code = f"U+{ord(bad.group()):04X}"
        raise InvalidInput(
            what=_field(what),
            detail=Bilingual(f"含有控制字符 {code}；请删除", f"contains the control character {code}; remove it"),
        )
    hidden = _BIDI.search(value)
    if hidden:
        char = hidden.group()
        code = f"U+{ord(char):04X}"
        raise InvalidInput(
            what=_field(what),
            detail=Bilingual(
                f"含有双向文本控制字符 {code}（{_name(char)}），会使文字显示顺序与实际内容不同；请删除",
                f"contains the bidirectional control character {code} ({_name(char)}), which makes text display "
                "in another order than it is stored; remove it",
            ),
        )
    value = strip_blank(value)
    if len(value) > max_len:
        raise InvalidInput(
            what=_field(what),
            detail=Bilingual(
                f"长 {len(value)} 个字符，最多 {max_len} 个", f"is {len(value)} characters long; at most {max_len}"
            ),
        )
    return value


_ECHO = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{BIDI_CONTROLS}]")


def printable(text: str) -> str:
    """For echoing user input in an error line: control and bidi characters shown escaped, never obeyed."""
    return _ECHO.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
