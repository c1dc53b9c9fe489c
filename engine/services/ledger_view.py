"""The ledger page (台账): a filtered, keyset-paginated list of the tasks a person may see; its export;
and importing a ledger by upload (a dry run shown first, then the same file imported on confirmation).

Why a separate read path from ``queries.list_tasks``: that one loads every match and computes lights
in Python, which is right for the CLI's lists but not for a page over a million tasks. Here the light
filter becomes date bands per workflow (computed from the working-day calendar, as ``standing`` decides
it), so the database does the filtering and returns one page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from ..app import App
from ..domain.errors import DubanError, InvalidInput, NotFound, UnknownPerson
from ..domain.evidence_types import safe_name
from ..domain.text import Bilingual, Lang
from ..domain.visibility import Viewer
from ..domain.watch import clock_runs, task_standing
from ..ledger.rows import LedgerInvalid, RowError
from ..persistence.read.ledger_page import (
    SORTS,
    LedgerQuery,
    LedgerRow,
    LightBand,
)
from .ledger_export import ExportFilter, export_ledger
from .ledger_import import ImportOptions, ImportResult, import_ledger

PAGE_SIZE = 50
COUNT_CAP = 10_000  # beyond this the page says "more than 10,000" instead of counting a million rows
LIGHTS = ("red", "yellow", "green")
EXPORT_FORMATS = {"xlsx": ".xlsx", "csv": ".csv"}
IMPORT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")


class PageNotPermitted(DubanError):
    """A page for a role this person does not have: say which role, and whom to ask."""

    exit_code = 4
    zh = "此页面仅供{role}使用。如需使用，请联系系统管理员为您的账号配置相应角色。"
    en = "this page is for {role} only; ask an administrator to give your account that role"


class StagedImportGone(NotFound):
    zh = "找不到待确认的上传文件（可能已导入或已过期），请重新上传"
    en = "the uploaded file awaiting confirmation is gone (already imported, or expired); upload it again"


@dataclass(frozen=True)
class LedgerRequest:
    """What the filter form sent, as text: checked here, not in the view."""

    state: str = ""
    unit: str = ""
    light: str = ""
    campaign: str = ""
    category: str = ""
    text: str = ""
    sort: str = "code"
    after: str = ""  # the opaque cursor of the next page


@dataclass(frozen=True)
class LedgerItem:
    row: LedgerRow
    state_label: Bilingual
    light: str | None
    days_overdue: int
    days_left: int | None


@dataclass(frozen=True)
class LedgerPage:
    request: LedgerRequest
    items: list[LedgerItem]
    next_cursor: str | None
    total: int  # capped at COUNT_CAP + 1
    total_capped: bool
    units: list[str]
    states: list[tuple[str, Bilingual]]
    may_import: bool
    errors: dict[str, str] = field(default_factory=dict)


def _viewer(app: App, person_id: str) -> Viewer:
    with app.uow(write=False) as uow:
        me = uow.web.viewer(person_id)
    if me is None:
        raise UnknownPerson(person=person_id, near="")
    return me


def may_import(app: App, viewer: Viewer) -> bool:
    """As the importer decides: whoever may assign may import, and so may an admin."""
    from ..domain.machine import Actor

    actor = Actor(viewer.person_id, viewer.person_id, viewer.roles, viewer.unit_id)
    return "admin" in viewer.roles or any(app.registry.machine(s.name).may_create(actor) for s in app.registry.specs)


def _states(app: App) -> list[tuple[str, Bilingual]]:
    seen: dict[str, Bilingual] = {}
    for spec in app.registry.specs:
        for key in spec.states:
            seen.setdefault(key, spec.state_label(key))
    return list(seen.items())


def light_bands(app: App, light: str, today: date) -> tuple[LightBand, ...]:
    """The tasks whose light is ``light`` today, as deadline ranges per workflow (see ``planning.standing``)."""
    out = []
    for spec in app.registry.specs:
        running = tuple(s for s in spec.states if clock_runs(spec, s))
        if not running:
            continue
        yellow_days = spec.deadlines.yellow_within_working_days
        last_yellow = today
        probe = today
        for _ in range(yellow_days * 7 + 60):  # the last day still within the yellow window
            probe += timedelta(days=1)
            if app.calendar.working_days_between(today, probe) > yellow_days:
                break
            last_yellow = probe
        if light == "red":
            out.append(LightBand(spec.name, running, None, today - timedelta(days=1)))
        elif light == "yellow":
            out.append(LightBand(spec.name, running, today, last_yellow))
        else:
            out.append(LightBand(spec.name, running, last_yellow + timedelta(days=1), None, with_none=True))
    return tuple(out)


def encode_cursor(sort: str, row: LedgerRow) -> str:
    key = [row.code] if sort == "code" else [row.updated_at.isoformat(), str(row.id)]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(raw: str, sort: str) -> tuple[str, ...] | None:
    """A cursor from the page's own link; anything else is refused as bad input, never passed on as SQL."""
    if not raw:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(key, list) or not all(isinstance(k, str) and len(k) < 100 for k in key):
            raise ValueError
        if sort == "updated":
            from datetime import datetime

            datetime.fromisoformat(key[0])
            int(key[1])
            if len(key) != 2:
                raise ValueError
        elif len(key) != 1:
            raise ValueError
    except (ValueError, IndexError, TypeError):
        raise InvalidInput(
            what=Bilingual("翻页链接", "page"),
            detail=Bilingual("已损坏；请从第一页重新开始", "the page link is damaged; start again from the first page"),
        ) from None
    return tuple(key)


