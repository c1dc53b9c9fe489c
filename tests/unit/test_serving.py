"""``duban serve --workers N``'s sockets (web/serving.py): one per worker sharing the port, a taken port refused."""

from __future__ import annotations

import socket

import pytest

from duban.web.serving import AddressTaken, bind_group, own_socket_per_worker

needs_reuse_port = pytest.mark.skipif(not own_socket_per_worker(), reason="SO_REUSEPORT groups are Linux's")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@needs_reuse_port
def test_each_worker_gets_a_socket_of_its_own_on_the_same_port() -> None:
    port = free_port()
    group = bind_group("127.0.0.1", port, 3)
    try:
        assert len({s.fileno() for s in group}) == 3
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1 for s in group)
        assert {s.getsockname() for s in group} == {("127.0.0.1", port)}
    finally:
        for s in group:
            s.close()


@needs_reuse_port
def test_an_ipv6_host_gets_ipv6_sockets() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        group = bind_group("::1", free_port(), 2)
    except AddressTaken as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    try:
        assert all(s.family == socket.AF_INET6 for s in group)
    finally:
        for s in group:
            s.close()


@pytest.mark.parametrize("holder_reuses_port", [False, True])
def test_a_taken_port_is_refused_in_one_line(holder_reuses_port: bool) -> None:
    """Also when the holder shares by SO_REUSEPORT (say a second ``duban serve`` of the same user): the
    workers would otherwise join its group and quietly take part of its connections."""
    if holder_reuses_port and not own_socket_per_worker():
        pytest.skip("SO_REUSEPORT groups are Linux's")
    with socket.socket() as holder:
        if holder_reuses_port:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(AddressTaken) as refused:
            bind_group("127.0.0.1", port, 2)
    assert refused.value.exit_code == 2
    line = refused.value.render("en")
    assert line.startswith(f"cannot listen on 127.0.0.1:{port} (") and "\n" not in line
