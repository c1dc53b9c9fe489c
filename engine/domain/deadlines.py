"""Deadline expressions (整改时限) as offices write them, turned into dates.

Ledgers say "2026年6月底前", "年底前", "第三季度末", "立行立改" (at once: a few
working days, set by the workflow's policy) or "长期坚持" (ongoing: no
deadline, periodic progress reports instead). A year left out is the
campaign's year, else the current one.
"""

from __future__ import annotations

import calendar as _cal
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .calendar import WorkCalendar
from .errors import InvalidInput
from .text import Bilingual

AT_ONCE = "立行立改"
ONGOING = "长期坚持"

EXAMPLES = (
    "2026-06-30, 2026年6月30日, 2026年6月底前, 6月底前, 年底前, 第三季度末, 上半年, 10个工作日内, 立行立改, 长期坚持"
)

WHAT = Bilingual("整改时限", "deadline")

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR = r"(?:(?P<year>\d{4})\s*年)?"
_SUFFIX = r"\s*(?:前|以前|之前|内|止)?\s*"


@dataclass(frozen=True, slots=True)
class Deadline:
    due: date | None  # None: ongoing, no deadline
    expression: str

    @property
    def ongoing(self) -> bool:
        return self.due is None


def campaign_year(campaign: str | None) -> int | None:
    match = re.search(r"(20\d{2})", campaign or "")
    return int(match.group(1)) if match else None


def parse_deadline(
    text: str, *, today: date, calendar: WorkCalendar, at_once_working_days: int, year: int | None = None
) -> Deadline:
    raw = text
    text = re.sub(r"\s+", "", text.strip()).replace("（", "(").replace("）", ")")
    default_year = year or today.year

    def y(match: re.Match[str]) -> int:
        return int(match.group("year")) if match.group("year") else default_year

    if not text:
        raise _unreadable(raw)
    text = unicodedata.normalize("NFKC", text)  # full-width digits and brackets, as office software writes them
    if text.startswith("今年"):  # the calendar year, whatever the campaign's
        text = f"{today.year}年{text[2:]}"
    if text in (ONGOING, "长期", "持续推进", "常态化", "长期坚持整改"):
        return Deadline(None, raw)
    if text in (AT_ONCE, "立即整改", "即知即改"):
        return Deadline(calendar.add_working_days(today, at_once_working_days), raw)
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _SUFFIX, text):
        return Deadline(_date(raw, int(m[1]), int(m[2]), int(m[3])), raw)
    if m := re.fullmatch(_YEAR + r"(\d{1,2})月(\d{1,2})[日号]" + _SUFFIX, text):
        return Deadline(_date(raw, y(m), int(m[2]), int(m[3])), raw)
    if m := re.fullmatch(_YEAR + r"(\d{1,2})月(?:底|末|份|份底)?" + _SUFFIX, text):
        year_, month = y(m), int(m[2])
        if not 1 <= month <= 12:
            raise _unreadable(raw)
        return Deadline(_date(raw, year_, month, _cal.monthrange(year_, month)[1] if year_ >= 1 else 1), raw)
    if m := re.fullmatch(_YEAR + r"(?:年底|年末|年内)" + _SUFFIX, text) or re.fullmatch(
        r"(?P<year>\d{4})年(?:底|末|内)" + _SUFFIX, text
    ):
        return Deadline(_date(raw, y(m), 12, 31), raw)
    if m := re.fullmatch(_YEAR + r"第?([一二三四1-4])季度(?:末|底)?" + _SUFFIX, text):
        quarter = _CN_DIGITS[m[2]]
        month = quarter * 3
        return Deadline(_date(raw, y(m), month, _cal.monthrange(max(y(m), 1), month)[1]), raw)
    if m := re.fullmatch(_YEAR + r"上半年(?:底|末)?" + _SUFFIX, text):
        return Deadline(_date(raw, y(m), 6, 30), raw)
    if m := re.fullmatch(_YEAR + r"下半年(?:底|末)?" + _SUFFIX, text):
        return Deadline(_date(raw, y(m), 12, 31), raw)
    if m := re.fullmatch(r"(\d{1,3})个?工作日" + _SUFFIX, text):
        return Deadline(calendar.add_working_days(today, int(m[1])), raw)
    raise _unreadable(raw)


def _date(raw: str, year: int, month: int, day: int) -> date:
    """A real date in a sane range (2000–2100): a mistyped year would otherwise live in the ledger for good."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(
            what=WHAT,
            detail=Bilingual(
                f"'{raw}' 落在 {year} 年；整改时限须在 2000 至 2100 年之间",
                f"'{raw}' falls in the year {year}; a deadline lies between 2000 and 2100",
            ),
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise _unreadable(raw) from None


def _unreadable(raw: str) -> InvalidInput:
    return InvalidInput(
        what=WHAT,
        detail=Bilingual(
            f"无法识别 '{raw}'；请按以下任一形式填写：{EXAMPLES.replace(', ', '、')}",
            f"cannot read '{raw}'; write it like one of: {EXAMPLES}",
        ),
    )
