"""``gamestore reindex``: rebuild the search index from the event store, with no downtime.

The new index is built aside (``start_rebuild``) while searches keep using the live one, then
swapped in atomically (``finish_rebuild``). It never writes the live index, so it runs while the
indexer process holds the live writer (the embedded engine has one writer per generation).

The exact rule (docs/adr/007-search-engine.md explains the swap):

1. Games. Read ``Game*`` events from position 0 up to the head taken at the start, fold each game
   to its newest version (a deleted game stays as a tombstone at its version) and bulk-write
   them into the new index. Then catch up: read what was appended meanwhile into the new index,
   again until nothing new is read (at most ``CATCH_UP_ROUNDS``), the last round immediately
   before the swap. Writes the live indexer made during the rebuild are thereby in the new index
   too (versioned writes make seeing an event twice harmless). Limit: an event appended and
   applied by the live indexer between the last catch-up read and the swap (milliseconds) lands
   in the old index only; the next change of that game, or the next reindex, repairs it.
2. Purchases (popularity is a counter, so nothing may be counted twice). The new index counts
   exactly the ``PurchaseCompleted`` events the indexer group has already handled: those at or
   below its checkpoint (``bus:indexer`` in the event store on the embedded bus), read at the
   start (bulk) and again right before the swap (the difference). Every later purchase is the
   live indexer's: it counts it in the new index once it follows the swap. Limit: a purchase it
   handles between that last checkpoint read and its first write after the swap is counted in
   the old index only (undercount, never double count). On a bus without a readable position
   (RabbitMQ) the head is used instead: a lagging indexer may then count a purchase twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import typer
from rich.progress import Progress

from gamestore.cli.common import console
from gamestore.cli.seed import progress_bar
from gamestore.games.events import GameDeleted
from gamestore.platform.bus.follower import checkpoint_name
from gamestore.platform.config import EMBEDDED, Settings
from gamestore.platform.eventstore import EventStore, RecordedEvent, connect
from gamestore.platform.logs import get_logger
from gamestore.search.index import GameDocument, SearchIndex, open_search
from gamestore.search.indexer.documents import GAME_EVENTS, PURCHASE, document_of
from gamestore.search.indexer.handler import GROUP

log = get_logger("reindex")
PAGE = 5000
BATCH = 5000
CATCH_UP_ROUNDS = 10

Position = Callable[[], Awaitable[int]]


@dataclass
class Folded:
    """What was read so far: each game's newest state and the purchases, by position."""

    games: dict[str, tuple[int, GameDocument | None]] = field(default_factory=dict)
    purchases: list[tuple[int, str]] = field(default_factory=list)
    read_to: int = 0

    def add(self, event: RecordedEvent) -> None:
        if event.type == PURCHASE:
            self.purchases.append((event.position, str(event.data.get("game_id"))))
            return
        game_id = str(event.data.get("id"))
        held = self.games.get(game_id)
        if held is None or event.version > held[0]:
            doc = None if event.type == GameDeleted.TYPE else document_of(event.data, event.version)
            self.games[game_id] = (event.version, doc)

    def purchases_between(self, low: int, high: int) -> Counter[str]:
        """Purchases per game with ``low < position <= high``."""
        return Counter(game for pos, game in self.purchases if low < pos <= high)


@dataclass(frozen=True, slots=True)
class ReindexReport:
    games: int
    deleted: int
    purchases_counted: int
    read_to: int


async def read_into(
    store: EventStore, folded: Folded, until: int, on_read: Callable[[int], None]
) -> set[str]:
    """Fold events ``folded.read_to < position <= until``; returns the game ids they touched."""
    touched: set[str] = set()
    while folded.read_to < until:
        batch = await store.read_all(folded.read_to, PAGE, types=[*GAME_EVENTS, PURCHASE])
        for event in batch:
            if event.position > until:
                break
            folded.add(event)
            if event.type != PURCHASE:
                touched.add(str(event.data.get("id")))
        done = batch[-1].position if batch else until
        on_read(min(done, until) - folded.read_to)
        folded.read_to = min(done, until)
    return touched


async def write_games(index: SearchIndex, folded: Folded, ids: set[str] | None = None) -> None:
    """Write the folded games (all, or ``ids``) into ``index``: documents in bulk, tombstones."""
    chosen = folded.games if ids is None else {i: folded.games[i] for i in ids}
    docs = [doc for _, doc in chosen.values() if doc is not None]
    for start in range(0, len(docs), BATCH):
        await index.upsert_many(docs[start : start + BATCH])
    for game_id, (version, doc) in chosen.items():
        if doc is None:
            await index.delete(game_id, version)


async def count_purchases(index: SearchIndex, counts: Counter[str]) -> int:
    for game_id, count in counts.items():
        await index.add_popularity(game_id, count)
    return sum(counts.values())


async def rebuild(
    store: EventStore, live: SearchIndex, handled: Position, progress: Progress | None = None
) -> ReindexReport:
    """Build a new index from the event store and swap it in (the rule: module docstring)."""
    head = await store.head()
    task = progress.add_task("Reading events", total=head) if progress else None

    def on_read(count: int, total: int | None = None) -> None:
        if progress is not None and task is not None:
            progress.update(task, advance=count, total=total)

    built = await live.start_rebuild()
    try:
        folded, counted = await build_aside(store, built, head, handled, on_read)
    except BaseException:
        await built.close()  # an abandoned generation is removed by a later swap
        raise
    await live.finish_rebuild(built)
    deleted = sum(1 for _, doc in folded.games.values() if doc is None)
    report = ReindexReport(len(folded.games) - deleted, deleted, counted, folded.read_to)
    log.info("search index rebuilt", games=report.games, read_to=report.read_to)
    return report


async def build_aside(
    store: EventStore,
    built: SearchIndex,
    head: int,
    handled: Position,
    on_read: Callable[..., None],
) -> tuple[Folded, int]:
    """Fill ``built`` up to ``head``, then catch up; returns what was read and purchases counted."""
    folded = Folded()
    await read_into(store, folded, head, on_read)
    counted_to = min(await handled(), folded.read_to)
    # popularity first: counts recorded before a game is indexed cost no index commit
    counted = await count_purchases(built, folded.purchases_between(0, counted_to))
    await write_games(built, folded)
    for _ in range(CATCH_UP_ROUNDS):
        newest = max(await store.head(), await handled())
        if newest <= folded.read_to:
            break
        on_read(0, newest)
        await write_games(built, folded, await read_into(store, folded, newest, on_read))
    handled_now = min(await handled(), folded.read_to)
    counted += await count_purchases(built, folded.purchases_between(counted_to, handled_now))
    return folded, counted


def handled_position(settings: Settings, store: EventStore) -> Position:
    """How far the indexer group has handled the log (the head where that is not readable)."""
    if settings.bus_url == EMBEDDED:
        return lambda: store.load_checkpoint(checkpoint_name(GROUP))
    return store.head


async def run_reindex(settings: Settings) -> ReindexReport:
    store = await connect(settings.event_store_url)
    try:
        index = await open_search(settings.search_url, settings.data_dir)
        try:
            with progress_bar() as progress:
                return await rebuild(store, index, handled_position(settings, store), progress)
        finally:
            await index.close()
    finally:
        await store.close()


def reindex() -> None:
    """Rebuild the search index from the event store and swap it in; searches keep answering."""
    report = asyncio.run(run_reindex(Settings()))
    console().print(
        f"Search index rebuilt: {report.games} games, {report.deleted} deleted, "
        f"{report.purchases_counted} purchases counted, events up to {report.read_to}."
    )
    raise typer.Exit(0)
