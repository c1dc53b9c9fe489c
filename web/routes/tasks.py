"""The task page and the steps taken on it; evidence uploads and downloads.

Every form carries the task's version; a refusal re-renders the page with the
message next to the field it concerns, and nothing is written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.responses import Response

from duban.engine.domain.errors import DubanError, InvalidInput, ReasonRequired, RequirementNotMet, StaleTask
from duban.engine.domain.evidence_types import media_type
from duban.engine.services import report_duties, steps, task_supervision, visibility

from ..context import as_person, engine_app, lang_of, render, signed_in_person
from ..forms import Posted, text
from ..forms import integer as int_field
from ..on_loop import quick_page
from ..uploads import UploadRefused, saved_uploads

router = APIRouter(include_in_schema=False)
REASON_STEPS = (
    "reject",
    "cancel",
    "reopen",
    "return",
    "insist",
    "decline_transfer",
    "suspend",
    "ask_suspension",
)


def _page(request: Request, code: str, status: int = 200, **extra: Any) -> Response:
    session = signed_in_person(request)
    app = engine_app(request)
    page = as_person(session, visibility.task_page, app, session.person_id, code)
    sv = as_person(session, task_supervision.supervision_view, app, session.person_id, page.detail)
    duty = report_duties.task_duties(app, code)  # 定期填报, once the task may be seen
    context = {
        "page": page,
        "d": page.detail,
        "s": page.detail.summary,
        "duty": duty,
        "sv": sv,
        "errors": {},
        "values": {},
        "stale": False,
        "done": None,
    }
    context.update(extra)
    return render(request, "task.html", status=status, **context)


def _words(request: Request, zh: str, en: str) -> str:
    return zh if lang_of(request) == "zh" else en


def _refused(
    request: Request,
    code: str,
    form_name: str,
    exc: DubanError,
    field: str = "_form",
    values: dict[str, str] | None = None,
    status: int | None = None,
) -> Response:
    """The page again, with the refusal where it belongs; a stale form shows the task as it is now."""
    if isinstance(exc, StaleTask):
        message = _words(
            request,
            f"提交未生效：您打开页面后，任务已被他人更新（版本 {exc.params['expected']} → {exc.params['actual']}）。下面是最新情况，请确认后再操作。",
            f"Nothing was saved: someone changed this task after you opened it (version {exc.params['expected']} → {exc.params['actual']}). Below is how it stands now; check it and try again.",
        )
        return _page(request, code, status=409, stale=message)
    if isinstance(exc, ReasonRequired):
        field, message = "comment", _words(request, "请填写理由", "a reason is required")
    else:
        message = exc.render(lang_of(request))
    from ..app import status_of

    return _page(
        request, code, status=status or status_of(exc), errors={form_name: {field: message}}, values=values or {}
    )


@router.get("/tasks/{code}")
@quick_page()
def task_page(request: Request, code: str) -> Response:
    done = request.query_params.get("done")
    return _page(request, code, done=done if done in ("step", "progress", "extend", "decide", "reply") else None)


@router.post("/tasks/{code}/step")
def take_step(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    trigger, comment, version = text(form, "trigger"), text(form, "comment"), int_field(form, "if_version")
    if trigger in REASON_STEPS and not comment:
        return _page(
            request,
            code,
            status=400,
            errors={f"step-{trigger}": {"comment": _words(request, "请填写理由", "a reason is required")}},
        )
    try:
        as_person(session, steps.take_step, engine_app(request), session.person_id, code, trigger, comment, version)
    except DubanError as exc:
        return _refused(request, code, f"step-{trigger}", exc)
    return RedirectResponse(f"/tasks/{quote(code)}?done=step", status_code=303)


@router.post("/tasks/{code}/progress")
def report_progress(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    app = engine_app(request)
    errors: dict[str, str] = {}
    percent, note, version = int_field(form, "percent"), text(form, "note"), int_field(form, "if_version")
    if percent is None or not 0 <= percent <= 100:
        errors["percent"] = _words(request, "请填写 0 到 100 之间的整数", "a whole number from 0 to 100")
    if not note:
        errors["note"] = _words(request, "请填写进展情况", "describe the progress")
    with tempfile.TemporaryDirectory(prefix="duban-upload-") as tmp:
        paths: list[Path] = []
        try:
            paths = saved_uploads(request, form, Path(tmp))
        except UploadRefused as refused:
            errors["files"] = str(refused)
        if errors:
            return _page(
                request,
                code,
                status=400,
                errors={"progress": errors},
                values={"percent": text(form, "percent"), "note": note},
            )
        try:
            as_person(session, steps.report_progress, app, session.person_id, code, percent or 0, note, paths, version)
        except DubanError as exc:
            field = str(exc.params.get("what", "_form")) if isinstance(exc, InvalidInput) else "_form"
            return _refused(request, code, "progress", exc, field if field in ("percent", "note") else "_form")
    return RedirectResponse(f"/tasks/{quote(code)}?done=progress", status_code=303)


@router.post("/tasks/{code}/extend")
def ask_extension(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    to, reason, version = text(form, "to"), text(form, "reason"), int_field(form, "if_version")
    errors: dict[str, str] = {}
    if not to:
        errors["to"] = _words(request, "请填写新的整改时限", "give the new deadline")
    if not reason:
        errors["reason"] = _words(request, "请说明延期理由", "give the reason")
    if errors:
        return _page(request, code, status=400, errors={"extend": errors})
    try:
        as_person(session, steps.ask_extension, engine_app(request), session.person_id, code, to, reason, version)
    except DubanError as exc:
        field = "to" if isinstance(exc, InvalidInput) else "_form"
        if isinstance(exc, RequirementNotMet):
            field = "reason"
        return _refused(request, code, "extend", exc, field)
    return RedirectResponse(f"/tasks/{quote(code)}?done=extend", status_code=303)


@router.post("/tasks/{code}/extension")
def decide_extension(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    request_id, decision = int_field(form, "request"), text(form, "decision")
    if request_id is None or decision not in ("grant", "deny"):
        return _page(
            request,
            code,
            status=400,
            errors={"decide": {"_form": _words(request, "请选择同意或不同意", "choose grant or deny")}},
        )
    try:
        as_person(
            session,
            steps.decide_extension,
            engine_app(request),
            session.person_id,
            code,
            request_id,
            decision == "grant",
            text(form, "comment"),
            int_field(form, "if_version"),
        )
    except DubanError as exc:
        return _refused(request, code, "decide", exc)
    return RedirectResponse(f"/tasks/{quote(code)}?done=decide", status_code=303)


@router.post("/tasks/{code}/remind")
def remind(request: Request, code: str, form: Posted) -> Response:
    """催办, one click from the inbox (htmx swaps the button for the answer) or from the task page."""
    session = signed_in_person(request)
    try:
        as_person(session, steps.remind, engine_app(request), session.person_id, code, text(form, "note"))
    except DubanError as exc:
        if request.headers.get("HX-Request"):
            from html import escape

            return HTMLResponse(f'<span class="error">{escape(exc.render(lang_of(request)))}</span>', status_code=200)
        return _refused(request, code, "remind", exc)
    if request.headers.get("HX-Request"):
        return HTMLResponse(f'<span class="ok">{_words(request, "已催办", "reminded")}</span>')
    return RedirectResponse(f"/tasks/{quote(code)}?done=step", status_code=303)


@router.get("/evidence/{sha256}")
def evidence(request: Request, sha256: str) -> Response:
    session = signed_in_person(request)
    found = as_person(session, visibility.evidence, engine_app(request), session.person_id, sha256)
    return FileResponse(
        found.path,
        media_type=media_type(found.name),
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )
