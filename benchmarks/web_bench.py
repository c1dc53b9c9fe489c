"""The web workspace under load: the inbox, the ledger (first page, a deep keyset page, a unit member's view)
and the task page on n tasks, as HTTP requests on loopback, beside the bare service call behind each page in
the same run; and a transition through the web against the same step in-process.

The tasks are written straight into the tables by report_bench's population (about four events each).
Two servers, on the same database file and the same fixed clock:

- for the one-client rows and the CPU ratios, uvicorn in a thread of this process, so that this process's
  CPU time per request is the server's (the event loop and the worker running the view);
- for the 16-client rows, ``duban serve --workers 2`` as a subprocess: how the README and docker-compose tell
  a county to run it (each worker its own process and engine, SQLite in WAL with a busy timeout). Three rounds,
  each over 16 new connections, pooled, with how each round's connections were spread over the workers. The
  16 clients are also sent to the in-thread server once, labelled so: one process, one interpreter lock.

The clients run in a separate process and are lean on purpose: each is one keep-alive HTTP/1.1 connection on
a raw asyncio socket that writes the request's bytes and reads the head and Content-Length bytes of the answer
(``Conn``). httpx cost about as much CPU per request as the server's HTTP layer, and on a 2-core machine the
client's CPU is time the server waits for a core; httpx is used only to sign every client in once (Argon2 is
slow on purpose), before anything is measured. Each page is measured in rounds alternated (bare calls, then as
many requests by one client), so a change in the machine's load touches both sides alike; then by 16 clients at
once. Latencies are per request, p50 and p95; the ratio is web p50 / service p50. The task page's bare call is
the three services its view calls (the page, its supervision panel, its periodic reports). The transition is
also taken by 16 clients at once through the workers (16 concurrent writers on SQLite): every answer must be
the 303 of a step taken, never a 500 of a locked database.

    python benchmarks/web_bench.py [--n 100000] [--requests 200] [--workers 2]
    python benchmarks/web_bench.py --quick            # 5,000 tasks, 40 requests: a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing as mp
import os
import re
import shutil
import socket
import statistics
import subprocess
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
from duban.engine.services.report_duties import task_duties  # noqa: E402
from duban.engine.services.steps import take_step  # noqa: E402
from duban.engine.services.task_supervision import supervision_view  # noqa: E402
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
# One process for the whole run, started once: it signs every client in once (Argon2 is slow on purpose), keeps
# their cookies, and answers one job at a time, so the parent can alternate rounds of bare calls and requests.


async def _sign_in(base: str, person: str) -> dict[str, str]:
    """A signed-in session's cookies, and its CSRF token under "csrf"."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        page = await c.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await c.post("/signin", data={"account": person, "password": PASSWORD, "csrf": csrf, "next": "/"})
        assert r.status_code in (200, 303), r.status_code
        token = re.search(r'name="csrf" value="([^"]+)"', (await c.get("/")).text).group(1)  # type: ignore[union-attr]
        return {**dict(c.cookies), "csrf": token}


