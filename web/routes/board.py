"""单位看板: the circular's per-unit table, live, and a unit's own page with its tasks (keyset pages)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban.engine.services import board_view, ledger_view

from ..context import as_person, engine_app, render, signed_in_person
from .ledger import ledger_request

router = APIRouter(include_in_schema=False)


@router.get("/board")
def board_page(request: Request) -> Response:
    session = signed_in_person(request)
    q = request.query_params
    report = as_person(
        session, board_view.board, engine_app(request), q.get("period", ""), q.get("as_of", ""), q.get("campaign", "")
    )
    return render(request, "board.html", report=report, q=q)


@router.get("/units/{name}")
def unit_page(request: Request, name: str) -> Response:
    """One unit's tasks, as the ledger shows them (only those this person may see)."""
    session = signed_in_person(request)
    page = as_person(
        session, ledger_view.ledger_page, engine_app(request), session.person_id, ledger_request(request, unit=name)
    )
    if page.errors.get("unit"):
        from fastapi import HTTPException

        raise HTTPException(status_code=404)
    from urllib.parse import quote

    return render(request, "unit.html", page=page, name=name, base=f"/units/{quote(name)}")
