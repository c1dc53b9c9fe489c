"""台账: the ledger page (filters, keyset pages, export) and importing a ledger by upload.

The import is two steps: the upload is dry-run and its row errors shown as a table; nothing is written
until the confirm button, which imports the very file the dry run read (kept by its SHA-256).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban.engine.domain.errors import DubanError
from duban.engine.services import ledger_view
from duban.engine.services.ledger_view import LedgerRequest

from ..context import as_person, engine_app, lang_of, render, signed_in_person
from ..forms import Posted, text
from ..on_loop import quick_page
from ._pages import download, read_upload, words

router = APIRouter(include_in_schema=False)
FILTERS = ("state", "unit", "light", "campaign", "category", "text", "sort")
# A filtered page may walk the whole code index before it fills (a rare state, a small unit, a text search):
# 12-20 ms at 100,000 tasks, ten times that at a million. Such a page runs in a thread (web/on_loop.py).
SCANNING_FILTERS = tuple(f for f in FILTERS if f != "sort")


def ledger_request(request: Request, **fixed: str) -> LedgerRequest:
    q = request.query_params
    values = {k: q.get(k, "").strip()[:200] for k in FILTERS}
    values.update(fixed)
    return LedgerRequest(after=q.get("after", "")[:400], **values)


@router.get("/ledger")
@quick_page(slow_when=SCANNING_FILTERS)
def ledger_page(request: Request) -> Response:
    session = signed_in_person(request)
    page = as_person(session, ledger_view.ledger_page, engine_app(request), session.person_id, ledger_request(request))
    return render(request, "ledger.html", page=page, base="/ledger", fixed_unit=None)


@router.get("/ledger/export.{fmt}")
def ledger_export(request: Request, fmt: str) -> Response:
    session = signed_in_person(request)
    found = as_person(
        session,
        ledger_view.export_current,
        engine_app(request),
        session.person_id,
        ledger_request(request),
        fmt,
        lang_of(request),
    )
    return download(found.name, found.media_type, found.content)


@router.get("/ledger/import")
def import_form(request: Request) -> Response:
    session = signed_in_person(request)
    as_person(session, ledger_view.require_import, engine_app(request), session.person_id)
    return render(request, "ledger_import.html", staged=None, done=None, errors={})


@router.post("/ledger/import")
def import_upload(request: Request, form: Posted) -> Response:
    """Dry run only: the table of row errors, and a confirm button if there is anything to import."""
    session = signed_in_person(request)
    app = engine_app(request)
    as_person(session, ledger_view.require_import, app, session.person_id)
    upload = read_upload(request, form, "file")
    if upload is None:
        errors = {"file": words(request, "请选择要导入的台账文件", "choose the ledger file to import")}
        return render(request, "ledger_import.html", status=400, staged=None, done=None, errors=errors)
    try:
        staged = as_person(
            session, ledger_view.stage_import, app, session.person_id, upload[0], upload[1], lang_of(request)
        )
    except DubanError as exc:
        from ..app import status_of

        errors = {"file": exc.render(lang_of(request))}
        return render(request, "ledger_import.html", status=status_of(exc), staged=None, done=None, errors=errors)
    return render(request, "ledger_import.html", staged=staged, done=None, errors={})


@router.post("/ledger/import/confirm")
def import_confirm(request: Request, form: Posted) -> Response:
    session = signed_in_person(request)
    try:
        done = as_person(
            session,
            ledger_view.confirm_import,
            engine_app(request),
            session.person_id,
            text(form, "sha256"),
            lang_of(request),
        )
    except DubanError as exc:
        from ..app import status_of

        errors = {"file": exc.render(lang_of(request))}
        return render(request, "ledger_import.html", status=status_of(exc), staged=None, done=None, errors=errors)
    return render(request, "ledger_import.html", staged=None, done=done, errors={})
