"""Steps taken from a form: each carries the version the person saw, and a stale one writes nothing.

The CLI's ``--if-version`` does the same for a firing; here the extension
request and decision get the check too, since a page may have stood open for
an hour while a colleague acted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..app import App
from ..domain.decisions import DECLINE, PROPOSE, TRANSFER
from ..domain.errors import InvalidInput, StaleTask, UnknownTask
from ..domain.supervision_notices import UnknownNotice
from ..domain.text import Bilingual
from . import extensions, supervision_notices, tasks, transfers, verification
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
        found = uow.web.task_version(code)
    if found is None:
        raise UnknownTask(code=code)
    if found != if_version:
        raise StaleTask(code=code, expected=if_version, actual=found)


def take_step(
    app: App,
    person_id: str,
    code: str,
    trigger: str,
    comment: str | None,
    if_version: int | None,
    *,
    unit: str | None = None,
    on_site: bool = False,
) -> FireResult:
    """One step by its trigger, through the same service as the CLI's command for it.

    ``unit``: where a reassignment (改派) or proposed transfer (提请转办) goes; ``on_site``: a 复核 made on site.
    The supervision chain's steps carry checks and units of their own (services/transfers.py, verification.py).
    """
    _visible(app, person_id, code)
    return take_step_unchecked(app, person_id, code, trigger, comment, if_version, unit=unit, on_site=on_site)


def take_step_unchecked(
    app: App,
    person_id: str,
    code: str,
    trigger: str,
    comment: str | None,
    if_version: int | None,
    *,
    unit: str | None = None,
    on_site: bool = False,
) -> FireResult:
    """The step, once whoever it is taken for is known to see the task (a substitute's: the absent person)."""
    note = comment or None
    if trigger == transfers.RETURN:
        return transfers.return_task(app, person_id, code, note, if_version=if_version)
    if trigger == transfers.INSIST:
        return transfers.insist(app, person_id, code, note, if_version=if_version)
    if trigger in (transfers.REASSIGN, PROPOSE):
        if not unit:
            raise InvalidInput(
                what=Bilingual("单位", "unit"),
                detail=Bilingual("请选择改派或转办到的单位", "choose the unit it goes to"),
            )
        move = transfers.reassign if trigger == transfers.REASSIGN else transfers.propose_transfer
        return move(app, person_id, code, unit, note, if_version=if_version)
    if trigger in (TRANSFER, DECLINE):
        consent = trigger == TRANSFER
        return transfers.decide_transfer(app, person_id, code, consent, note, if_version=if_version)
    if trigger in (verification.CONFIRM, verification.SEND_BACK):
        return verify(app, person_id, code, trigger == verification.CONFIRM, note, on_site, [], if_version)
    return tasks.fire(app, person_id, code, trigger, comment=note, if_version=if_version)


def verify(
    app: App,
    person_id: str,
    code: str,
    confirm: bool,
    note: str | None,
    on_site: bool,
    files: list[Path],
    if_version: int | None,
) -> FireResult:
    """复核 from a form: confirmed, or sent back with the reason, with the files the verifier attached."""
    _visible(app, person_id, code)
    return verification.verify_task(
        app, person_id, code, confirm, note, on_site=on_site, files=tuple(files), if_version=if_version
    )


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


def reply_to_notice(app: App, person_id: str, code: str, number: str, note: str) -> None:
    """The unit's reply (反馈) to a 督办单 from the task page: only a notice of this task, for someone who sees it."""
    _visible(app, person_id, code)
    if supervision_notices.get_notice(app, number).notice.task != code:
        raise UnknownNotice(number=number)
    supervision_notices.reply_to_notice(app, person_id, number, note)
