"""The application factory: the engine wired once, the page groups registered here, errors rendered safely.

Extension point for more pages: add a module under ``web/routes`` with a
``router`` and list it in ``ROUTERS``; add its templates under ``web/templates``
(one per page, extending ``base.html``) and a link in ``base.html``'s nav.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.errors import DubanError, InvalidInput
from duban.engine.domain.text import Bilingual
from duban.engine.services.workspace import open_workspace

from . import rows  # noqa: F401  (registers the row-drawing globals the templates call)
from .context import CsrfRefused, PasswordChangeNeeded, SignInNeeded, lang_of, render, templates
from .on_loop import pages_on_loop
from .routes import (
    admin,
    api,
    assign,
    auth,
    board,
    circulars,
    co_units,
    inbox,
    ledger,
    splitting,
    substitutes,
    task_supervision,
    tasks,
)

ROUTERS = (
    auth.router,
    inbox.router,
    tasks.router,
    task_supervision.router,
    co_units.router,
    substitutes.router,
    splitting.router,
    api.router,
    ledger.router,
    board.router,
    circulars.router,
    assign.router,
    admin.router,
)
VIEW_THREADS = "DUBAN_WEB_THREADS"
DEFAULT_VIEW_THREADS = 2
STATUS = {2: 400, 3: 404, 4: 403, 5: 409, 6: 409, 7: 503, 8: 409}
log = logging.getLogger("duban.web")


def api_operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """(method, path, summary, parameters) of every operation in an OpenAPI schema, in path order."""
    out = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in methods.items():
            params = [
                f"{p.get('name')} ({p.get('in')}{', required' if p.get('required') else ''})"
                for p in op.get("parameters", [])
            ]
            if "requestBody" in op:
                params.append("JSON body")
            out.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""), "params": params})
    return out


def status_of(error: DubanError) -> int:
    return STATUS.get(error.exit_code, 400)


def view_threads(settings: Settings) -> int:
    """DUBAN_WEB_THREADS (default 2; ``duban serve --threads``): how many views one worker process runs at once in
    threads (on SQLite the short read-only pages run on the event loop beside them: web/on_loop.py).

    A view is CPU work under one interpreter lock (SQLite in the process, Jinja2), and Starlette runs each in
    a thread from anyio's pool of 40. More threads than that only interleave the views, and the lock is handed
    over unfairly: with 16 clients on two workers a worker's p95 was 2.4× its p50, where with 2 threads the
    rest wait their turn in order and finish about together (benchmarks/README.md: p95 126–205 ms with 40,
    57–83 ms with 2, and more requests per second). Two, not one, so that a long view (an upload's dry run,
    a circular over a year) holds one thread while the pages go on in the other."""
    raw = settings.extra.get(VIEW_THREADS, "").strip()
    if not raw:
        return DEFAULT_VIEW_THREADS
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise InvalidInput(
            what=VIEW_THREADS,
            detail=Bilingual(f"'{raw}' 应为 1 到 64 的整数", f"'{raw}' must be a whole number from 1 to 64"),
        )
    return int(raw)


def create_app(settings: Settings | None = None, engine: App | None = None) -> FastAPI:
    """A web application over one engine; ``engine`` lets tests and ``duban serve`` pass theirs."""
    if engine is None:
        engine = App.build(settings or Settings.from_env())
        open_workspace(engine)
    threads = view_threads(engine.settings)

    @asynccontextmanager
    async def lifespan(_web: FastAPI) -> AsyncIterator[None]:
        # the pool sync views (and file reads) run in, per event loop: set in the loop that will serve
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    web = FastAPI(
        lifespan=lifespan,
        title="duban 督办",
        version="1",
        debug=False,
        docs_url=None,  # FastAPI's Swagger UI loads its script from a CDN: the page below is served from here
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    web.state.duban = engine
    web.state.pages_on_loop = pages_on_loop(engine.db.dialect)  # web/on_loop.py
    web.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for router in ROUTERS:
        web.include_router(router)

    @web.get("/api/docs", include_in_schema=False)
    def _api_docs(request: Request) -> Response:
        """The API's operations, read from its own OpenAPI schema and drawn here: no script from elsewhere."""
        return templates.TemplateResponse(request, "api_docs.html", {"operations": api_operations(web.openapi())})

    _error_pages(web)

    @web.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """In the event loop (nothing here blocks): no hop to a worker thread, no serialising a model."""
        return Response(b'{"status":"ok"}', media_type="application/json")

    return web


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_pages(web: FastAPI) -> None:
    """Every refusal as a page in the reader's language, or as JSON under /api/; never a traceback."""

    @web.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _exc: SignInNeeded) -> Response:
        if is_api(request):
            return JSONResponse({"error": "not signed in"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={target}" if target != "/" else "/signin", status_code=303)

    @web.exception_handler(PasswordChangeNeeded)
    async def _password(request: Request, _exc: PasswordChangeNeeded) -> Response:
        if is_api(request):
            return JSONResponse({"error": "password change needed"}, status_code=403)
        return RedirectResponse("/password", status_code=303)

    @web.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _exc: CsrfRefused) -> Response:
        lang = lang_of(request)
        message = (
            "表单已过期或来源不明，请返回刷新后重试"
            if lang == "zh"
            else "the form expired or did not come from this site; go back, reload and try again"
        )
        return render(request, "error.html", status=403, message=message)

    @web.exception_handler(DubanError)
    async def _duban(request: Request, exc: DubanError) -> Response:
        lang = lang_of(request)
        if is_api(request):
            return JSONResponse({"error": exc.render(lang), "kind": type(exc).__name__}, status_code=status_of(exc))
        return render(request, "error.html", status=status_of(exc), message=exc.render(lang))

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request):
            return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)
        lang = lang_of(request)
        words = {
            404: ("页面不存在", "not found"),
            403: ("无权访问", "forbidden"),
            413: ("上传的文件太大", "the upload is too large"),
        }
        zh, en = words.get(exc.status_code, ("请求无效", "bad request"))
        return render(request, "error.html", status=exc.status_code, message=zh if lang == "zh" else en)

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_api(request):
            return JSONResponse({"error": "invalid request", "detail": exc.errors()}, status_code=422)
        lang = lang_of(request)
        return render(
            request,
            "error.html",
            status=400,
            message="请求内容不完整或格式不对" if lang == "zh" else "the request is incomplete or malformed",
        )

    @web.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)  # the trace goes to the log, never to the page
        if is_api(request):
            return JSONResponse({"error": "internal error"}, status_code=500)
        lang = lang_of(request)
        return render(
            request,
            "error.html",
            status=500,
            message="服务器内部错误，已记录，请稍后再试"
            if lang == "zh"
            else "internal error; it was logged, please try again later",
        )
