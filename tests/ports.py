"""Free TCP ports for the servers that tests start.

A port the kernel picks for ``bind(0)`` comes from its ephemeral range, the same range it draws
from for every outgoing connection: between the moment a test picks such a port and the moment
its server binds it, a client socket (a database pool, an HTTP client) can take it, and the
server fails with "address already in use". So ports are picked below that range, where no
outgoing connection ever lands, and never handed out twice by one test run.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 10_000  # below: the well-known and registered ports engines use
EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()
# its own generator, seeded by the OS: a test that seeds the global one changes nothing here
_rng = random.Random()  # nosec B311 - test ports, not secrets


def ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range (Linux; the IANA range elsewhere)."""
    try:
        return int(EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49_152


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A TCP port nobody listens on right now, outside the ephemeral range when there is room
    below it (else one the kernel picks)."""
    below = ephemeral_start()
    for _ in range(200 if below - LOWEST >= 1000 else 0):
        port = _rng.randrange(LOWEST, below)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        chosen: int = sock.getsockname()[1]
        return chosen
