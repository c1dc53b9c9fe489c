"""Steps taken from a form: each carries the version the person saw, and a stale one writes nothing.

The CLI's ``--if-version`` does the same for a firing; here the extension
request and decision get the check too, since a page may have stood open for
an hour while a colleague acted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..app import App
from ..domain.errors import StaleTask, UnknownTask
from ..persistence.web_store import WebStore
from . import extensions, tasks, transfers
from .tasks import FireResult, ProgressInput
from .visibility import may_see_task


def _visible(app: App, person_id: str, code: str) -> None:
    """Another unit's task is refused as unknown: a refusal must not tell its state or title."""
    if not may_see_task(app, person_id, code):
        raise UnknownTask(code=code)


def _check_version(app: App, code: str, if_version: int | None) -> None:
    if if_version is None:
        return
    with app.uow(write=False) as uow:
        found = WebStore(uow.conn).task_version(code)
    if found is None:
        raise UnknownTask(code=code)
    if found != if_version:
        raise StaleTask(code=code, expected=if_version, actual=found)


def take_step(
    app: App, person_id: str, code: str, trigger: str, comment: str | None, if_version: int | None
) -> FireResult:
    _visible(app, person_id, code)
    return take_step_unchecked(app, person_id, code, trigger, comment, if_version)


def take_step_unchecked(
    app: App, person_id: str, code: str, trigger: str, comment: str | None, if_version: int | None
) -> FireResult:
    """The step, once whoever it is taken for is known to see the task (a substitute's: the absent person)."""
    # 退办 and the decision on a proposed transfer carry checks and units of their own (services/transfers.py)
    if trigger == transfers.RETURN:
        _check_version(app, code, if_version)
        return transfers.return_task(app, person_id, code, comment or None)
    if trigger == transfers.INSIST:
        _check_version(app, code, if_version)
        return transfers.insist(app, person_id, code, comment or None)
    if trigger in (transfers.TRANSFER, transfers.DECLINE):
        _check_version(app, code, if_version)
        return transfers.decide_transfer(app, person_id, code, trigger == transfers.TRANSFER, comment or None)
    return tasks.fire(app, person_id, code, trigger, comment=comment or None, if_version=if_version)


def report_progress(
    app: App, person_id: str, code: str, percent: int, note: str, files: list[Path], if_version: int | None
) -> FireResult:
    _visible(app, person_id, code)
    progress = ProgressInput(percent, note, tuple(files))
    return tasks.fire(
        app, person_id, code, tasks.PROGRESS_TRIGGER, comment=note, if_version=if_version, progress=progress
    )


def ask_extension(app: App, person_id: str, code: str, to: date | str, reason: str, if_version: int | None) -> int:
    _visible(app, person_id, code)
    _check_version(app, code, if_version)
    return extensions.request_extension(app, person_id, code, to, reason)


def decide_extension(
    app: App, person_id: str, code: str, request_id: int, grant: bool, comment: str | None, if_version: int | None
) -> extensions.ExtensionView:
    _visible(app, person_id, code)
    _check_version(app, code, if_version)
    return extensions.decide_extension(app, person_id, request_id, grant, comment)


def remind(app: App, person_id: str, code: str, note: str | None) -> FireResult:
    _visible(app, person_id, code)
    return tasks.fire(app, person_id, code, "remind", comment=note or None)
