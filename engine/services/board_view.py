"""The unit board and the circulars page: the report service's figures, live, and its files on demand.

Why through ``report.build_report``: the board must show exactly what a circular issued today would say;
a second set of figures would drift from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from ..app import App
from ..domain.errors import InvalidInput
from ..domain.report import Report
from ..domain.text import Bilingual, Lang
from .circulars import CircularView, check_id, circular_file, get_circular, list_circulars
from .ledger_view import PageNotPermitted
from .report import ReportRequest, build_report
from .report_files import FORMATS, MEDIA_TYPES, SUFFIXES, RenderedFile, chart_svg, file_stem, render_report
from .visibility import viewer

PERIODS = ("week", "month", "quarter", "year")


def require_overseer(app: App, person_id: str) -> None:
    """A circular names overdue tasks of every unit: only those who see every task read it here."""
    if not viewer(app, person_id).sees_all:
        raise PageNotPermitted(role=Bilingual("领导、督查人员和管理员", "leaders, supervisors and administrators"))


def _request(period: str, as_of: str, campaign: str) -> ReportRequest:
    if period and period not in PERIODS:
        raise InvalidInput(
            what=Bilingual("统计周期", "period"),
            detail=Bilingual(
                f"'{period}' 不是 week（周）、month（月）、quarter（季度）或 year（年）",
                f"'{period}' is not week, month, quarter or year",
            ),
        )
    day = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise InvalidInput(
                what=Bilingual("截止日期", "as-of date"),
                detail=Bilingual(
                    f"'{as_of}' 不是日期；请写作 2026-09-30 这样的格式", f"'{as_of}' is not a date like 2026-09-30"
                ),
            ) from None
    return ReportRequest(period=period or "week", as_of=day, campaign=campaign[:200] or None)


def board(app: App, period: str = "week", as_of: str = "", campaign: str = "") -> Report:
    """The circular's per-unit table as of now (or the day asked), with lights and ranks."""
    return build_report(app, _request(period, as_of, campaign))


def report_key(report: Report) -> str:
    """A cache key for the chart: the figures it is drawn from; the same figures give the same PNG."""
    units = "|".join(f"{u.unit}:{u.counts.tasks}:{u.counts.closed}:{u.counts.overdue}" for u in report.units)
    raw = f"{report.period.kind}:{report.period.start}:{report.period.end}:{report.campaign}:{units}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Chart:
    svg: bytes  # drawn natively: the browser sets the Chinese, the server needs no font
    key: str


def chart(app: App, person_id: str, period: str, as_of: str, campaign: str, lang: Lang) -> Chart:
    require_overseer(app, person_id)
    report = board(app, period, as_of, campaign)
    return Chart(chart_svg(report, lang), report_key(report))


def report_file(app: App, person_id: str, period: str, as_of: str, campaign: str, fmt: str, lang: Lang) -> RenderedFile:
    """One format of the report, rendered by the same code as ``duban report --format``."""
    if fmt not in FORMATS:
        raise InvalidInput(
            what=Bilingual("格式", "format"),
            detail=Bilingual(
                f"'{fmt}' 不是可用的格式（可用：{'、'.join(FORMATS)}）", f"'{fmt}' is not one of {', '.join(FORMATS)}"
            ),
        )
    require_overseer(app, person_id)
    report = board(app, period, as_of, campaign)
    content = render_report(report, fmt, lang)
    return RenderedFile(file_stem(report, lang) + SUFFIXES[fmt], MEDIA_TYPES[fmt], content)


@dataclass(frozen=True)
class CircularsPage:
    report: Report
    chart_key: str
    issued: list[CircularView]


def circulars_page(app: App, person_id: str, period: str, as_of: str, campaign: str) -> CircularsPage:
    """The report for the period asked, and the circulars issued so far with their stored files."""
    require_overseer(app, person_id)
    report = board(app, period, as_of, campaign)
    return CircularsPage(report, report_key(report), list_circulars(app))


def circular(app: App, person_id: str, raw_id: str) -> CircularView:
    require_overseer(app, person_id)
    return get_circular(app, check_id(raw_id))


def stored_file(app: App, person_id: str, raw_id: str, name: str) -> RenderedFile | None:
    """A file stored with an issued circular, by its exact name (the page lists them)."""
    require_overseer(app, person_id)
    found = get_circular(app, check_id(raw_id))
    if name not in {n for n, _m, _s in found.files}:
        return None
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else name
    hit = circular_file(app, found.id, suffix)
    return hit if hit is not None and hit.name == name else None
