"""``gamestore up``: every enabled process, each its own OS process, under one supervisor."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import typer
from rich.console import Console

from gamestore.cli.common import console, say_error, text
from gamestore.cli.migrate import migrate_databases
from gamestore.cli.seed import run_seed
from gamestore.games.demo import curated_games
from gamestore.platform.config import (
    REPLICA_ENV,
    Settings,
    replica_url,
    service_urls,
    url_variable,
)
from gamestore.platform.i18n import N_
from gamestore.platform.supervisor import Command, Supervisor, stop_on_signals
from gamestore.platform.supervisor_status import ENV as STATUS_ENV
from gamestore.processes import (
    PROCESSES,
    REGISTRY,
    ProcessSpec,
    enabled_processes,
    ops_url,
    replica_name,
)

_PORT_TIMEOUT = 60.0
_PORT_POLL = 0.1
CONSOLE_LEVEL_ENV = "GAMESTORE_CONSOLE_LOG_LEVEL"


async def port_answers(host: str, port: int, within: float) -> bool:
    """Whether something accepts TCP connections on ``host:port`` within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(_PORT_POLL)


async def _announce(
    supervisor: Supervisor, settings: Settings, ports: Sequence[int], url: str, out: Console
) -> None:
    await supervisor.started.wait()
    host, logs = settings.host, settings.log_dir
    for port in ports:
        if not await port_answers(host, port, _PORT_TIMEOUT):
            out.print(f"Nothing answers on {host}:{port} yet.", style="yellow")
    if any(url.endswith(f":{port}") for port in ports):
        out.print(f"Logs: {logs}/<process>.log (gamestore trace <request id> follows one request)")
        out.print(f"GameStore is up at [bold]{url}[/bold] (Ctrl-C stops it)")
    else:  # no process serves the public port (yet): do not print a URL that would not answer
        out.print("GameStore is up (Ctrl-C stops it); no process serves HTTP.")


def status_path(settings: Settings) -> Path:
    """Where ``up`` keeps its processes' states (``platform/supervisor_status.py``)."""
    return (settings.data_dir / "run" / "supervisor.json").resolve()


def taken_port(addresses: Sequence[tuple[str, str, int]]) -> str | None:
    """The first (process, host, port) that cannot be bound, in words; None if all are free."""
    for name, host, port in addresses:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                probe.bind((host, port))
            except OSError:
                why = N_(
                    "port %(port)s (%(host)s) is in use by another process (needed by %(name)s)"
                )
                return text(why, port=port, host=host, name=name)
    return None


async def run_up(
    commands: Sequence[Command], settings: Settings, ports: Sequence[int], grace: float
) -> int:
    """Supervise ``commands`` until Ctrl-C/SIGTERM; print the URL once ``ports`` answer."""
    out = console()
    color = out.is_terminal and not out.no_color
    status = status_path(settings)
    supervisor = Supervisor(
        commands, sys.stdout, grace=grace, color=color, status=status,
        env={STATUS_ENV: str(status)},
    )  # fmt: skip
    stop = asyncio.Event()
    url = f"http://{settings.host}:{settings.port}"
    with stop_on_signals(stop, on_repeat=supervisor.kill_all):
        announce = asyncio.create_task(_announce(supervisor, settings, ports, url, out))
        try:
            code = await supervisor.run(stop)
        finally:
            announce.cancel()
    out.print("All processes stopped." if stop.is_set() else "No process is running any more.")
    return code


REPLICA_PORT_STEP = 100  # replica i of a process listens on its ports + 100 * i
UNSCALABLE = ("psp",)  # the PSP simulator stands in for one outside company


def parse_scale(values: Sequence[str]) -> dict[str, int]:
    """``["games=2", "payment-worker=3"]`` → replicas per process; :class:`typer.BadParameter`
    for an unknown process, one that does not scale, or a count below 1."""
    scale: dict[str, int] = {}
    for value in values:
        name, _, count = value.partition("=")
        if name not in PROCESSES:
            known = ", ".join(PROCESSES)
            raise typer.BadParameter(
                text(N_("No process named %(name)r (known: %(known)s)."), name=name, known=known)
            )
        if name in UNSCALABLE:
            raise typer.BadParameter(text(N_("%(name)s runs as one process."), name=name))
        if not count.isdigit() or not 1 <= int(count) <= 9:
            raise typer.BadParameter(
                text(
                    N_("%(value)r: give a count from 1 to 9, as in %(name)s=2."),
                    value=value,
                    name=name,
                )
            )
        scale[name] = int(count)
    return scale


