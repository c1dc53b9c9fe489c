"""The JSON API (/api/v1): the CLI's stable ``--json`` keys, token authentication, the same services.

For scripts and WeCom/DingTalk mini-programs: ``Authorization: Bearer <token>``
with a token from ``duban account token PERSON``. The API sees exactly what its
person sees on the pages and may do exactly what they may do.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from duban.cli.tasks import listed_json, shown_json
from duban.engine.domain.text import Bilingual
from duban.engine.services import accounts, steps, visibility
from duban.engine.services.accounts import CurrentSession
from duban.engine.services.queries import TaskFilter

from ..context import SignInNeeded, as_person, engine_app

router = APIRouter(prefix="/api/v1", tags=["tasks"])


class StepIn(BaseModel):
    comment: str | None = Field(None, description="The reason, where the step requires one.")
    if_version: int | None = Field(None, description="Refuse (409) if the task is no longer at this version.")
    unit: str | None = Field(None, description="reassign, propose_transfer: the unit it goes to (改派 / 提请转办).")
    on_site: bool = Field(False, description="verify, send_back: checked on site (复核; default: on paper).")


def _token_session(request: Request) -> CurrentSession:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = accounts.token_owner(engine_app(request), token.strip() if scheme.lower() == "bearer" else None)
    if found is None:
        raise SignInNeeded()
    account, person = found
    return CurrentSession("", account, person, "", False, datetime.max)


def _json(value: Any, request: Request, status: int = 200) -> JSONResponse:
    tz = engine_app(request).tz

    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return obj.astimezone(tz).isoformat()
        if isinstance(obj, date):
            return obj.isoformat()
        if isinstance(obj, Bilingual):
            return {"zh": obj.zh, "en": obj.en}
        if is_dataclass(obj):
            return asdict(obj)  # type: ignore[arg-type]
        raise TypeError(type(obj).__name__)

    return JSONResponse(json.loads(json.dumps(value, ensure_ascii=False, default=default)), status_code=status)


@router.get(
    "/tasks",
    summary="A page of the tasks you may see, in code order (the keys of `duban list --json`); "
    "the X-Next-After header, when present, is the `after` of the next page",
)
def list_tasks(
    request: Request,
    state: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    unit: str | None = None,
    campaign: str | None = None,
    workflow: str | None = None,
    light: Annotated[list[str], Query()] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    after: Annotated[str | None, Query(max_length=32)] = None,
) -> JSONResponse:
    session = _token_session(request)
    flt = TaskFilter(states=tuple(state), unit=unit, campaign=campaign, workflow=workflow, lights=tuple(light))
    page = as_person(
        session, visibility.visible_page, engine_app(request), session.person_id, flt, limit=limit, after=after
    )
    response = _json(listed_json(engine_app(request), page.rows), request)
    if page.next_after:
        response.headers["X-Next-After"] = page.next_after
    return response


@router.get("/tasks/{code}", summary="One task with its timeline and what you may do (the keys of `duban show --json`)")
def show_task(request: Request, code: str) -> JSONResponse:
    session = _token_session(request)
    detail = as_person(session, visibility.visible_task, engine_app(request), session.person_id, code)
    return _json(shown_json(engine_app(request), detail), request)


@router.post("/tasks/{code}/{trigger}", summary="Take a step (the keys of a transition command's --json)")
def take_step(request: Request, code: str, trigger: str, body: Annotated[StepIn | None, Body()] = None) -> JSONResponse:
    session = _token_session(request)
    app = engine_app(request)
    body = body or StepIn(comment=None, if_version=None, unit=None, on_site=False)
    result = as_person(
        session,
        steps.take_step,
        app,
        session.person_id,
        code,
        trigger,
        body.comment,
        body.if_version,
        unit=body.unit,
        on_site=body.on_site,
    )
    o = result.outcome
    return _json(
        {"code": result.code, "trigger": o.trigger, "from": o.source, "to": o.dest, "version": result.version}, request
    )
