"""The task page's supervision forms: 改派 and 提请转办 (choose a unit), 复核 (confirm or send back, with
evidence) and the reply to a 督办单. 退办, 坚持交办, consent to or decline a transfer, 申请挂起, 挂起, 恢复办理
and 签收 are plain steps (tasks.py's /step).

Each goes through ``steps``, to the same service as the CLI's command; each form carries the task's version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban.engine.domain.errors import DubanError, InvalidInput, NotFound, UnknownTask
from duban.engine.services import steps

from ..context import as_person, engine_app, signed_in_person
from ..forms import Posted, text
from ..forms import integer as int_field
from ..uploads import UploadRefused, saved_uploads
from .tasks import _page, _refused, _words

router = APIRouter(include_in_schema=False)
MOVES = ("reassign", "propose_transfer")
OUTCOMES = ("verify", "send_back")


def _done(code: str, what: str = "step") -> Response:
    return RedirectResponse(f"/tasks/{quote(code)}?done={what}", status_code=303)


@router.post("/tasks/{code}/move")
def move(request: Request, code: str, form: Posted) -> Response:
    """改派 (the lead leader, a returned task) or 提请转办 (a supervisor): to the unit chosen, with the why."""
    session = signed_in_person(request)
    trigger, unit, comment = text(form, "trigger"), text(form, "unit"), text(form, "comment")
    if trigger not in MOVES:
        trigger = "propose_transfer"
    errors: dict[str, str] = {}
    if not unit:
        errors["unit"] = _words(request, "请选择单位", "choose the unit")
    if trigger == "propose_transfer" and not comment:
        errors["comment"] = _words(request, "请说明转办理由", "give the reason for the transfer")
    values = {"unit": unit, "comment": comment}
    if errors:
        return _page(request, code, status=400, errors={trigger: errors}, values=values)
    app = engine_app(request)
    version = int_field(form, "if_version")
    try:
        as_person(session, steps.take_step, app, session.person_id, code, trigger, comment, version, unit=unit)
    except DubanError as exc:
        if isinstance(exc, UnknownTask):
            raise
        # an unknown unit, or the task's own unit, is the unit field's fault
        on_unit = isinstance(exc, NotFound) or (isinstance(exc, InvalidInput) and exc.params.get("what") == "--unit")
        return _refused(
            request, code, trigger, exc, "unit" if on_unit else "_form", values, status=400 if on_unit else None
        )
    return _done(code)


@router.post("/tasks/{code}/verify")
def verify(request: Request, code: str, form: Posted) -> Response:
    """复核: what was checked and found, on site or on paper, the files; then confirm or send back."""
    session = signed_in_person(request)
    outcome, comment = text(form, "outcome"), text(form, "comment")
    errors: dict[str, str] = {}
    if outcome not in OUTCOMES:
        errors["_form"] = _words(request, "请选择复核通过或复核退回", "choose verify or send back")
    if not comment:
        errors["comment"] = _words(request, "请写明复核了什么、结论如何", "say what was checked and what was found")
    values = {"comment": comment}
    with tempfile.TemporaryDirectory(prefix="duban-upload-") as tmp:
        paths: list[Path] = []
        try:
            paths = saved_uploads(request, form, Path(tmp))
        except UploadRefused as refused:
            errors["files"] = str(refused)
        if errors:
            return _page(request, code, status=400, errors={"verify": errors}, values=values)
        try:
            as_person(
                session,
                steps.verify,
                engine_app(request),
                session.person_id,
                code,
                outcome == "verify",
                comment,
                text(form, "on_site") == "1",
                paths,
                int_field(form, "if_version"),
            )
        except DubanError as exc:
            if isinstance(exc, UnknownTask):
                raise
            return _refused(request, code, "verify", exc, values=values)
    return _done(code)


@router.post("/tasks/{code}/notice-reply")
def notice_reply(request: Request, code: str, form: Posted) -> Response:
    """反馈: the unit answers a 督办单 of this task, once."""
    session = signed_in_person(request)
    number, note = text(form, "number"), text(form, "note")
    form_name = f"reply-{number}"
    if not note:
        return _page(
            request,
            code,
            status=400,
            errors={
                form_name: {
                    "note": _words(
                        request, "请写明反馈内容：已做了什么、下一步怎么做", "say what was done and what comes next"
                    )
                }
            },
        )
    try:
        as_person(session, steps.reply_to_notice, engine_app(request), session.person_id, code, number, note)
    except DubanError as exc:
        if isinstance(exc, UnknownTask):
            raise
        return _refused(request, code, form_name, exc, values={"note": note})
    return _done(code, "reply")
