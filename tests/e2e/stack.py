"""The real processes, started as a client would find them.

``running_stack(root)`` starts ``users``, ``games``, ``indexer`` and ``gateway``;
``running_stack(root, saga=True)`` starts the whole store: also ``payments``, ``payment-worker``,
``webhook-function``, ``notifier``, the ``psp`` simulator, and ``bus-publisher`` when the bus is
RabbitMQ.

``running_stack`` starts ``python -m gamestore serve users``, ``… serve games`` and ``… serve
gateway`` on free ports under one temporary data and log directory, waits until the gateway's
``/readyz`` says every started upstream is up, and stops them with SIGTERM afterwards (each must
exit 0). A stack whose ``extra_env`` points ``GAMESTORE_GAMES_URL`` elsewhere (a fake upstream)
does not start ``games``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gamestore.platform.config import REPLICA_ENV, sqlite_url, url_variable
from gamestore.processes import replica_name
from gamestore.psp.wire import api_key
from tests.ports import free_port

START_DEADLINE = 40.0
# processes without a port (or outside the gateway's routes): /readyz does not see them
BACKGROUND = ("indexer", "payment-worker", "webhook-function", "bus-publisher", "psp")
SAGA = ("psp", "payments", "payment-worker", "webhook-function", "notifier")
STOP_DEADLINE = 15.0
OPS_ONLY = ("INDEXER", "PAYMENT_WORKER", "WEBHOOK_FUNCTION", "BUS_PUBLISHER", "GATEWAY_OPS")

# Cheap argon2 for tests (the production parameters cost ~100 ms and 64 MiB per hash), a
# generous gateway rate limit so the suite is not throttled by its own speed.
TEST_SETTINGS = {
    "GAMESTORE_ARGON2_TIME_COST": "1",
    "GAMESTORE_ARGON2_MEMORY_COST_KIB": "64",
    "GAMESTORE_ARGON2_PARALLELISM": "1",
    "GAMESTORE_LOG_LEVEL": "INFO",
    "GAMESTORE_GATEWAY_CLIENT_RATE": "10000",
    "GAMESTORE_GATEWAY_CLIENT_BURST": "10000",
    "GAMESTORE_GATEWAY_USER_RATE": "10000",
    "GAMESTORE_GATEWAY_USER_BURST": "10000",
    # every test logs in from 127.0.0.1: the per-client spraying limit would slow the suite;
    # its behaviour is tested on the users service (tests/integration/users/test_sessions.py)
    "GAMESTORE_LOGIN_CLIENT_MAX_FAILURES": "100000",
    # Payments retry fast in tests (the production schedule waits 0.5 s, 1 s, 2 s …)
    "GAMESTORE_PAYMENT_RETRY_BASE_SECONDS": "0.05",
    "GAMESTORE_PSP_WEBHOOK_RETRY_DELAYS": "0.2,0.5,1,2,5",
}


@dataclass
class Stack:
    """Where the running processes answer and where they keep their files."""

    root: Path
    env: dict[str, str]
    gateway_url: str
    users_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    games_url: str = ""

    @property
    def data_dir(self) -> Path:
        return Path(self.env["GAMESTORE_DATA_DIR"])

    @property
    def log_dir(self) -> Path:
        return Path(self.env["GAMESTORE_LOG_DIR"])

    @property
    def event_store_url(self) -> str:
        return self.env.get("GAMESTORE_EVENTSTORE_URL") or sqlite_url(self.data_dir / "events.db")

    @property
    def psp_url(self) -> str:
        return self.env["GAMESTORE_PSP_URL"]

    @property
    def psp_auth(self) -> dict[str, str]:
        """The PSP's secret API key as every ``/v1`` call must send it."""
        return {"Authorization": f"Bearer {api_key(self.data_dir)}"}

    def kill(self, name: str) -> None:
        """SIGKILL one process (no clean-up at all) and reap it."""
        process = self.processes[name]
        process.kill()
        process.wait(STOP_DEADLINE)

    def restart(self, name: str) -> None:
        """Start ``name`` again (after :meth:`kill`), appending to its output file."""
        _start(self, name)

    def log_text(self, process: str) -> str:
        path = self.log_dir / f"{process}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def all_logs(self) -> str:
        """Every log file and every captured stdout/stderr, concatenated."""
        texts = [p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log"))]
        texts += [p.read_text(errors="replace") for p in sorted(self.root.glob("*.out"))]
        return "\n".join(texts)

    def tails(self, lines: int = 30) -> str:
        """The end of each process's log and output, for failure messages."""
        parts = []
        files = sorted(self.log_dir.glob("*.log")) + sorted(self.root.glob("*.out"))
        for path in files:
            tail = [line[:500] for line in path.read_text(errors="replace").splitlines()[-lines:]]
            parts.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(no log output at all)"

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run ``python -m gamestore <args>`` with the stack's environment."""
        return subprocess.run(
            [sys.executable, "-m", "gamestore", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def stack_environment(root: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without any ``GAMESTORE_*`` setting, plus the stack's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMESTORE_")}
    users_port, gateway_port = free_port(), free_port()
    env.update(
        {
            "GAMESTORE_DATA_DIR": str(root / "data"),
            "GAMESTORE_LOG_DIR": str(root / "logs"),
            "GAMESTORE_HOST": "127.0.0.1",
            "GAMESTORE_PORT": str(gateway_port),
            "GAMESTORE_USERS_URL": f"http://127.0.0.1:{users_port}",
            "GAMESTORE_GAMES_URL": f"http://127.0.0.1:{free_port()}",
            # Services that do not exist yet: closed ports, never someone else's server.
            "GAMESTORE_PAYMENTS_URL": f"http://127.0.0.1:{free_port()}",
            "GAMESTORE_NOTIFIER_URL": f"http://127.0.0.1:{free_port()}",
            # where the processes without an API, and the gateway, serve /healthz, /readyz
            # and /metrics
            **{f"GAMESTORE_{name}_URL": f"http://127.0.0.1:{free_port()}" for name in OPS_ONLY},
            "PYTHONUNBUFFERED": "1",
            **TEST_SETTINGS,
            **extra,
        }
    )
    return env


def _parse_key(key: str) -> tuple[str, int]:
    name, _, number = key.rpartition("-")
    if name and number.isdigit():
        return name, int(number) - 1
    return key, 0


def _start(stack: Stack, key: str) -> None:
    """Start ``key`` (a process, or one replica of it: ``games-2``)."""
    name, index = _parse_key(key)
    env = dict(stack.env)
    if index:
        env[REPLICA_ENV] = str(index)
        if name == "gateway":
            env["GAMESTORE_PORT"] = stack.env["GAMESTORE_GATEWAY_PORTS"].split(",")[index]
    output = (stack.root / f"{key}.out").open("ab")
    stack.processes[key] = subprocess.Popen(
        [sys.executable, "-m", "gamestore", "serve", name],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    output.close()


def scaled_environment(env: Mapping[str, str], scale: Mapping[str, int]) -> dict[str, str]:
    """Each scaled process's URL variables listing one free port per replica."""
    scaled: dict[str, str] = {}
    for name, count in scale.items():
        key = url_variable("gateway-ops" if name == "gateway" else name)
        first = env[key]
        others = [f"http://127.0.0.1:{free_port()}" for _ in range(count - 1)]
        scaled[key] = ",".join([first, *others])
        if name == "gateway":
            ports = [env["GAMESTORE_PORT"], *(str(free_port()) for _ in range(count - 1))]
            scaled["GAMESTORE_GATEWAY_PORTS"] = ",".join(ports)
    return scaled


def _start_all(stack: Stack, name: str, scale: Mapping[str, int]) -> None:
    for index in range(scale.get(name, 1)):
        _start(stack, replica_name(name, index))


def _wait_replicas_ready(stack: Stack) -> None:
    """Every replica beyond the first answers its own /readyz (the gateway's readiness only
    needs one replica of each service)."""
    deadline = time.monotonic() + START_DEADLINE
    for key in stack.processes:
        name, index = _parse_key(key)
        if index == 0:
            continue
        url = stack.env[url_variable("gateway-ops" if name == "gateway" else name)]
        url = url.split(",")[index]
        with httpx.Client(timeout=2) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{url}/readyz").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url}/readyz not 200 ({key})\n" + stack.tails())
                time.sleep(0.1)


def _migrate(stack: Stack) -> None:
    """As a deployment does before it starts processes on PostgreSQL (they only check their
    schema there); SQLite databases are migrated by whichever process opens them first."""
    if not any(value.startswith("postgres") for value in stack.env.values()):
        return
    done = stack.cli("migrate", timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"gamestore migrate failed:\n{done.stdout}\n{done.stderr}")


def _wait_ready(stack: Stack) -> None:
    deadline = time.monotonic() + START_DEADLINE
    last = "no answer yet"
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode} before the stack was ready\n"
                        + stack.tails()
                    )
            try:
                response = client.get(f"{stack.gateway_url}/readyz")
                if response.status_code == 200 or _started_upstreams_up(stack, response):
                    return
                last = f"{response.status_code} {response.text[:300]}"
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.1)
    raise RuntimeError(
        f"gateway /readyz not 200 within {START_DEADLINE:.0f} s (last: {last})\n" + stack.tails()
    )


def _started_upstreams_up(stack: Stack, readiness: httpx.Response) -> bool:
    """Ready enough: every upstream this stack started is up (a fake one may be down)."""
    try:
        upstreams = readiness.json().get("upstreams", {})
    except ValueError:
        return False
    names = {_parse_key(key)[0] for key in stack.processes}
    started = [name for name in names if name not in ("gateway", *BACKGROUND)]
    return all(name in upstreams for name in started) and all(
        upstreams[name] == "up" for name in started
    )


def _stop(stack: Stack) -> dict[str, int | None]:
    """SIGTERM every process (gateway first), then wait; the exit codes (None: still alive)."""
    gateways = [key for key in stack.processes if _parse_key(key)[0] == "gateway"]
    for name in (*gateways, *(n for n in stack.processes if n not in gateways)):
        process = stack.processes.get(name)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes: dict[str, int | None] = {}
    for name, process in stack.processes.items():
        try:
            codes[name] = process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            codes[name] = None
            process.kill()
            process.wait()
    return codes


def saga_environment(gateway_port: str) -> dict[str, str]:
    """Ports for the purchase saga's services, and the PSP's webhooks aimed at the gateway."""
    return {
        "GAMESTORE_PAYMENTS_URL": f"http://127.0.0.1:{free_port()}",
        "GAMESTORE_NOTIFIER_URL": f"http://127.0.0.1:{free_port()}",
        "GAMESTORE_PSP_URL": f"http://127.0.0.1:{free_port()}",
        "GAMESTORE_PSP_WEBHOOK_URL": f"http://127.0.0.1:{gateway_port}/webhooks/psp",
    }


def _wait_psp(stack: Stack) -> None:
    deadline = time.monotonic() + START_DEADLINE
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{stack.env['GAMESTORE_PSP_URL']}/healthz").status_code == 200:
                    return
            time.sleep(0.1)
    raise RuntimeError("the PSP simulator did not answer /healthz\n" + stack.tails())


@contextmanager
def running_stack(
    root: Path,
    extra_env: Mapping[str, str] | None = None,
    *,
    saga: bool = False,
    scale: Mapping[str, int] | None = None,
) -> Iterator[Stack]:
    """The processes running under ``root`` until the block ends; each must exit 0.

    ``scale`` runs several replicas of a process (``{"games": 2}``: ``games`` and ``games-2``,
    each on ports of its own, every process told all of their URLs)."""
    root.mkdir(parents=True, exist_ok=True)
    scale = dict(scale or {})
    env = stack_environment(root, extra_env or {})
    if saga:
        env.update({**saga_environment(env["GAMESTORE_PORT"]), **(extra_env or {})})
    env.update(scaled_environment(env, scale))
    stack = Stack(
        root=root,
        env=env,
        gateway_url=f"http://127.0.0.1:{env['GAMESTORE_PORT']}",
        users_url=env["GAMESTORE_USERS_URL"],
        games_url=env["GAMESTORE_GAMES_URL"],
    )
    try:
        _migrate(stack)
        _start_all(stack, "users", scale)
        if "GAMESTORE_GAMES_URL" not in (extra_env or {}):
            _start_all(stack, "games", scale)
            _start_all(stack, "indexer", scale)  # keeps the games' search index up to date
        if saga:
            if env.get("GAMESTORE_BUS_URL", "embedded").startswith("amqp"):
                _start_all(stack, "bus-publisher", scale)
            for name in SAGA:
                _start_all(stack, name, scale)
        _start_all(stack, "gateway", scale)
        _wait_ready(stack)
        _wait_replicas_ready(stack)
        if saga:
            _wait_psp(stack)
        yield stack
    finally:
        codes = _stop(stack)
    failed = {name: code for name, code in codes.items() if code != 0}
    assert not failed, f"processes did not exit cleanly on SIGTERM: {failed}\n{stack.tails()}"


def seed_searchable(stack: Stack, games: int, within: float = 60.0) -> None:
    """``gamestore seed --games N`` on the stack, then wait until search finds them all; a
    :class:`RuntimeError` saying which step failed otherwise (benches and fixtures alike)."""
    result = stack.cli("seed", "--games", str(games), timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"seed failed:\n{result.stdout}\n{result.stderr}")
    deadline = time.monotonic() + within
    with httpx.Client(base_url=stack.gateway_url, timeout=5) as http:
        while http.get("/jogos/busca").json()["total"] < games:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the indexer did not index the demo catalog in {within:g} s")
            time.sleep(0.1)
