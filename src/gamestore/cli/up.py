"""``gamestore up``: every enabled process, each its own OS process, under one supervisor."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import typer
from rich.console import Console

from gamestore.cli.common import console, error_console
from gamestore.cli.migrate import migrate_databases
from gamestore.cli.seed import run_seed
from gamestore.platform.config import Settings
from gamestore.platform.supervisor import Command, Supervisor, stop_on_signals
from gamestore.platform.supervisor_status import ENV as STATUS_ENV
from gamestore.processes import REGISTRY, address_of, enabled_processes, ops_url

_PORT_TIMEOUT = 60.0
_PORT_POLL = 0.1
DEMO_GAMES = 300  # what `up --demo` seeds into an empty catalog


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
    supervisor: Supervisor, host: str, ports: Sequence[int], url: str, out: Console
) -> None:
    await supervisor.started.wait()
    for port in ports:
        if not await port_answers(host, port, _PORT_TIMEOUT):
            out.print(f"Nothing answers on {host}:{port} yet.", style="yellow")
    if any(url.endswith(f":{port}") for port in ports):
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
                return f"port {port} ({host}) is in use by another process (needed by {name})"
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
        announce = asyncio.create_task(_announce(supervisor, settings.host, ports, url, out))
        try:
            code = await supervisor.run(stop)
        finally:
            announce.cancel()
    out.print("All processes stopped." if stop.is_set() else "No process is running any more.")
    return code


def up(
    grace: float = typer.Option(10.0, help="Seconds each process gets to stop before SIGKILL."),
    demo: bool = typer.Option(False, "--demo", help="Seed demo games if the catalog is empty."),
) -> None:
    """Migrate every database, start every enabled process, restart any that crash, stop them
    all on Ctrl-C."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    specs = enabled_processes(settings)
    addresses = [(spec.name, *address_of(spec, settings)) for spec in specs if spec.port]
    if any(spec.name == "gateway" for spec in specs):  # its metrics' port, beside the public one
        ops = urlsplit(ops_url("gateway"))
        addresses.append(("gateway", ops.hostname or "127.0.0.1", ops.port or 0))
    taken = taken_port(addresses)
    if taken is not None:
        error_console().print(f"Cannot start GameStore: {taken}. Nothing was started.")
        raise typer.Exit(1)
    migrated = asyncio.run(migrate_databases(settings, []))  # processes only check theirs
    for result in migrated:
        if result.url is not None and result.before != result.after:
            console().print(f"Migrated {result.describe()}")
    if demo:
        asyncio.run(run_seed(settings, DEMO_GAMES, 42, only_if_empty=True))
    if not specs:
        known = ", ".join(spec.name for spec in REGISTRY) or "none"
        console().print(
            f"No process is enabled by the current settings (registered: {known}); "
            "nothing to start."
        )
        raise typer.Exit(0)
    commands = [
        Command(
            spec.name,
            [sys.executable, "-m", "gamestore", "serve", spec.name],
            health_url=ops_url(spec.name),
        )
        for spec in specs
    ]
    ports = [port for spec in specs if (port := spec.port_for(settings)) is not None]
    raise typer.Exit(asyncio.run(run_up(commands, settings, ports, grace)))
