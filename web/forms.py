"""Reading a posted form: its size bounded, its CSRF token checked before any field is looked at."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from duban.engine.app import App

from .context import SESSION_COOKIE, check_csrf, defer_csrf, engine_app

MAX_FILES = 10
DEFAULT_UPLOAD_MB = 20


def max_upload_bytes(app: App) -> int:
    """DUBAN_WEB_MAX_UPLOAD_MB (default 20): the largest evidence file one may upload."""
    try:
        return int(float(app.settings.extra.get("DUBAN_WEB_MAX_UPLOAD_MB", DEFAULT_UPLOAD_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_UPLOAD_MB * 1024 * 1024


async def posted_form(request: Request) -> FormData:
    """Every POST of a page goes through here: a request larger than the files allowed is refused unread."""
    limit = max_upload_bytes(engine_app(request)) * MAX_FILES + 1024 * 1024
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise HTTPException(status_code=413)
    form = await request.form(max_files=MAX_FILES, max_fields=100)
    token = form.get("csrf") or request.headers.get("X-CSRF-Token")  # htmx sends the header (base.html)
    sent = token if isinstance(token, str) else None
    if SESSION_COOKIE not in request.cookies:
        check_csrf(request, sent)  # the sign-in form's double-submit cookie: no database, checked here
    else:
        # Checked when the view reads the session (``session_of``), in the view's own thread: one hop to a
        # worker thread per request instead of two, and one session query. Every POST view reads the session
        # first; tests/integration/test_web_http.py::test_every_form_is_refused_without_its_csrf_token holds them to it.
        defer_csrf(request, sent)
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def integer(form: FormData, name: str) -> int | None:
    value = text(form, name)
    return int(value) if value.lstrip("-").isdigit() and len(value) < 10 else None


Posted = Annotated[FormData, Depends(posted_form)]  # a view's parameter: the form, CSRF already checked
