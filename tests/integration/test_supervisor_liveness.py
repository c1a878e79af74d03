"""The supervisor restarts a process whose /healthz says it is stuck, and leaves a healthy one
(and one that does not answer yet) alone. Real OS processes serving real HTTP."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from gamestore.platform.liveness import LivenessProbe
from gamestore.platform.supervisor import Command, RestartPolicy, Supervisor
from tests.integration.test_supervisor import lines_of, script, supervised_until
from tests.ports import free_port

FAST = RestartPolicy(base_delay=0.05, max_delay=1.0, reset_after=30.0)
PROBE = LivenessProbe(interval=0.1, timeout=1.0, strikes=3)
SERVER = """
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    port, status, starts = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(starts, "a") as f:
        f.write(f"{os.getpid()}\\n")
    state = "stalled" if status == 503 else "idle"
    body = json.dumps({"status": "x", "loops": {"bus fake": {"state": state}}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def served(tmp_path: Path, name: str, status: int) -> tuple[Command, Path]:
    port, starts = free_port(), tmp_path / f"{name}.starts"
    path = script(tmp_path, name, SERVER)
    argv = [sys.executable, str(path), str(port), str(status), str(starts)]
    return Command(name, argv, health_url=f"http://127.0.0.1:{port}"), starts


async def test_a_stuck_process_is_killed_and_restarted(tmp_path: Path) -> None:
    stuck, starts = served(tmp_path, "stuck", 503)
    out = io.StringIO()
    supervisor = Supervisor([stuck], out, policy=FAST, liveness=PROBE)

    assert await supervised_until(supervisor, lambda: len(lines_of(starts)) >= 2, "a restart") == 0

    text = out.getvalue()
    assert "stuck is stuck (stalled: bus fake); killing it" in text
    assert "stuck was killed by SIGKILL" in text


async def test_a_healthy_or_silent_process_is_left_alone(tmp_path: Path) -> None:
    healthy, healthy_starts = served(tmp_path, "healthy", 200)
    silent = Command(
        "silent",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        health_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    out, probes = io.StringIO(), 0

    def probed_a_while() -> bool:
        nonlocal probes
        probes += 1
        return probes > 75  # ~1.5 s of 20 ms polls: about 15 probes of each process

    supervisor = Supervisor([healthy, silent], out, policy=FAST, liveness=PROBE)
    assert await supervised_until(supervisor, probed_a_while, "a while") == 0
    assert len(lines_of(healthy_starts)) == 1
    assert "killing" not in out.getvalue() and "restarting" not in out.getvalue()
