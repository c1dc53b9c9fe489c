"""The web workspace under load: the inbox, the ledger (first page, a deep keyset page, a unit member's view)
and the task page on n tasks, as HTTP requests to a real uvicorn on loopback, beside the bare service call
behind each page in the same run; and a transition through the web against the same step in-process.

The tasks are written straight into the tables by report_bench's population (about four events each).
The server is uvicorn in a thread of this process; the clients are httpx in a separate process (asyncio,
1 and 16 concurrent clients, each signed in with its own session), so the client's work does not share the
server's interpreter lock. Latencies are per request, p50 and p95; the ratio is web p50 / service p50.

    python benchmarks/web_bench.py [--n 100000] [--requests 200]
    python benchmarks/web_bench.py --quick            # 5,000 tasks, 40 requests: a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import re
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.report_bench import NOW, populate  # noqa: E402
from benchmarks.scratch import Scratch  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.services.accounts import set_password  # noqa: E402
from duban.engine.services.identity import SignedIn, signed_in  # noqa: E402
from duban.engine.services.inbox import inbox  # noqa: E402
from duban.engine.services.ledger_view import LedgerRequest, encode_cursor, ledger_page  # noqa: E402
from duban.engine.services.steps import take_step  # noqa: E402
from duban.engine.services.visibility import task_page  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
PASSWORD = "bench-password-2026"
LEADER, MEMBER = "zhangwei", "fenglei"  # a leader sees every task; fenglei heads 社会事务科 (1/50 of them)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the client process ------------------------------------------------------------------------------------


SPAN: list[float] = []  # start and end of every request: throughput excludes the sign-ins (Argon2 is slow on purpose)


async def _client(base: str, person: str, urls: list[str], out: list[float], ready: asyncio.Barrier) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        page = await c.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await c.post("/signin", data={"account": person, "password": PASSWORD, "csrf": csrf, "next": "/"})
        assert r.status_code in (200, 303), r.status_code
        await ready.wait()
        for url in urls:
            t = time.perf_counter()
            r = await c.get(url)
            done = time.perf_counter()
            out.append(done - t)
            SPAN.extend((t, done))
            assert r.status_code == 200, (url, r.status_code)


async def _post_steps(base: str, person: str, codes: list[str], out: list[float], ready: asyncio.Barrier) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        page = await c.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        await c.post("/signin", data={"account": person, "password": PASSWORD, "csrf": csrf, "next": "/"})
        token = re.search(r'name="csrf" value="([^"]+)"', (await c.get("/")).text).group(1)  # type: ignore[union-attr]
        await ready.wait()
        for code in codes:
            t = time.perf_counter()
            r = await c.post(f"/tasks/{code}/step", data={"csrf": token, "trigger": "start"})
            done = time.perf_counter()
            out.append(done - t)
            SPAN.extend((t, done))
            assert r.status_code == 303, (code, r.status_code, r.text[-300:])


def _load(job: dict[str, Any], queue: Any) -> None:
    """In the client process: ``clients`` concurrent signed-in clients share ``urls`` (or ``codes`` to start)."""
    out: list[float] = []

    async def main() -> None:
        k = job["clients"]
        ready = asyncio.Barrier(k)  # every client signed in before the first measured request
        if "codes" in job:
            parts = [job["codes"][i::k] for i in range(k)]
            await asyncio.gather(*(_post_steps(job["base"], job["person"], p, out, ready) for p in parts))
        else:
            parts = [job["urls"][i::k] for i in range(k)]
            await asyncio.gather(*(_client(job["base"], job["person"], p, out, ready) for p in parts))

    try:
        asyncio.run(main())
    except BaseException as exc:  # the parent waits on the queue: always answer it
        queue.put({"error": repr(exc)})
        raise
    queue.put({"latencies": out, "wall": max(SPAN) - min(SPAN)})


def load(job: dict[str, Any]) -> dict[str, Any]:
    queue: Any = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=_load, args=(job, queue))
    proc.start()
    result = queue.get(timeout=3600)
    proc.join()
    if "error" in result:
        raise RuntimeError(f"the client process failed: {result['error']}")
    return result  # type: ignore[no-any-return]


# --- the server and the bare services ----------------------------------------------------------------------


def workspace(n: int, scratch: Scratch) -> App:
    db = scratch.sqlite("web")
    app = App.build(Settings(database_url=db), clock=FixedClock(NOW))
    init_workspace(app, ORG, single_desk=True)
    populate(app, n)
    with app.db.engine.begin() as conn:  # the population's stand-in chain positions: new events follow them
        conn.execute(text("UPDATE chain_head SET seq = (SELECT MAX(chain_seq) FROM events) WHERE id = 1"))
    for person in (LEADER, MEMBER):
        set_password(app, person, person, PASSWORD)
    return app


def serve(app: App) -> tuple[Any, str]:
    import uvicorn

    from duban.web.app import create_app

    port = _free_port()
    # keep-alive longer than the sign-ins take: 16 clients sign in (Argon2, slow on purpose) before the first
    # measured request, and uvicorn's default of 5 s closed the first clients' idle connections meanwhile
    config = uvicorn.Config(
        create_app(engine=app), host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=600
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def bare(person: str, fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    token = signed_in.set(SignedIn(f"web:{person}", person))
    try:
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    finally:
        signed_in.reset(token)
    return out


def codes_to_start(app: App, count: int) -> list[str]:
    """Fresh tasks of fenglei's unit, assigned through the service, so each start is a real chained step."""
    from duban.engine.services.tasks import NewTask, assign

    token = signed_in.set(SignedIn("web:wangjun", "wangjun"))
    try:
        return [
            assign(
                app, "wangjun", NewTask(title=f"基准任务{i}", unit="社会事务科", leader=LEADER, deadline="2026-12-31")
            )
            for i in range(count)
        ]
    finally:
        signed_in.reset(token)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, requests = (5_000, 40) if args.quick else (args.n, args.requests)
    scratch = Scratch("", "duban-web-bench-")
    t = time.perf_counter()
    app = workspace(n, scratch)
    print(f"{n:,} tasks populated in {time.perf_counter() - t:.1f} s", flush=True)
    server, base = serve(app)
    mid = f"ZG-2026-{n // 2:07d}"
    deep = encode_cursor("code", type("Row", (), {"code": mid})())  # type: ignore[arg-type]
    pages: dict[str, tuple[str, str, Callable[[], Any]]] = {
        "inbox (unit head)": (MEMBER, "/", lambda: inbox(app, MEMBER)),
        "ledger page 1 (leader)": (LEADER, "/ledger", lambda: ledger_page(app, LEADER, LedgerRequest())),
        "ledger deep page (leader)": (
            LEADER,
            f"/ledger?after={deep}",
            lambda: ledger_page(app, LEADER, LedgerRequest(after=deep)),
        ),
        "ledger red, unit head": (
            MEMBER,
            "/ledger?light=red",
            lambda: ledger_page(app, MEMBER, LedgerRequest(light="red")),
        ),
        "task page": (LEADER, f"/tasks/{mid}", lambda: task_page(app, LEADER, mid)),
    }
    rows = []
    for name, (person, url, fn) in pages.items():
        fn()  # warm
        s50, s95 = percentiles(bare(person, fn, max(10, requests // 4)))
        line: dict[str, Any] = {"page": name, "service_p50_ms": s50 * 1000, "service_p95_ms": s95 * 1000}
        for clients in (1, 16):
            got = load({"base": base, "person": person, "urls": [url] * requests, "clients": clients})
            w50, w95 = percentiles(got["latencies"])
            line[f"web{clients}_p50_ms"], line[f"web{clients}_p95_ms"] = w50 * 1000, w95 * 1000
            line[f"web{clients}_rps"] = requests / got["wall"]
        line["ratio_1"] = line["web1_p50_ms"] / line["service_p50_ms"]
        rows.append(line)
        print(
            f"{name:28} service p50 {s50 * 1000:7.1f} ms p95 {s95 * 1000:7.1f} | web×1 p50 {line['web1_p50_ms']:7.1f} "
            f"p95 {line['web1_p95_ms']:7.1f} | web×16 p50 {line['web16_p50_ms']:7.1f} p95 {line['web16_p95_ms']:7.1f} "
            f"({line['web16_rps']:.0f} req/s) | web/service {line['ratio_1']:.1f}×",
            flush=True,
        )
    # The floor: what HTTP alone costs here (uvicorn, the client, the hops between them), with no session, no
    # database and no template. On a loaded machine it is most of a cheap page's time: each hop waits its turn.
    got = load({"base": base, "person": MEMBER, "urls": ["/healthz"] * requests, "clients": 1})
    f50, f95 = percentiles(got["latencies"])
    print(f"{'HTTP floor (/healthz)':28} web×1 p50 {f50 * 1000:7.1f} ms p95 {f95 * 1000:7.1f}", flush=True)
    rows.append({"page": "floor", "web1_p50_ms": f50 * 1000, "web1_p95_ms": f95 * 1000})
    steps = max(10, requests // 4)
    codes = codes_to_start(app, 2 * steps)
    in_process = bare(MEMBER, lambda: None, 0)
    token = signed_in.set(SignedIn(f"web:{MEMBER}", MEMBER))
    try:
        for code in codes[:steps]:
            t0 = time.perf_counter()
            take_step(app, MEMBER, code, "start", None, None)
            in_process.append(time.perf_counter() - t0)
    finally:
        signed_in.reset(token)
    got = load({"base": base, "person": MEMBER, "codes": codes[steps:], "clients": 1})
    i50, i95 = percentiles(in_process)
    w50, w95 = percentiles(got["latencies"])
    print(
        f"{'transition (start)':28} in-process p50 {i50 * 1000:7.1f} ms p95 {i95 * 1000:7.1f} | web p50 "
        f"{w50 * 1000:7.1f} p95 {w95 * 1000:7.1f} | web/in-process {w50 / i50:.1f}×"
    )
    rows.append({"page": "transition", "in_process_p50_ms": i50 * 1000, "web_p50_ms": w50 * 1000})
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"web_bench_{n}.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    server.should_exit = True
    app.close()


if __name__ == "__main__":
    main()
