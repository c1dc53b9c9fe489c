"""代理 on the task page: a signed-in substitute takes a step for the person they stand in for.

Kept apart from routes/tasks.py: the step is checked against the absent person's roles and relations and
recorded with both names, exactly as ``duban --for`` at a terminal.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban.engine.domain.errors import DubanError
from duban.engine.services import substitutes

from ..context import as_person, engine_app, signed_in_person
from ..forms import Posted, text
from ..forms import integer as int_field
from .tasks import REASON_STEPS, _page, _refused, _words

router = APIRouter(include_in_schema=False)


@router.post("/tasks/{code}/step-for")
def take_step_for(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    absent, trigger = text(form, "for"), text(form, "trigger")
    comment, version = text(form, "comment"), int_field(form, "if_version")
    where = f"for-{absent}-{trigger}"
    if trigger in REASON_STEPS and not comment:
        return _page(
            request,
            code,
            status=400,
            errors={where: {"comment": _words(request, "请填写理由", "a reason is required")}},
        )
    try:
        as_person(
            session,
            substitutes.step_for,
            engine_app(request),
            session.person_id,
            absent,
            code,
            trigger,
            comment,
            version,
        )
    except DubanError as exc:
        return _refused(request, code, where, exc)
    return RedirectResponse(f"/tasks/{quote(code)}?done=step", status_code=303)
