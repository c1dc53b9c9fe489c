"""管理: the organisation by upload, people and their accounts, workflow diagrams, settings (secrets masked).

Every service called here checks the admin role itself; the views only parse and render.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban.engine.domain.errors import DubanError
from duban.engine.services import accounts, admin_view

from ..context import as_person, engine_app, lang_of, render, signed_in_person
from ..forms import Posted
from ._pages import read_upload, words

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin_page(request: Request) -> Response:
    session = signed_in_person(request)
    app = engine_app(request)
    people = as_person(session, admin_view.people_and_accounts, app, session.person_id)
    shown = as_person(session, admin_view.settings_shown, app, session.person_id)
    return render(request, "admin.html", people=people, shown=shown, reset=None)


@router.post("/admin/accounts/{person}/reset")
def reset_password(request: Request, person: str, form: Posted) -> Response:
    """An admin resets a person's web password: a temporary one, shown once here, changed at their next sign-in."""
    session = signed_in_person(request)
    app = engine_app(request)
    reset = as_person(session, accounts.reset_password, app, session.person_id, person)
    people = as_person(session, admin_view.people_and_accounts, app, session.person_id)
    shown = as_person(session, admin_view.settings_shown, app, session.person_id)
    response = render(request, "admin.html", people=people, shown=shown, reset=reset)
    response.headers["Cache-Control"] = "no-store"  # the temporary password must not stay in a cache
    return response


@router.get("/admin/workflows")
def workflows_page(request: Request) -> Response:
    session = signed_in_person(request)
    found = as_person(session, admin_view.diagrams, engine_app(request), session.person_id, lang_of(request))
    return render(request, "admin_workflows.html", diagrams=found)


@router.get("/admin/org")
def org_form(request: Request) -> Response:
    session = signed_in_person(request)
    as_person(session, admin_view.require_admin, engine_app(request), session.person_id)
    return render(request, "admin_org.html", counts=None, errors={})


@router.post("/admin/org")
def org_upload(request: Request, form: Posted) -> Response:
    session = signed_in_person(request)
    app = engine_app(request)
    as_person(session, admin_view.require_admin, app, session.person_id)
    upload = read_upload(request, form, "file")
    if upload is None:
        errors = {"file": words(request, "请选择组织架构文件（.yaml）", "choose the organisation file (.yaml)")}
        return render(request, "admin_org.html", status=400, counts=None, errors=errors)
    try:
        counts = as_person(session, admin_view.import_organisation, app, session.person_id, upload[0], upload[1])
    except DubanError as exc:
        from ..app import status_of

        return render(
            request, "admin_org.html", status=status_of(exc), counts=None, errors={"file": exc.render(lang_of(request))}
        )
    return render(request, "admin_org.html", counts=counts, errors={})