def _query(app: App, viewer: Viewer, req: LedgerRequest, unit_id: int | None) -> LedgerQuery:
    known_states = {k for k, _l in _states(app)}
    if req.state and req.state not in known_states:
        raise InvalidInput(
            what=Bilingual("状态", "state"),
            detail=Bilingual(f"'{req.state}' 不是状态", f"'{req.state}' is not a state"),
        )
    if req.light and req.light not in LIGHTS:
        raise InvalidInput(
            what=Bilingual("亮灯", "light"),
            detail=Bilingual(
                f"'{req.light}' 不是 red（红灯）、yellow（黄灯）或 green（绿灯）",
                f"'{req.light}' is not red, yellow or green",
            ),
        )
    sort = req.sort if req.sort in SORTS else "code"
    today = app.clock.now().astimezone(app.tz).date()
    return LedgerQuery(
        viewer=viewer,
        states=(req.state,) if req.state else (),
        unit_id=unit_id,
        campaign=req.campaign[:200] or None,
        category=req.category[:100] or None,
        text=req.text[:100] or None,
        bands=light_bands(app, req.light, today) if req.light else None,
        sort=sort,
        after=decode_cursor(req.after, sort),
        limit=PAGE_SIZE,
    )


def ledger_page(app: App, person_id: str, req: LedgerRequest) -> LedgerPage:
    """One page of the ledger for this person: only what they may see, filtered, in a stable order."""
    viewer = _viewer(app, person_id)
    today = app.clock.now().astimezone(app.tz).date()
    errors: dict[str, str] = {}
    with app.uow(write=False) as uow:
        units = [u.name for u in uow.ledger_page.unit_names()]
        unit_id = None
        if req.unit:
            unit_id = uow.ledger_page.unit_id_by_name(req.unit)
            if unit_id is None:
                errors["unit"] = req.unit
        q = _query(app, viewer, req, unit_id if unit_id is not None else -1 if req.unit else None)
        rows = uow.ledger_page.slice(q)
        total = uow.ledger_page.count(q, COUNT_CAP) if not q.after else -1
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    items = []
    for r in rows:
        spec = app.registry.find(r.workflow)
        stand = task_standing(spec, r.state, r.deadline, today, app.calendar) if spec else None
        label = spec.state_label(r.state) if spec else Bilingual(r.state, r.state)
        items.append(
            LedgerItem(
                r,
                label,
                stand.light if stand else None,
                stand.days_overdue if stand else 0,
                stand.days_left if stand else None,
            )
        )
    return LedgerPage(
        request=req,
        items=items,
        next_cursor=encode_cursor(q.sort, rows[-1]) if more and rows else None,
        total=total,
        total_capped=total > COUNT_CAP,
        units=units,
        states=_states(app),
        may_import=may_import(app, viewer),
        errors=errors,
    )


@dataclass(frozen=True)
class ExportFile:
    name: str
    media_type: str
    content: bytes
    note: Bilingual  # which of the page's filters the file applies


