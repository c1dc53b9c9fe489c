"""``duban serve --workers N``: uvicorn's worker processes, each on a listening socket of its own where it can.

uvicorn's ``workers=N`` hands every worker the one listening socket. The worker whose event loop wakes first
accepts every connection waiting (asyncio and uvloop accept until the queue is empty), so a burst of 16
keep-alive clients was held by one worker while the other idled, and ``--workers 2`` served no faster than one
process. On Linux each worker here listens on its own socket bound with SO_REUSEPORT to the same address,
and the kernel spreads new connections across the group by a hash of their addresses. The sockets are bound
in the parent, so a taken address fails at once, and uvicorn's supervisor still starts, watches, replaces and
restarts the workers (:class:`OwnSocketPerWorker`). Elsewhere the workers share one socket, as uvicorn has it.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from duban.engine.domain.errors import DubanError

APP = "duban.web.asgi:app"  # each worker imports it and builds its own engine from DUBAN_DATABASE_URL
# A worker imports the web app in about 4 s on a busy 2-core machine: uvicorn's 5 s for a new worker to be
# ready would leave a SIGHUP restart to chance (it gives up and keeps the old workers).
WORKER_HEALTHCHECK_SECONDS = 30


class AddressTaken(DubanError):
    exit_code = 2
    zh = "无法在 {host}:{port} 上监听（{reason}）；请换一个 --port / --host，或先停止占用该端口的程序"
    en = "cannot listen on {host}:{port} ({reason}); choose another --port or --host, or stop what holds it"


def own_socket_per_worker() -> bool:
    """Linux spreads connections across sockets sharing a port by SO_REUSEPORT; other systems differ (BSDs
    give them all to the last one bound), so there the workers keep uvicorn's one shared socket."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A socket bound to host:port as uvicorn's ``Config.bind_socket`` binds it (IPv6 when the host has a
    colon, SO_REUSEADDR), with SO_REUSEPORT when asked; not listening yet: each worker listens on its own."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AddressTaken(host=host, port=port, reason=exc.strerror or str(exc)) from exc
    return sock


def bind_group(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets sharing host:port by SO_REUSEPORT. A first bind without it must succeed: another
    program (even a second ``duban serve`` of the same user) holding the port with SO_REUSEPORT would
    otherwise let these join its group and quietly take half its connections."""
    bind(host, port, reuse_port=False).close()
    return [bind(host, port, reuse_port=True) for _ in range(count)]


class OwnSocketPerWorker(Multiprocess):
    """uvicorn's supervisor (health checks, a dead worker replaced, SIGHUP restart, SIGTTIN/SIGTTOU), with the
    worker at place i of ``self.processes`` listening on socket i. uvicorn builds every worker as
    ``Process(self.config, self.sockets)`` and keeps it at the place it fills, so ``sockets`` answers with
    the socket of that place. A socket nobody accepts on would still get its share of connections; one left
    by a dead worker keeps them queued until its replacement, on the same socket, accepts them."""

    def __init__(self, config: uvicorn.Config, bind_one: Callable[[], socket.socket], own: list[socket.socket]):
        self._bind_one = bind_one
        self._own = own
        self._before_restart: list[Process] | None = None
        super().__init__(config, own)

    @property
    def sockets(self) -> list[socket.socket]:
        return [self._own[self._place_being_filled()]]

    @sockets.setter
    def sockets(self, _all: list[socket.socket]) -> None:
        """``Multiprocess.__init__`` stores the whole list; the getter hands out one socket a worker."""

    def _place_being_filled(self) -> int:
        for place, process in enumerate(self.processes):
            if process.parent_conn.closed:  # keep_subprocess_alive has killed it and replaces it in place
                return place
        if self._before_restart is not None:  # restart_all replaces them in order: the first not yet replaced
            return next(i for i, old in enumerate(self._before_restart) if self.processes[i] is old)
        return len(self.processes)  # init_processes and handle_ttin append

    def restart_all(self) -> None:
        self._before_restart = list(self.processes)
        try:
            super().restart_all()
        finally:
            self._before_restart = None

    def handle_ttin(self) -> None:
        self._own.append(self._bind_one())
        super().handle_ttin()

    def handle_ttou(self) -> None:
        count = len(self.processes)
        super().handle_ttou()
        if len(self.processes) < count:  # its worker is gone: out of the group, or it would still get connections
            self._own.pop().close()


def serve_workers(host: str, port: int, workers: int) -> None:
    """Run ``workers`` worker processes of the web app on host:port until SIGINT or SIGTERM (as ``uvicorn.run``
    does with ``workers``: the same Config, the same supervisor)."""
    config = uvicorn.Config(
        APP,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    try:
        if own_socket_per_worker():
            own = bind_group(host, port, workers)
            OwnSocketPerWorker(config, lambda: bind(host, port, reuse_port=True), own).run()
        else:
            Multiprocess(config, [bind(host, port, reuse_port=False)]).run()
    except KeyboardInterrupt:
        pass
