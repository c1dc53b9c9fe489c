"""Short read-only pages run on the event loop when the workspace is SQLite (``quick_page``).

Why: Starlette runs a sync view in a worker thread. On SQLite a page's reads are CPU work in this process, under
one interpreter lock, with no network wait for a thread to overlap, so the hop to the thread and back is pure
cost: 0.3 ms of a 2.6 ms ledger page (100,000 tasks, one client), and with 16 clients on one worker the cheap
pages' p50 fell from 67 to 40 ms on the loop (benchmarks/README.md). Only reads bounded by an index and a page
are marked (the inbox, the unfiltered ledger, the task page): a step (which may wait for SQLite's write lock),
an upload, an export, a circular, the board and a filtered ledger stay in the worker threads
(DUBAN_WEB_THREADS), so a long one never holds the loop. On PostgreSQL every query waits on the network, which a
thread overlaps: there each marked page runs in a thread like the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

P = ParamSpec("P")


def pages_on_loop(dialect: str) -> bool:
    return dialect == "sqlite"


def quick_page(
    *, slow_when: tuple[str, ...] = ()
) -> Callable[[Callable[P, Response]], Callable[P, Awaitable[Response]]]:
    """A sync page view (taking the request first) run on the event loop on SQLite, in a thread otherwise, and in a
    thread as well when one of the query parameters ``slow_when`` is given: a filter may walk the whole table
    before the page fills (a fifth of a second at a million tasks), which must not hold the worker's other
    requests."""

    def mark(view: Callable[P, Response]) -> Callable[P, Awaitable[Response]]:
        @functools.wraps(view)
        async def run(*args: P.args, **kwargs: P.kwargs) -> Response:
            request = args[0] if args else kwargs["request"]
            assert isinstance(request, Request)
            if request.app.state.pages_on_loop and not any(request.query_params.get(k) for k in slow_when):
                return view(*args, **kwargs)
            return await run_in_threadpool(view, *args, **kwargs)

        return run

    return mark
