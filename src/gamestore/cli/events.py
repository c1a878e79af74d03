"""``gamestore events tail``: the event store, newest last, optionally followed live."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from gamestore.cli.common import console, open_event_store, timestamp
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.supervisor import stop_on_signals

app = typer.Typer(help="Read the event store.", no_args_is_help=True)

_PAGE = 1000
_FOLLOW_POLL = 0.25
"""How often --follow checks for Ctrl-C between waits for new events."""

Matcher = Callable[[RecordedEvent], bool]


def matcher(types: Sequence[str], stream: str | None) -> Matcher:
    """Whether an event passes the ``--type`` and ``--stream`` filters."""
    wanted = set(types)
    return lambda event: (
        (not wanted or event.type in wanted) and (stream is None or event.stream_id == stream)
    )


async def last_events(
    store: EventStore, limit: int, types: Sequence[str], stream: str | None
) -> tuple[list[RecordedEvent], int]:
    """The newest ``limit`` events that pass the filters, oldest first, and the head read."""
    head = await store.head()
    if limit <= 0:
        return [], head
    if stream is not None:
        wanted = matcher(types, None)
        events = [event for event in await store.read_stream(stream) if wanted(event)]
        # Events of this stream appended since ``head`` are shown already: follow past them.
        return events[-limit:], max([head, *(event.position for event in events[-1:])])
    newest: list[RecordedEvent] = []
    before = head + 1  # what was appended since ``head`` is for --follow
    while len(newest) < limit:
        size = min(_PAGE, limit - len(newest))
        batch = await store.read_all_backwards(before, size, types=list(types) or None)
        newest.extend(batch)
        if len(batch) < size:
            break
        before = batch[-1].position
    return newest[::-1], head


def render(event: RecordedEvent) -> Text:
    """One line: position, time, type, stream and version, correlation id, compact data."""
    data = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False, default=str)
    return Text.assemble(
        (f"{event.position:>6} ", "bold"),
        (timestamp(event.occurred_at), "dim"),
        " ",
        (event.type, "bold green"),
        " ",
        (event.stream_id, "cyan"),
        (f" v{event.version}", "cyan"),
        (f" corr={event.correlation_id or '-'} ", "magenta"),
        data,
    )


async def follow(
    store: EventStore, after: int, wanted: Matcher, out: Console, stop: asyncio.Event
) -> None:
    """Print every new event past ``after`` as it is appended, until ``stop`` is set."""
    while not stop.is_set():
        if not await store.wait_for_events(after, _FOLLOW_POLL):
            continue
        while batch := await store.read_all(after, _PAGE):
            for event in batch:
                if wanted(event):
                    out.print(render(event))
            after = batch[-1].position


async def _tail(
    settings: Settings, limit: int, types: list[str], stream: str | None, live: bool
) -> int:
    out = console()
    async with open_event_store(settings) as store:
        if store is None:
            out.print(f"No event store yet at {settings.event_store_url}.", style="yellow")
            return 0
        events, head = await last_events(store, limit, types, stream)
        for event in events:
            out.print(render(event))
        if not live:
            if not events:
                out.print("No events.", style="dim")
            return 0
        stop = asyncio.Event()
        with stop_on_signals(stop):
            await follow(store, head, matcher(types, stream), out, stop)
    return 0


@app.command()
def tail(
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many past events.")] = 20,
    types: Annotated[
        list[str] | None, typer.Option("--type", "-t", help="Only this event type (repeatable).")
    ] = None,
    stream: Annotated[str | None, typer.Option("--stream", "-s", help="Only this stream.")] = None,
) -> None:
    """Print the newest events, oldest first; with --follow, then every new one as it comes."""
    code = asyncio.run(_tail(Settings(), limit, types or [], stream, follow_))
    raise typer.Exit(code)
