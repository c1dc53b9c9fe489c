"""通报: the report for a chosen period or day as a page, its chart (SVG, cached by the figures' key),
downloads in every format, and the circulars issued so far with their stored files."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from duban.engine.services import board_view
from duban.engine.services.report_files import FORMATS

from ..context import as_person, engine_app, lang_of, render, signed_in_person
from ._pages import download

router = APIRouter(include_in_schema=False)


def _period(request: Request) -> tuple[str, str, str]:
    q = request.query_params
    return q.get("period", "")[:10], q.get("as_of", "")[:10], q.get("campaign", "")[:200]


@router.get("/circulars")
def circulars_page(request: Request) -> Response:
    session = signed_in_person(request)
    page = as_person(session, board_view.circulars_page, engine_app(request), session.person_id, *_period(request))
    period, as_of, campaign = _period(request)
    return render(
        request,
        "circulars.html",
        page=page,
        formats=FORMATS,
        q={"period": period, "as_of": as_of, "campaign": campaign},
    )


@router.get("/circulars/chart.svg")
def chart_svg(request: Request) -> Response:
    """The chart is drawn once per set of figures: the page links it with its key, so browsers keep it."""
    session = signed_in_person(request)
    found = as_person(
        session, board_view.chart, engine_app(request), session.person_id, *_period(request), lang_of(request)
    )
    if request.headers.get("if-none-match") == f'"{found.key}"':
        return Response(status_code=304)
    return Response(
        found.svg,
        media_type="image/svg+xml",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",  # opened on its own: inert
            "ETag": f'"{found.key}"',
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/circulars/report.{fmt}")
def report_download(request: Request, fmt: str) -> Response:
    session = signed_in_person(request)
    found = as_person(
        session,
        board_view.report_file,
        engine_app(request),
        session.person_id,
        *_period(request),
        fmt,
        lang_of(request),
    )
    return download(found.name, found.media_type, found.content)


@router.get("/circulars/{circular_id}")
def circular_page(request: Request, circular_id: str) -> Response:
    session = signed_in_person(request)
    found = as_person(session, board_view.circular, engine_app(request), session.person_id, circular_id)
    return render(request, "circular.html", c=found)


@router.get("/circulars/{circular_id}/files/{name}")
def circular_file(request: Request, circular_id: str, name: str) -> Response:
    session = signed_in_person(request)
    found = as_person(session, board_view.stored_file, engine_app(request), session.person_id, circular_id, name)
    if found is None:
        raise HTTPException(status_code=404)
    return download(found.name, found.media_type, found.content, cache="private, max-age=3600")