class Conn:
    """One keep-alive HTTP/1.1 connection on a raw asyncio socket: the request's bytes out, the answer's head
    and its Content-Length bytes in. Nothing else a client library does (cookie jars, URL objects, header
    models) runs per request, so the time measured is the server's and the loopback's."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nCookie: {self.cookie}\r\n"
        if method == "POST":
            head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", answer)
        assert length is not None, answer  # every answer here has a length: no chunked bodies
        return int(answer[9:12]), await self.reader.readexactly(int(length.group(1)))

    def close(self) -> None:
        self.writer.close()


async def _client(
    session: dict[str, str], job: dict[str, Any], out: list[float], span: list[float], statuses: list[int]
) -> None:
    cookie = "; ".join(f"{k}={v}" for k, v in session.items() if k != "csrf")
    conn = Conn(job["port"], cookie)
    await conn.open()
    await conn.request("GET", "/healthz")  # the connection open before the first measured request
    await job["ready"].wait()
    try:
        for item in job["part"]:
            t = time.perf_counter()
            if "codes" in job:
                status, body = await conn.request(
                    "POST", f"/tasks/{item}/step", f"csrf={session['csrf']}&trigger=start".encode()
                )
            else:
                status, body = await conn.request("GET", item)
            done = time.perf_counter()
            out.append(done - t)
            span.extend((t, done))
            statuses.append(status)
            if job.get("strict", True):
                assert status == (303 if "codes" in job else 200), (item, status, body[-300:])
    finally:
        conn.close()


def _serve_jobs(base: str, people: list[str], jobs: Any, answers: Any) -> None:
    """In the client process: sign 16 clients in per person, then run each job sent until None."""

    async def sign_all() -> dict[str, list[dict[str, str]]]:
        return {p: [await _sign_in(base, p) for _ in range(16)] for p in people}

    try:
        sessions = asyncio.run(sign_all())
    except BaseException as exc:
        answers.put({"error": repr(exc)})
        raise
    answers.put({"ready": True})
    while (job := jobs.get()) is not None:
        out: list[float] = []
        span: list[float] = []
        statuses: list[int] = []

        async def main(
            job: dict[str, Any] = job, out: list[float] = out, span: list[float] = span, statuses: list[int] = statuses
        ) -> None:
            k = job["clients"]
            items = job.get("codes") or job["urls"]
            ready = asyncio.Barrier(k)  # every client connected before the first measured request
            await asyncio.gather(
                *(
                    _client(
                        sessions[job["person"]][i], {**job, "part": items[i::k], "ready": ready}, out, span, statuses
                    )
                    for i in range(k)
                )
            )

        try:
            asyncio.run(main())
        except BaseException as exc:  # the parent waits on the queue: always answer it
            answers.put({"error": repr(exc)})
            raise
        answers.put({"latencies": out, "wall": max(span) - min(span), "statuses": statuses})


class Clients:
    """The client process, and the jobs sent to it: ``run`` returns its latencies and the wall time."""

    def __init__(self, base: str, people: list[str]) -> None:
        ctx = mp.get_context("spawn")
        self.jobs, self.answers = ctx.Queue(), ctx.Queue()
        self.proc = ctx.Process(target=_serve_jobs, args=(base, people, self.jobs, self.answers), daemon=True)
        self.proc.start()
        self._answer()

    def _answer(self) -> dict[str, Any]:
        result = self.answers.get(timeout=3600)
        if "error" in result:
            raise RuntimeError(f"the client process failed: {result['error']}")
        return result  # type: ignore[no-any-return]

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        self.jobs.put(job)
        return self._answer()

    def close(self) -> None:
        self.jobs.put(None)
        self.proc.join(timeout=30)


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


def serve_workers(app: App, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """``duban serve --workers N`` on the benchmark's database, as a county runs it, on the same fixed clock
    (DUBAN_NOW; a single desk allows it) so the sessions signed in on the in-thread server are live there too."""
    port = _free_port()
    env = {**os.environ, "DUBAN_NOW": NOW.isoformat()}
    argv = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--db", app.db.url]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from duban.cli.main import run; run()", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # uvicorn's access log, as in production, but not on this table
    )
    deadline = time.monotonic() + 120
    while True:  # up when every worker answers: ask more times than there are workers
        try:
            import http.client

            answered = 0
            for _ in range(4 * workers):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                answered += c.getresponse().status == 200
                c.close()
            if answered == 4 * workers:
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"duban serve --workers {workers} did not start (exit {proc.poll()})")
        time.sleep(0.2)


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


def task_page_calls(app: App, person: str, code: str) -> Any:
    """What the task page's view calls: the page, its supervision panel and its periodic reports."""
    page = task_page(app, person, code)
    supervision_view(app, person, page.detail)
    return task_duties(app, code)


