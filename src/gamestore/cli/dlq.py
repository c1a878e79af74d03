"""``gamestore dlq list | replay ID | purge``: every dead letter, the payment queue's and the
event bus's consumer groups' (``platform/dlq.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import typer
from rich.text import Text

from gamestore.cli.common import console, open_event_store, say_error, timestamp
from gamestore.platform.bus import connect_bus
from gamestore.platform.config import Settings
from gamestore.platform.dlq import DeadLetters, Source
from gamestore.platform.i18n import N_
from gamestore.platform.queue import DeadLetter, connect_queue

app = typer.Typer(help="Dead letters: list, replay, purge.", no_args_is_help=True)

T = TypeVar("T")
QueueOption = Annotated[
    str | None, typer.Option("--queue", "-q", help="Only this queue or consumer group.")
]
SourceOption = Annotated[
    Source | None, typer.Option("--source", "-s", help="Only the work queue's, or the bus's.")
]


@asynccontextmanager
async def _open() -> AsyncIterator[DeadLetters]:
    settings = Settings()
    queue = await connect_queue(settings.work_queue_url)
    try:
        async with open_event_store(settings) as store:
            if store is None:
                yield DeadLetters(queue, None)
                return
            bus = await connect_bus(settings.bus_url, store)
            try:
                yield DeadLetters(queue, bus)
            finally:
                await bus.close()
    finally:
        await queue.close()


def _with_letters(action: Callable[[DeadLetters], Awaitable[T]]) -> T:
    async def run() -> T:
        async with _open() as letters:
            return await action(letters)

    return asyncio.run(run())


def render(letter: DeadLetter) -> Text:
    """One line: id, queue (``bus:<group>`` for a consumer group's), attempts, when,
    correlation id, last error, message."""
    message = json.dumps(letter.message, separators=(",", ":"), ensure_ascii=False, default=str)
    where = f"bus:{letter.queue}" if letter.source == "bus" else letter.queue
    return Text.assemble(
        (letter.id, "bold"),
        " ",
        (where, "cyan"),
        f" attempts={letter.attempts} ",
        (timestamp(letter.dead_lettered_at), "dim"),
        (f" corr={letter.correlation_id or '-'}", "magenta"),
        (f" error={json.dumps(letter.error, ensure_ascii=False)}", "red"),
        f" message={message}",
    )


@app.command("list")
def list_(queue: QueueOption = None, source: SourceOption = None) -> None:
    """Every dead letter (of one source, queue or consumer group), oldest first."""
    letters = _with_letters(lambda q: q.list(source, queue))
    out = console()
    for letter in letters:
        out.print(render(letter))
    where = f" in queue {queue}" if queue else ""
    out.print(f"{len(letters)} dead letter{'s' * (len(letters) != 1)}{where}.", style="dim")


@app.command()
def replay(dead_letter_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Hand one dead letter back to its queue or consumer group with a fresh attempt count."""
    if not _with_letters(lambda q: q.replay(dead_letter_id)):
        say_error(N_("No dead letter with id %(id)s."), id=dead_letter_id)
        raise typer.Exit(1)
    console().print(f"Replayed {dead_letter_id}.")


@app.command()
def purge(
    queue: QueueOption = None,
    source: SourceOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop dead letters for good (of one source, queue or consumer group, or all)."""
    if not yes:
        count = len(_with_letters(lambda q: q.list(source, queue)))
        where = f" of queue {queue}" if queue else ""
        typer.confirm(f"Drop {count} dead letter{'s' * (count != 1)}{where}?", abort=True)
    dropped = _with_letters(lambda q: q.purge(source, queue))
    console().print(f"Purged {dropped} dead letter{'s' * (dropped != 1)}.")