def shifted(url: str, replica: int) -> str:
    """``url`` with its port moved for replica number ``replica`` (0: unchanged)."""
    parts = urlsplit(url)
    port = (parts.port or 80) + REPLICA_PORT_STEP * replica
    return parts._replace(netloc=f"{parts.hostname}:{port}").geturl()


def replica_environment(scale: dict[str, int]) -> dict[str, str]:
    """For every process: each scaled process's URLs, one per replica (the gateway spreads
    requests over them; replica i of a process listens on the i-th)."""
    env: dict[str, str] = {}
    for name, count in scale.items():
        spec = PROCESSES[name]
        names = {name, spec.ops or name} | ({"gateway-ops"} if name == "gateway" else set())
        for listed in names - {"gateway"}:
            first = service_urls(listed)[0]
            env[url_variable(listed)] = ",".join(shifted(first, i) for i in range(count))
    return env


def up(
    grace: float = typer.Option(10.0, help="Seconds each process gets to stop before SIGKILL."),
    demo: bool = typer.Option(
        False, "--demo", help="Seed the curated demo catalog if the catalog is empty."
    ),
    scale: list[str] = typer.Option(  # noqa: B008 - typer's declaration
        [],
        "--scale",
        metavar="PROCESS=N",
        help="Run N replicas of a process (repeatable), e.g. --scale games=2.",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show every process's log lines here, not only warnings."
    ),
) -> None:
    """Migrate every database, start every enabled process, restart any that crash, stop them
    all on Ctrl-C. The console shows the supervisor's lines and the processes' warnings and
    errors; every line is in logs/<process>.log."""
    replicas = parse_scale(scale)
    os.environ.update(replica_environment(replicas))  # read below, and by every process
    os.environ.update(console_environment(verbose))
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    specs = enabled_processes(settings)
    each = [(spec, index) for spec in specs for index in range(replicas.get(spec.name, 1))]
    commands = [replica_command(spec, settings, index) for spec, index in each]
    addresses = [
        (replica_name(spec.name, index), *address)
        for spec, index in each
        for address in _listens_on(spec, settings, index)
    ]
    taken = taken_port(addresses)
    if taken is not None:
        say_error(N_("Cannot start GameStore: %(why)s. Nothing was started."), why=taken)
        raise typer.Exit(1)
    if specs or demo:  # before anything opens a database: processes only check theirs
        for result in asyncio.run(migrate_databases(settings, [])):
            if result.url is not None and result.before != result.after:
                console().print(f"Migrated {result.describe()}")
    if demo:
        asyncio.run(run_seed(settings, len(curated_games()), 42, only_if_empty=True))
    if not specs:
        known = ", ".join(spec.name for spec in REGISTRY) or "none"
        console().print(
            f"No process is enabled by the current settings (registered: {known}); "
            "nothing to start."
        )
        raise typer.Exit(0)
    ports = [port for spec in specs if (port := spec.port_for(settings)) is not None]
    raise typer.Exit(asyncio.run(run_up(commands, settings, ports, grace)))


def console_environment(verbose: bool) -> dict[str, str]:
    """What the processes print on the console: everything with ``--verbose``, else warnings
    and errors (unless ``GAMESTORE_CONSOLE_LOG_LEVEL`` says otherwise)."""
    if verbose:
        return {CONSOLE_LEVEL_ENV: "DEBUG"}
    return {CONSOLE_LEVEL_ENV: os.environ.get(CONSOLE_LEVEL_ENV, "WARNING")}


def replica_command(spec: ProcessSpec, settings: Settings, index: int) -> Command:
    """``gamestore serve <name>`` for replica ``index`` (named ``games-2`` from the second)."""
    argv = [sys.executable, "-m", "gamestore", "serve", spec.name]
    if index == 0:
        return Command(spec.name, argv, health_url=ops_url(spec.name))
    env = {REPLICA_ENV: str(index)}
    if spec.name == "gateway":  # its public port moves like the others
        env["GAMESTORE_PORT"] = str(settings.port + REPLICA_PORT_STEP * index)
    name = replica_name(spec.name, index)
    return Command(name, argv, health_url=ops_url(spec.name, index), env=env)


def _listens_on(spec: ProcessSpec, settings: Settings, index: int) -> list[tuple[str, int]]:
    """The (host, port) pairs replica ``index`` of ``spec`` binds."""
    if spec.port is None:
        return []
    if spec.name == "gateway":
        ops = urlsplit(ops_url("gateway", index))
        public = settings.port + REPLICA_PORT_STEP * index
        return [(settings.host, public), (ops.hostname or "127.0.0.1", ops.port or 0)]
    own = urlsplit(replica_url(spec.name, index))
    return [(own.hostname or "127.0.0.1", own.port or 0)]
