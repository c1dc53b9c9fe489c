"""交办: the assign form, its deadline preview (htmx), and the submission through ``tasks.assign``.

A refusal puts its message beside the field it concerns and writes nothing (``assign`` checks everything
before its one transaction).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban.engine.domain.errors import DubanError, InvalidInput, UnknownPerson, UnknownUnit
from duban.engine.services import assign_view
from duban.engine.services.tasks import NewTask, assign

from ..context import as_person, engine_app, lang_of, render, signed_in_person
from ..forms import Posted, text
from ._pages import words

router = APIRouter(include_in_schema=False)
FIELDS = ("title", "unit", "leader", "deadline", "category", "campaign", "measures", "problem", "co_units", "priority")
WHAT_TO_FIELD = {  # InvalidInput's "what", as the engine names it, to the form's field
    "title": "title",
    "unit": "unit",
    "leader": "leader",
    "lead leader": "leader",
    "deadline": "deadline",
    "category": "category",
    "campaign": "campaign",
    "problem": "problem",
    "measure": "measures",
    "co-unit": "co_units",
    "priority": "priority",
    "field": "fields",
}


def _form_page(
    request: Request, status: int = 200, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    session = signed_in_person(request)
    choices = as_person(session, assign_view.assign_choices, engine_app(request), session.person_id)
    return render(request, "assign.html", status=status, choices=choices, values=values or {}, errors=errors or {})


@router.get("/assign")
def assign_form(request: Request) -> Response:
    return _form_page(request)


@router.get("/assign/deadline")
def deadline_preview(request: Request) -> Response:
    """The htmx fragment under the deadline field: the date it means, in working days from today."""
    session = signed_in_person(request)
    q = request.query_params
    found = as_person(
        session,
        assign_view.preview_deadline,
        engine_app(request),
        q.get("deadline", ""),
        q.get("campaign", ""),
        q.get("workflow", ""),
        lang_of(request),
    )
    return render(request, "_deadline_preview.html", p=found)


@router.post("/assign")
def assign_submit(request: Request, form: Posted) -> Response:
    session = signed_in_person(request)
    values = {f: text(form, f) for f in FIELDS} | {"workflow": text(form, "workflow") or "rectification"}
    prefix = f"field.{values['workflow']}."  # the chosen workflow's own fields; the others' are ignored
    own = {k: text(form, k) for k in form if isinstance(k, str) and k.startswith(prefix)}
    values |= own
    errors: dict[str, str] = {}
    if not values["title"]:
        errors["title"] = words(request, "请填写任务名称", "give the task a title")
    if not values["unit"]:
        errors["unit"] = words(request, "请选择责任单位", "choose the responsible unit")
    if not values["leader"]:
        errors["leader"] = words(request, "请选择责任领导", "choose the lead leader")
    if errors:
        return _form_page(request, 400, values, errors)
    new = NewTask(
        title=values["title"],
        unit=values["unit"],
        leader=values["leader"],
        workflow=values["workflow"],
        deadline=values["deadline"] or None,
        category=values["category"] or None,
        campaign=values["campaign"] or None,
        measures=[m for m in values["measures"].splitlines() if m.strip()],
        problem=values["problem"] or None,
        co_units=[u for u in form.getlist("co_units") if isinstance(u, str) and u.strip()],
        priority=values["priority"] or None,
        fields={k[len(prefix) :]: v for k, v in own.items() if v},
    )
    try:
        code = as_person(session, assign, engine_app(request), session.person_id, new)
    except DubanError as exc:
        from ..app import status_of

        field = "_form"
        if isinstance(exc, InvalidInput):
            what = str(exc.params.get("what", ""))
            field = "fields" if what.startswith("field") else WHAT_TO_FIELD.get(what, "_form")
        elif isinstance(exc, UnknownUnit):
            field = "unit" if exc.params.get("unit") == new.unit else "co_units"
        elif isinstance(exc, UnknownPerson):
            field = "leader"
        values["co_units_list"] = "\n".join(new.co_units)
        return _form_page(request, status_of(exc), values, {field: exc.render(lang_of(request))})
    return RedirectResponse(f"/tasks/{quote(code)}?done=step", status_code=303)
