"""The container's health check: ``GET /healthz`` of the process this container runs.

The process is the one named after ``serve`` on PID 1's command line (``gamestore serve users``;
an init such as ``docker-init --`` in front of it is skipped over). Its port is the one the
process itself listens on for ``/healthz``: its own port for an HTTP service, its ops port for
the gateway and for the processes without an API, moved by ``GAMESTORE_<NAME>_URL`` exactly as
the process is (``gamestore.processes.ops_url``). The check asks 127.0.0.1 on that port, so it
looks at this container only, never at another replica behind the same name.

Exit status 0: the process answered 200. 1: anything else (503 stuck, refused, timed out, or
PID 1 is not ``gamestore serve <name>``). An optional argument replaces the path (``/readyz``).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

TIMEOUT = 4.0


def served_process(cmdline: bytes) -> str | None:
    """The process name after ``serve`` in a NUL-separated command line, if any."""
    args = [arg.decode(errors="replace") for arg in cmdline.split(b"\0") if arg]
    for i, arg in enumerate(args[:-1]):
        if arg == "serve":
            return args[i + 1]
    return None


def health_port(name: str) -> int:
    """The port ``name`` answers ``/healthz`` on under the current environment."""
    from gamestore.platform.config import SERVICE_PORTS
    from gamestore.processes import ops_url

    url = urlsplit(ops_url(name))
    if url.port is not None:
        return url.port
    return SERVICE_PORTS["gateway-ops" if name == "gateway" else name]


def check(name: str, path: str = "/healthz") -> int:
    """0 when process ``name`` in this container answers 200 on ``path``, else 1."""
    url = f"http://127.0.0.1:{health_port(name)}{path}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with direct.open(url, timeout=TIMEOUT) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthcheck: {name} at {url}: {error}", file=sys.stderr)
        return 1


def main(argv: list[str]) -> int:
    name = served_process(Path("/proc/1/cmdline").read_bytes())
    if name is None:
        print("healthcheck: PID 1 is not `gamestore serve <process>`", file=sys.stderr)
        return 1
    return check(name, argv[1] if len(argv) > 1 else "/healthz")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
