"""我的待办: the first page after signing in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban.engine.services.inbox import inbox

from ..context import as_person, engine_app, render, signed_in_person
from ..on_loop import quick_page

router = APIRouter(include_in_schema=False)


@router.get("/")
@quick_page()
def inbox_page(request: Request) -> Response:
    session = signed_in_person(request)
    box = as_person(session, inbox, engine_app(request), session.person_id, request.query_params.get("after", "")[:200])
    return render(request, "inbox.html", box=box)
