"""The whole store on the production profile, run by the real supervisor (``gamestore up``).

PostgreSQL for every service database and the event store (fresh databases), RabbitMQ for the
bus and the payment queue (a virtual host of its own), Redis for rate limits. The supervisor's
output is kept (``up.out``) and read for the pid of each process, so a case can SIGKILL any of
them and watch the supervisor bring it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.saga.conftest import saga_env
from tests.e2e.saga.test_postgres_rabbitmq import production_env
from tests.e2e.stack import saga_environment, stack_environment

START_DEADLINE = 90.0
STOP_DEADLINE = 60.0
_STARTED = re.compile(r"^supervisor\s*\|\s*(?P<name>\S+) started \(pid (?P<pid>\d+)\)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

CHAOS_SETTINGS = {
    "GAMESTORE_REDIS_URL": "redis://127.0.0.1:6379/0",
    # the PSP answers slower than this in the latency case
    "GAMESTORE_PSP_TIMEOUT_SECONDS": "2",
    # the production schedule (0.5 s doubling to 30 s) between counted attempts
    "GAMESTORE_PAYMENT_RETRY_BASE_SECONDS": "0.5",
    "GAMESTORE_PAYMENT_MAX_ATTEMPTS": "5",
    "GAMESTORE_QUEUE_LEASE_SECONDS": "10",
    # the production default: every PSP outage of the cases is waited out
    "GAMESTORE_PAYMENT_PSP_OUTAGE_BUDGET_SECONDS": "1200",
    "GAMESTORE_PSP_API_KEY": "sk_test_chaos",
}


@dataclass
class RunningStore:
    """Where the store answers, its environment, and the supervisor's view of its processes."""

    root: Path
    env: dict[str, str]
    up: subprocess.Popen[bytes]
    lines: list[str] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GAMESTORE_PORT']}"

    @property
    def psp_url(self) -> str:
        return self.env["GAMESTORE_PSP_URL"]

    @property
    def psp_auth(self) -> dict[str, str]:
        """The PSP's secret API key as every ``/v1`` call must send it."""
        return {"Authorization": f"Bearer {self.env['GAMESTORE_PSP_API_KEY']}"}

    @property
    def event_store_url(self) -> str:
        return self.env["GAMESTORE_EVENTSTORE_URL"]

    def kill(self, name: str) -> int:
        """SIGKILL ``name``'s process group; the number of starts it had (to wait for the next)."""
        starts = self.starts.get(name, 0)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pids[name], signal.SIGKILL)
        return starts

    def wait_restarted(self, name: str, after_starts: int, timeout: float = 60.0) -> float:
        """Seconds until the supervisor started ``name`` again (start number > after_starts)."""
        began = time.monotonic()
        while self.starts.get(name, 0) <= after_starts:
            if time.monotonic() - began > timeout:
                what = f"{name} was not restarted within {timeout:.0f} s"
                raise AssertionError(f"{what}\n{self.tail()}")
            time.sleep(0.05)
        return time.monotonic() - began

    def tail(self, count: int = 80) -> str:
        return "\n".join(self.lines[-count:])

    def log_text(self, process: str) -> str:
        path = Path(self.env["GAMESTORE_LOG_DIR"]) / f"{process}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _read(self) -> None:
        assert self.up.stdout is not None
        with (self.root / "up.out").open("w") as copy:
            for raw in self.up.stdout:
                line = _ANSI.sub("", raw.decode(errors="replace")).rstrip("\n")
                self.lines.append(line)
                copy.write(line + "\n")
                copy.flush()
                started = _STARTED.match(line)
                if started:
                    name = started["name"]
                    self.pids[name] = int(started["pid"])
                    self.starts[name] = self.starts.get(name, 0) + 1


def chaos_environment(root: Path, production: dict[str, str]) -> dict[str, str]:
    env = stack_environment(root, {})
    env |= saga_environment(env["GAMESTORE_PORT"])
    return env | saga_env() | production | CHAOS_SETTINGS


def _wait_ready(store: RunningStore) -> None:
    deadline = time.monotonic() + START_DEADLINE
    last = "no answer"
    with httpx.Client(timeout=3) as client:
        while time.monotonic() < deadline:
            if store.up.poll() is not None:
                what = f"gamestore up exited with {store.up.returncode}"
                raise RuntimeError(f"{what}\n{store.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                ready = client.get(f"{store.gateway_url}/readyz")
                psp = client.get(f"{store.psp_url}/healthz")
                if ready.status_code == 200 and psp.status_code == 200:
                    return
                last = f"{ready.status_code} {ready.text[:300]}"
            time.sleep(0.2)
    what = f"the store was not ready within {START_DEADLINE:.0f} s ({last})"
    raise RuntimeError(f"{what}\n{store.tail()}")


@contextlib.contextmanager
def running_store(root: Path, scale: Mapping[str, int] | None = None) -> Iterator[RunningStore]:
    """``gamestore up`` on fresh PostgreSQL databases and a RabbitMQ vhost, until the block ends
    (``scale``: ``--scale name=N`` for each).

    On exit it is stopped with SIGTERM and must exit 0 (every process stopped cleanly)."""
    root.mkdir(parents=True, exist_ok=True)
    loop = asyncio.new_event_loop()
    try:
        with production_env(loop) as production:
            env = chaos_environment(root, production)
            up = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gamestore",
                    "up",
                    "--grace",
                    "20",
                    *(f"--scale={name}={count}" for name, count in (scale or {}).items()),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            store = RunningStore(root, env, up)
            reader = threading.Thread(target=store._read, daemon=True)
            reader.start()
            try:
                _wait_ready(store)
                yield store
            finally:
                code = _stop(up)
                reader.join(5)
            assert code == 0, f"gamestore up exited with {code}\n{store.tail()}"
    finally:
        loop.close()


def _stop(up: subprocess.Popen[bytes]) -> int | None:
    if up.poll() is None:
        up.send_signal(signal.SIGTERM)
    try:
        return up.wait(STOP_DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(up.pid, signal.SIGKILL)
        up.wait()
        return None
