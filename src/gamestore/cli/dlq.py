"""``gamestore dlq list | replay ID | purge``: the work queue's dead letters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import typer
from rich.text import Text

from gamestore.cli.common import console, error_console, timestamp
from gamestore.platform.config import Settings
from gamestore.platform.queue import DeadLetter, WorkQueue, connect_queue

app = typer.Typer(help="Dead letters: list, replay, purge.", no_args_is_help=True)

T = TypeVar("T")
QueueOption = Annotated[str | None, typer.Option("--queue", "-q", help="Only this queue.")]


@asynccontextmanager
async def _open() -> AsyncIterator[WorkQueue]:
    queue = await connect_queue(Settings().work_queue_url)
    try:
        yield queue
    finally:
        await queue.close()


def _with_queue(action: Callable[[WorkQueue], Awaitable[T]]) -> T:
    async def run() -> T:
        async with _open() as queue:
            return await action(queue)

    return asyncio.run(run())


def render(letter: DeadLetter) -> Text:
    """One line: id, queue, attempts, when, correlation id, last error, message."""
    message = json.dumps(letter.message, separators=(",", ":"), ensure_ascii=False, default=str)
    return Text.assemble(
        (letter.id, "bold"),
        " ",
        (letter.queue, "cyan"),
        f" attempts={letter.attempts} ",
        (timestamp(letter.dead_lettered_at), "dim"),
        (f" corr={letter.correlation_id or '-'}", "magenta"),
        (f" error={json.dumps(letter.error, ensure_ascii=False)}", "red"),
        f" message={message}",
    )


@app.command("list")
def list_(queue: QueueOption = None) -> None:
    """Every dead letter (of one queue), oldest first."""
    letters = _with_queue(lambda q: q.dead_letters(queue))
    out = console()
    for letter in letters:
        out.print(render(letter))
    where = f" in queue {queue}" if queue else ""
    out.print(f"{len(letters)} dead letter{'s' * (len(letters) != 1)}{where}.", style="dim")


@app.command()
def replay(dead_letter_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Put one dead letter back on its queue with a fresh attempt count."""
    if not _with_queue(lambda q: q.replay(dead_letter_id)):
        error_console().print(f"No dead letter with id {dead_letter_id}.", style="red")
        raise typer.Exit(1)
    console().print(f"Replayed {dead_letter_id}.")


@app.command()
def purge(
    queue: QueueOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop dead letters for good (of one queue, or all)."""
    if not yes:
        count = len(_with_queue(lambda q: q.dead_letters(queue)))
        where = f" of queue {queue}" if queue else ""
        typer.confirm(f"Drop {count} dead letter{'s' * (count != 1)}{where}?", abort=True)
    dropped = _with_queue(lambda q: q.purge(queue))
    console().print(f"Purged {dropped} dead letter{'s' * (dropped != 1)}.")
