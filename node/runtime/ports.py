"""Ports for the daemons and servers this project starts on 127.0.0.1 (a local daemon for
``serve``, and every daemon, cluster peer and node the tests and benchmarks start).

A port picked by binding port 0 comes from the kernel's ephemeral range, the same range every
outgoing connection takes its source port from. Between the pick and the daemon's own bind,
any connection on the machine (a daemon dialling a peer, an HTTP client) can take that port,
and the daemon fails with "address already in use". Ports are therefore picked at random
below the ephemeral range, where the kernel never assigns a port by itself, checked free, and
never handed out twice by one process. ``address_in_use`` recognises the failure that remains
possible (two processes picking the same port at once), so that a start can retry.
"""

import random
import socket
from pathlib import Path

LOWEST = 10000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL_START = 32768
ADDRESS_IN_USE = ("address already in use", "errno 98", "eaddrinuse")

_handed_out: set[int] = set()


def ephemeral_start() -> int:
    """The lowest port the kernel assigns by itself (Linux: ``ip_local_port_range``)."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_START


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now, outside the ephemeral range, and new to this
    process."""
    top = ephemeral_start()
    if top - LOWEST < 1000:
        raise RuntimeError(f"the ephemeral range starts at {top}: no room below it for ports")
    for _ in range(1000):
        port = random.randrange(LOWEST, top)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port found between {LOWEST} and {top}")


def address_in_use(log_text: str) -> bool:
    """Whether a process's output says a bind failed because the port was taken."""
    text = log_text.lower()
    return any(sign in text for sign in ADDRESS_IN_USE)
