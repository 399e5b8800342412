"""Ports of the daemons and servers the tests start: picked below the kernel's ephemeral range
(where no connection can take them between the pick and the bind), and a start that still finds
its port taken moves to a new one."""

import socket
from collections.abc import Iterator

import httpx
import pytest

from node.runtime.ports import address_in_use, ephemeral_start, free_port
from tests.support import daemons
from tests.support.processes import NodeProcess


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket that listens on 127.0.0.1, for a test to put on a port a server wants."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    yield sock
    sock.close()


def occupy(sock: socket.socket, port: int) -> None:
    sock.bind(("127.0.0.1", port))
    sock.listen()


def test_ports_come_from_below_the_ephemeral_range_and_never_twice():
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(1024 < port < ephemeral_start() for port in ports)


def test_address_in_use_is_recognised_in_what_the_daemons_print():
    kubo = "Error: serveHTTPApi: listen tcp4 127.0.0.1:40001: bind: address already in use"
    uvicorn = "ERROR: [Errno 98] error while attempting to bind on address ('127.0.0.1', 9)"
    assert address_in_use(kubo) and address_in_use(uvicorn)
    assert not address_in_use("Error: repo.lock held by another process")


def test_a_daemon_whose_api_port_is_taken_starts_on_new_ports(tmp_path, listener):
    daemon = daemons.new_daemon(tmp_path / "ipfs")
    daemon.init()
    taken = daemon.api_port
    occupy(listener, taken)
    try:
        daemon.start()
        assert daemon.api_port != taken
        response = httpx.post(f"{daemon.api_url}/api/v0/id", timeout=10)
        assert response.json()["ID"] == daemon.peer_id
    finally:
        daemon.stop()


def test_a_node_whose_port_is_taken_starts_on_another(tmp_path, listener):
    node = NodeProcess(tmp_path / "node", f"/ip4/127.0.0.1/tcp/{free_port()}/http")
    taken = node.port
    occupy(listener, taken)
    try:
        node.start()
        assert node.port != taken and node.get("/health").status_code == 200
    finally:
        node.stop()
