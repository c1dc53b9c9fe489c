"""牵头/配合 on the task page: a co-unit signs for or reports on its part; the lead leader waives one."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban.engine.domain.errors import DubanError, UnknownTask
from duban.engine.services import co_units, visibility

from ..context import as_person, engine_app, signed_in_person
from ..forms import Posted, text
from ..forms import integer as int_field
from .tasks import _page, _refused, _words

router = APIRouter(include_in_schema=False)


@router.post("/tasks/{code}/co-unit")
def co_unit_step(request: Request, code: str, form: Posted) -> Response:
    session = signed_in_person(request)
    step, unit, comment = text(form, "step"), text(form, "unit"), text(form, "comment")
    version = int_field(form, "if_version")
    if step not in co_units.STEPS:
        return _page(
            request, code, status=400, errors={"co_unit": {"_form": _words(request, "无此操作", "no such step")}}
        )
    try:
        app = engine_app(request)
        if not as_person(session, visibility.may_see_task, app, session.person_id, code):
            raise UnknownTask(code=code)  # another unit's task is refused as unknown
        as_person(
            session, co_units.co_unit_step, app, session.person_id, code, step, unit or None, comment or None, version
        )
    except DubanError as exc:
        return _refused(request, code, f"co-{step}", exc)
    return RedirectResponse(f"/tasks/{quote(code)}?done=step", status_code=303)