def alternated(
    clients: Clients, person: str, fn: Callable[[], Any], job: dict[str, Any], items: list[Any], rounds: int
) -> tuple[list[float], list[float], float]:
    """``rounds`` rounds of (bare calls, then as many requests), so a change of load touches both sides alike.

    Also returns the ratio of CPU time this process spent per request (the server's threads: the event loop
    and the worker running the view; the client is another process) to CPU time per bare call: unlike the
    latencies, it does not grow with the time spent waiting for a core on a shared machine."""
    service: list[float] = []
    web: list[float] = []
    cpu_service = cpu_web = 0.0
    per = max(1, len(items) // rounds)
    for r in range(rounds):
        part = items[r * per : (r + 1) * per]
        t = time.process_time()
        service.extend(bare(person, fn, len(part)))
        cpu_service += time.process_time() - t
        t = time.process_time()
        web.extend(clients.run({**job, "person": person, "clients": 1, job["key"]: part})["latencies"])
        cpu_web += time.process_time() - t
    return service, web, cpu_web / max(cpu_service, 1e-9)


class ConnectionSplit:
    """How the clients' connections are spread over the server's processes while a job runs, as ``ss`` sees
    them: the fullest of samples taken every half second (e.g. "9/7": two workers). "?" without ``ss``."""

    def __init__(self, port: int) -> None:
        self.port, self.best = port, collections.Counter[str]()
        self._done = threading.Event()

    def _sample(self) -> None:
        while not self._done.wait(0.5 if self.best else 0.2):
            try:
                out = subprocess.run(
                    ["ss", "-tnpH", "state", "established", f"( sport = :{self.port} )"],
                    capture_output=True,
                    text=True,
                    timeout=5,
                ).stdout
            except (OSError, subprocess.SubprocessError):
                return
            seen = collections.Counter(re.findall(r"pid=(\d+)", out))
            if sum(seen.values()) > sum(self.best.values()):
                self.best = seen

    def __enter__(self) -> ConnectionSplit:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def text(self) -> str:
        return "/".join(str(n) for n in sorted(self.best.values(), reverse=True)) or "?"


def sixteen(clients: Clients, job: dict[str, Any], rounds: int = 3) -> tuple[float, float, float, str]:
    """p50, p95 (ms) and requests per second of a job sent by 16 clients at once, ``rounds`` times, each time
    over new connections, the latencies pooled; and how each round's connections were spread over the server's
    processes. Where the kernel puts 16 new connections among the workers (by a hash of their addresses)
    changes from one set of connections to the next, and a keep-alive connection stays where it was put: one
    round is one draw of that placement, so the figure pools several."""
    latencies: list[float] = []
    wall = 0.0
    splits = []
    for _ in range(rounds):
        with ConnectionSplit(job["port"]) as split:
            got = clients.run({**job, "clients": 16})
        latencies += got["latencies"]
        wall += got["wall"]
        splits.append(split.text())
    w50, w95 = percentiles(latencies)
    return w50 * 1000, w95 * 1000, len(latencies) / wall, " ".join(splits)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of duban serve (16-client rows)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, requests = (5_000, 40) if args.quick else (args.n, args.requests)
    scratch = Scratch("", "duban-web-bench-")
    t = time.perf_counter()
    app = workspace(n, scratch)
    print(f"{n:,} tasks populated in {time.perf_counter() - t:.1f} s", flush=True)
    server, base = serve(app)
    here = int(base.rsplit(":", 1)[1])
    workers, served = serve_workers(app, args.workers)
    clients = Clients(base, [LEADER, MEMBER])
    mid = f"ZG-2026-{n // 2:07d}"
    deep = encode_cursor("code", type("Row", (), {"code": mid})())  # type: ignore[arg-type]
    pages: dict[str, tuple[str, str, Callable[[], Any]]] = {
        "inbox (unit head)": (MEMBER, "/", lambda: inbox(app, MEMBER)),
        "inbox (leader of all)": (LEADER, "/", lambda: inbox(app, LEADER)),  # the approval queue and every light
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
        "task page": (LEADER, f"/tasks/{mid}", lambda: task_page_calls(app, LEADER, mid)),
    }
    rows = []
    for name, (person, url, fn) in pages.items():
        bare(person, fn, 2)  # warm
        clients.run({"person": person, "clients": 1, "urls": [url] * 2, "port": here})
        clients.run({"person": person, "clients": 16, "urls": [url] * 32, "port": served})  # every worker warm
        job = {"key": "urls", "port": here}
        service, web, cpu = alternated(clients, person, fn, job, [url] * requests, args.rounds)
        s50, s95 = percentiles(service)
        w50, w95 = percentiles(web)
        line: dict[str, Any] = {"page": name, "service_p50_ms": s50 * 1000, "service_p95_ms": s95 * 1000}
        line["web1_p50_ms"], line["web1_p95_ms"] = w50 * 1000, w95 * 1000
        line["ratio_1"] = line["web1_p50_ms"] / line["service_p50_ms"]
        line["cpu_ratio"] = cpu
        many = {"person": person, "urls": [url] * requests}
        line["thread16_p50_ms"], line["thread16_p95_ms"], line["thread16_rps"], _one = sixteen(
            clients, {**many, "port": here}, rounds=1
        )
        line["workers16_p50_ms"], line["workers16_p95_ms"], line["workers16_rps"], line["workers16_split"] = sixteen(
            clients, {**many, "port": served}
        )
        rows.append(line)
        print(
            f"{name:26} service p50 {s50 * 1000:6.1f} ms p95 {s95 * 1000:6.1f} | web×1 p50 {line['web1_p50_ms']:6.1f} "
            f"p95 {line['web1_p95_ms']:6.1f} | web/service {line['ratio_1']:.2f}×, CPU {cpu:.2f}× | ×16 in-thread "
            f"p50 {line['thread16_p50_ms']:5.0f} p95 {line['thread16_p95_ms']:5.0f} ({line['thread16_rps']:.0f}/s) | "
            f"×16 --workers {args.workers} p50 {line['workers16_p50_ms']:5.0f} p95 {line['workers16_p95_ms']:5.0f} "
            f"({line['workers16_rps']:.0f}/s; connections per worker {line['workers16_split']})",
            flush=True,
        )
    # The floor: what HTTP alone costs here (uvicorn, the client, the hops between them), with no session, no
    # database and no template. On a loaded machine it is most of a cheap page's time: each hop waits its turn.
    t = time.process_time()
    got = clients.run({"person": MEMBER, "urls": ["/healthz"] * requests, "clients": 1, "port": here})
    floor_cpu = (time.process_time() - t) / requests
    f50, f95 = percentiles(got["latencies"])
    print(
        f"{'HTTP floor (/healthz)':26} web×1 p50 {f50 * 1000:6.2f} ms p95 {f95 * 1000:6.2f} | "
        f"server CPU {floor_cpu * 1000:.2f} ms per request",
        flush=True,
    )
    rows.append({"page": "floor", "web1_p50_ms": f50 * 1000, "web1_p95_ms": f95 * 1000, "cpu_ms": floor_cpu * 1000})
    steps = max(10, requests // 4)
    codes = iter(codes_to_start(app, 2 * steps + requests))
    in_process, web, cpu = alternated(
        clients,
        MEMBER,
        lambda: take_step(app, MEMBER, next(codes), "start", None, None),
        {"key": "codes", "port": here},
        [next(codes) for _ in range(steps)],  # the web's half; the bare calls take the rest from ``codes``
        args.rounds,
    )
    i50, i95 = percentiles(in_process)
    w50, w95 = percentiles(web)
    # 16 writers at once through the workers: each a step on its own task; every answer must be its 303
    got = clients.run({"person": MEMBER, "codes": list(codes), "clients": 16, "port": served, "strict": False})
    m50, m95 = percentiles(got["latencies"])
    refused = [status for status in got["statuses"] if status != 303]
    print(
        f"{'transition (start)':26} in-process p50 {i50 * 1000:6.2f} ms p95 {i95 * 1000:6.2f} | web p50 "
        f"{w50 * 1000:6.2f} p95 {w95 * 1000:6.2f} | web rate {i50 / w50:.0%} of in-process, by CPU {1 / cpu:.0%} | "
        f"×16 --workers {args.workers} p50 {m50 * 1000:5.0f} p95 {m95 * 1000:5.0f} "
        f"({len(got['latencies']) / got['wall']:.0f}/s, {len(refused)} not 303: {sorted(set(refused))})",
        flush=True,
    )
    rows.append(
        {
            "page": "transition",
            "in_process_p50_ms": i50 * 1000,
            "web_p50_ms": w50 * 1000,
            "rate": i50 / w50,
            "cpu_rate": 1 / cpu,
            "workers16_p50_ms": m50 * 1000,
            "workers16_p95_ms": m95 * 1000,
            "workers16_rps": len(got["latencies"]) / got["wall"],
            "workers16_not_303": len(refused),
        }
    )
    clients.close()
    workers.terminate()
    workers.wait(timeout=30)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"web_bench_{n}.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    server.should_exit = True
    app.close()
    shutil.rmtree(scratch.folder, ignore_errors=True)  # a million tasks are two gigabytes
    if refused:
        raise SystemExit(f"{len(refused)} of the 16 writers' steps were not taken: {sorted(set(refused))}")


if __name__ == "__main__":
    main()
