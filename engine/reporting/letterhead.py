"""What makes a circular an office's document: its number, issuing office and date, 落款 and 抄送.

Kept apart from the figures: the same Report is issued as 第3期 by one office, or printed unnumbered
by whoever runs ``duban report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from zoneinfo import ZoneInfo

from duban.engine.domain.report import Report
from duban.engine.domain.text import Bilingual, Lang

from .cells import date_text

ISSUE_NO = Bilingual("第{n}期", "No. {n}")
CC = Bilingual("抄送：", "Copied to: ")
_CC_JOIN = {"zh": "，", "en": ", "}
_CC_END = {"zh": "。", "en": "."}


@dataclass(frozen=True, slots=True)
class Letterhead:
    issuer: str | None = None  # the issuing office, in the masthead
    issue_no: int | None = None  # 第N期; None: unnumbered
    issued_on: date | None = None  # None: the day the report was generated, in its zone
    signature: str | None = None  # 落款; None: the issuer
    cc: tuple[str, ...] = ()  # 抄送

    def number(self, lang: Lang) -> str | None:
        return None if self.issue_no is None else ISSUE_NO.pick(lang).format(n=self.issue_no)

    def day(self, report: Report) -> date:
        if self.issued_on is not None:
            return self.issued_on
        if report.generated_at is not None:
            at = report.generated_at
            at = at if at.tzinfo else at.replace(tzinfo=UTC)  # instants are stored in UTC
            return at.astimezone(ZoneInfo(report.zone)).date()
        return report.as_of

    def masthead(self, report: Report, lang: Lang) -> str:
        """The issuing office and the date, on one line under the number."""
        issued = date_text(self.day(report), lang)
        return f"{self.issuer}　　{issued}" if self.issuer else issued

    def signed_by(self) -> str | None:
        return self.signature or self.issuer

    def cc_line(self, lang: Lang) -> str | None:
        return CC.pick(lang) + _CC_JOIN[lang].join(self.cc) + _CC_END[lang] if self.cc else None
