"""``gamestore status``: every process at a glance, read from the processes' own endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table

from gamestore.cli.common import console
from gamestore.cli.up import status_path
from gamestore.platform import fleet
from gamestore.platform.config import Settings
from gamestore.platform.supervisor_status import read_status
from gamestore.processes import deployment

REFRESH = 2.0  # seconds between looks


async def snapshot(
    settings: Settings, before: Mapping[str, fleet.Seen] | None = None
) -> tuple[dict[str, fleet.Seen], dict[str, Any]]:
    """A look at every process and its figures (rates against ``before``)."""
    seen = await fleet.look(deployment(settings))
    return seen, fleet.summarise(seen, before, read_status(status_path(settings)))


def _yes(value: bool | None, yes: str, no: str) -> str:
    if value is None:
        return "[dim]—[/dim]"
    return f"[green]{yes}[/green]" if value else f"[bold red]{no}[/bold red]"


def processes_table(summary: Mapping[str, Any]) -> Table:
    table = Table(title="Processes", expand=False)
    table.add_column("process", no_wrap=True)
    for column in ("up", "ready", "restarts", "req/s", "p95 ms"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("notes", overflow="fold", min_width=22)
    for row in summary["processes"]:
        table.add_row(
            row["name"],
            _yes(row["up"] and row["alive"], "up", "DOWN" if not row["up"] else "STUCK"),
            _yes(row["ready"], "ready", "NOT READY"),
            "—" if row["restarts"] is None else str(row["restarts"]),
            "—" if row["requests_per_second"] is None else f"{row['requests_per_second']:.1f}",
            "—" if row["p95_ms"] is None else f"{row['p95_ms']:.1f}",
            notes(row),
        )
    return table


def notes(row: Mapping[str, Any]) -> str:
    """What is wrong with a process, in words: the dependencies it cannot reach, a state of the
    supervisor's other than running."""
    said = [f"not ready: {', '.join(row['down'])}"] if row["down"] else []
    if row["state"] not in (None, "running"):
        said.append(row["state"])
    return "; ".join(said)


def flows_table(summary: Mapping[str, Any]) -> Table:
    flows = summary["flows"]
    table = Table(title="Flows", expand=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for group, lag in sorted(flows["consumer_lag_events"].items()):
        seconds = flows["consumer_lag_seconds"].get(group, 0.0)
        table.add_row(f"consumer {group} lag", f"{lag:.0f} events, {seconds:.1f} s")
    for queue, depth in sorted(flows["queue_depth"].items()):
        oldest = flows["queue_oldest_seconds"].get(queue)
        age = "" if oldest is None else f", oldest {oldest:.1f} s"
        table.add_row(f"queue {queue}", f"{depth:.0f} waiting{age}")
    letters = flows["dead_letters"]
    table.add_row("dead letters", f"[bold red]{letters}[/bold red]" if letters else "0")
    for service, rows in sorted(flows["outbox_backlog"].items()):
        lag = flows.get("outbox_lag_seconds", {}).get(service)
        oldest = "" if lag is None else f", oldest {lag:.1f} s"
        table.add_row(f"outbox {service}", f"{rows:.0f} events{oldest}")
    return table


async def _live(settings: Settings) -> None:
    seen, summary = await snapshot(settings)
    with Live(Group(processes_table(summary), flows_table(summary)), console=console()) as live:
        while True:
            await asyncio.sleep(REFRESH)
            seen, summary = await snapshot(settings, seen)
            live.update(Group(processes_table(summary), flows_table(summary)))


async def _once(settings: Settings) -> dict[str, Any]:
    before, _ = await snapshot(settings)
    await asyncio.sleep(1.0)  # a second look gives rates
    return (await snapshot(settings, before))[1]


def status(
    once: bool = typer.Option(False, "--once", help="Print one look and exit (1 if unhealthy)."),
    as_json: bool = typer.Option(False, "--json", help="One look, as JSON (implies --once)."),
) -> None:
    """Every process: up, ready, restarts, request rate and p95, lags, queue, dead letters."""
    settings = Settings()
    if not (once or as_json):
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the dashboard
            asyncio.run(_live(settings))
        return
    summary = asyncio.run(_once(settings))
    out = console()
    if as_json:
        out.print_json(json.dumps(summary))
    else:
        out.print(processes_table(summary))
        out.print(flows_table(summary))
    raise typer.Exit(1 if fleet.unhealthy(summary) else 0)
