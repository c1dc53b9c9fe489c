"""分解 on the task page: split a task into a sub-task for a lower unit, and close a sub-task out.

The same services as ``duban split`` and ``duban close-out``; a refusal re-renders the task page with the
message in the form, and nothing is written.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban.engine.domain.errors import DubanError
from duban.engine.services import splitting

from ..context import as_person, engine_app, signed_in_person
from ..forms import Posted, text
from .tasks import _page, _refused, _words

router = APIRouter(include_in_schema=False)


@router.post("/tasks/{code}/split")
def split_task(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    unit = text(form, "unit")
    if not unit:
        message = _words(request, "请填写下级单位", "name the lower unit")
        return _page(request, code, status=400, errors={"split": {"unit": message}})
    sub = splitting.NewSubTask(
        parent=code,
        unit=unit,
        title=text(form, "title") or None,
        deadline=text(form, "deadline") or None,
        comment=text(form, "comment") or None,
    )
    try:
        as_person(session, splitting.split, engine_app(request), session.person_id, sub)
    except DubanError as exc:
        return _refused(request, code, "split", exc)
    # back to the parent, where the new sub-task is rolled up (its own page is the lower unit's)
    return RedirectResponse(f"/tasks/{quote(code)}?done=step#sub-tasks", status_code=303)


@router.post("/tasks/{code}/close-out")
def close_out(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    comment = text(form, "comment")
    if not comment:
        message = _words(request, "请填写理由", "a reason is required")
        return _page(request, code, status=400, errors={"close_out": {"comment": message}})
    try:
        as_person(session, splitting.close_out, engine_app(request), session.person_id, code, comment)
    except DubanError as exc:
        return _refused(request, code, "close_out", exc, field="comment" if "理由" in str(exc) else "_form")
    return RedirectResponse(f"/tasks/{quote(code)}?done=step", status_code=303)
