"""Short read-only pages run on the event loop on SQLite and in a worker thread on PostgreSQL (web/on_loop.py)."""

from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse, Response

from duban.web.on_loop import pages_on_loop, quick_page


def _threads_seen(on_loop: bool, query: str = "") -> tuple[int, int]:
    """(the event loop's thread, the thread a quick page ran in) in a tiny app run by Starlette."""
    app = FastAPI()
    app.state.pages_on_loop = on_loop

    @app.get("/loop")
    async def loop_thread() -> Response:
        return JSONResponse(threading.get_ident())

    @app.get("/page")
    @quick_page(slow_when=("text",))
    def page(request: Request) -> Response:
        return JSONResponse(threading.get_ident())

    with TestClient(app) as client:
        return client.get("/loop").json(), client.get("/page" + query).json()


def test_a_quick_page_runs_on_the_loop_only_where_told() -> None:
    loop, page = _threads_seen(True)
    assert page == loop
    loop, page = _threads_seen(False)  # PostgreSQL: a query waits on the network, which a thread overlaps
    assert page != loop
    loop, page = _threads_seen(True, "?text=路灯")  # a text search scans the table: never on the loop
    assert page != loop
    loop, page = _threads_seen(True, "?text=")  # an empty filter is no search
    assert page == loop
    assert pages_on_loop("sqlite") and not pages_on_loop("postgresql")