def export_current(app: App, person_id: str, req: LedgerRequest, fmt: str, lang: Lang) -> ExportFile:
    """The ledger export (same columns as ``duban ledger export``) of exactly what the page lists.

    Every filter the page shows (state, unit, light, campaign, category, text) and the visibility rule are
    one query (``ledger_where``), so the file holds the page's tasks, all pages of them, and nothing the
    person may not see.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(
            what=Bilingual("格式", "format"),
            detail=Bilingual(f"'{fmt}' 不是 xlsx 或 csv", f"'{fmt}' is not xlsx or csv"),
        )
    viewer = _viewer(app, person_id)
    unit_id = None
    if req.unit:
        with app.uow(write=False) as uow:
            unit_id = uow.ledger_page.unit_id_by_name(req.unit)
        if unit_id is None:
            raise InvalidInput(
                what=Bilingual("单位", "unit"),
                detail=Bilingual(f"没有单位 '{req.unit}'", f"'{req.unit}' is not a unit"),
            )
    page = replace(_query(app, viewer, replace(req, after=""), unit_id), limit=0)
    flt = ExportFilter(lang=lang, page=page)
    with tempfile.TemporaryDirectory(prefix="duban-export-") as tmp:
        stem = "整改台账" if lang == "zh" else "ledger"
        path = Path(tmp) / f"{stem}{EXPORT_FORMATS[fmt]}"
        export_ledger(app, path, flt)
        content = path.read_bytes()
    media = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    note = Bilingual("导出即本页的全部筛选结果", "the export is every task the current filters list")
    return ExportFile(path.name, media, content, note)


# --- importing by upload -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StagedImport:
    sha256: str
    name: str
    rows: int | None  # data rows read (unknown when rows failed: the importer stops at the summary)
    imported: int  # tasks the confirmation would create
    existing: int
    errors: list[RowError]
    created_units: list[str]


def staging_dir() -> Path:
    """Where an upload waits for its confirmation: per host, keyed by the file's SHA-256 (workers agree)."""
    folder = Path(tempfile.gettempdir()) / "duban-web-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


STAGED_HOURS = 24


def _forget_stale(folder: Path) -> None:
    """Uploads never confirmed are dropped after a day, so the staging folder does not grow without end."""
    import time

    cutoff = time.time() - STAGED_HOURS * 3600
    for entry in folder.iterdir():
        try:
            if entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def _staged_path(sha256: str) -> Path | None:
    import re

    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return None
    folder = staging_dir() / sha256
    files = sorted(folder.glob("*")) if folder.is_dir() else []
    return files[0] if files else None


def stage_import(app: App, person_id: str, filename: str, content: bytes, lang: Lang) -> StagedImport:
    """Keep the upload and dry-run it: the row errors are shown before anything is written."""
    name = safe_name(filename or "ledger.xlsx")
    if not name.lower().endswith(IMPORT_SUFFIXES):
        raise InvalidInput(
            what=Bilingual("文件", "file"),
            detail=Bilingual(
                f"'{name}' 不是表格文件（.xlsx、.xls 或 .csv）", f"'{name}' is not a spreadsheet (.xlsx, .xls or .csv)"
            ),
        )
    viewer = _viewer(app, person_id)
    if not may_import(app, viewer):
        raise PageNotPermitted(role=Bilingual("交办领导和管理员", "leaders who assign and administrators"))
    _forget_stale(staging_dir())
    digest = hashlib.sha256(content).hexdigest()
    folder = staging_dir() / digest
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / name
    if not path.exists():
        path.write_bytes(content)
    try:
        result = import_ledger(app, person_id, path, ImportOptions(dry_run=True, lang=lang))
    except LedgerInvalid as invalid:  # the importer refuses the whole file: show every row's problem
        shutil.rmtree(folder, ignore_errors=True)  # nothing to confirm: it must be corrected and sent again
        return StagedImport(digest, name, None, 0, 0, list(invalid.errors), [])
    return StagedImport(
        digest, name, result.rows, result.imported, result.existing, list(result.errors), list(result.created_units)
    )


def confirm_import(app: App, person_id: str, sha256: str, lang: Lang) -> ImportResult:
    """Import the very file the dry run read; it is removed afterwards, so a second click writes nothing."""
    path = _staged_path(sha256)
    if path is None:
        raise StagedImportGone()
    if not may_import(app, _viewer(app, person_id)):
        raise PageNotPermitted(role=Bilingual("交办领导和管理员", "leaders who assign and administrators"))
    result = import_ledger(app, person_id, path, ImportOptions(dry_run=False, lang=lang))
    shutil.rmtree(path.parent, ignore_errors=True)
    return result


def require_import(app: App, person_id: str) -> None:
    if not may_import(app, _viewer(app, person_id)):
        raise PageNotPermitted(role=Bilingual("交办领导和管理员", "leaders who assign and administrators"))
