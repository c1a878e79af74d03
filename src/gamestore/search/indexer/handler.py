"""The ``indexer`` process: keeps the search index in step with the catalog and purchases.

It consumes the consumer group ``indexer`` on the bus, a page of events at a time (one index
commit per page; the embedded index pays ~15 ms per commit):

- ``GameCreated`` / ``GameUpdated`` → ``upsert`` of the game's document at the event's stream
  version; ``GameDeleted`` → ``delete`` at its version. The index's version table makes these
  idempotent: a stale or duplicated delivery (RabbitMQ may reorder redeliveries) changes nothing.
- ``PurchaseCompleted`` → one more purchase of ``data.game_id`` (the ``popular`` sort and
  ``/jogos/populares``). Popularity is a counter, not versioned, so the indexer keeps an inbox in
  its OWN database (``settings.database_url("indexer")``): the event id is claimed and the
  purchase counted in ``purchases`` in one transaction, and the index is told inside that
  transaction, before it commits. A redelivery finds the claim and changes nothing.

  The one window left: the process dies after the index committed the increment and before the
  inbox transaction committed. The event is then delivered again, its claim is gone with the
  rolled-back transaction, and the purchase is counted twice in the index (once per such crash,
  for the single event in flight). The other order would lose a purchase instead; a popularity
  ranking prefers the rare extra count. ``purchases`` (committed with the claim) never
  double-counts: it is the exact tally, and ``gamestore reindex`` recounts from the event store.

An event the indexer can never apply (a purchase without a valid ``game_id``, a game document
that does not parse) raises :class:`PoisonEvent`; the bus retries it, then dead-letters it and
moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.migrations import open_database
from gamestore.platform.bus import connect_bus
from gamestore.platform.bus.lease import close_leases, exclusively, leases_for
from gamestore.platform.config import Settings
from gamestore.platform.db import Upsert, ping
from gamestore.platform.eventstore import RecordedEvent, connect
from gamestore.platform.health import depend_on
from gamestore.platform.inbox import claim, inbox_table
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import SEARCH_INDEX_UPDATED
from gamestore.platform.service import watching_bus
from gamestore.search.index import GameDocument, SearchIndex, open_search

log = get_logger("indexer")

GROUP = "indexer"
GAME_EVENTS = ("GameCreated", "GameUpdated", "GameDeleted")
PURCHASE = "PurchaseCompleted"
EVENT_TYPES = (*GAME_EVENTS, PURCHASE)
WRITER_LEASE = "search-writer"  # the embedded index has one writer: its holder (exclusively)

metadata = MetaData()
inbox = inbox_table(metadata)
purchases = Table(
    "purchases",
    metadata,
    Column("game_id", String(36), primary_key=True),
    Column("count", Integer, nullable=False),
)


class PoisonEvent(ValueError):
    """An event the indexer can never apply (the bus dead-letters it after its retries)."""


def document_of(data: Mapping[str, Any], version: int) -> GameDocument:
    """The search document of a game event's data (the public game document)."""
    try:
        return GameDocument(
            id=_game_id(data.get("id")),
            title=str(data["title"]),
            description=str(data.get("description", "")),
            genres=[str(g) for g in data.get("genres", [])],
            platforms=[str(p) for p in data.get("platforms", [])],
            tags=[str(t) for t in data.get("tags", [])],
            developer=str(data.get("developer", "")),
            publisher=str(data.get("publisher", "")),
            price_cents=int(data["price_cents"]),
            release_date=date.fromisoformat(str(data["release_date"])),
            version=version,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PoisonEvent(f"game document does not parse: {error}") from error


def _game_id(value: object) -> str:
    if value is None:
        raise PoisonEvent("the event carries no game id")
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise PoisonEvent(f"game id is not a UUID: {str(value)[:64]!r}") from None


class Indexer:
    """The event handler: applies one recorded event to the index, idempotently."""

    def __init__(self, index: SearchIndex, engine: AsyncEngine) -> None:
        self._index = index
        self._engine = engine

    async def handle(self, event: RecordedEvent) -> None:
        """Apply ``event``; other types are ignored."""
        if event.type in ("GameCreated", "GameUpdated"):
            applied = await self._index.upsert(document_of(event.data, event.version))
            game_id = str(event.data.get("id"))
        elif event.type == "GameDeleted":
            game_id = _game_id(event.data.get("id"))
            applied = await self._index.delete(game_id, event.version)
        elif event.type == PURCHASE:
            game_id = _game_id(event.data.get("game_id"))
            applied = await self._count_purchase(event, game_id)
        else:
            return
        log.info(
            "event applied" if applied else "event ignored (stale or duplicate)",
            event_type=event.type,
            game_id=game_id,
            version=event.version,
            position=event.position,
        )

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        """Apply a page of events: every game document in ONE index commit (the index keeps the
        newest version per game, whatever the order), the page's purchases in one more, then
        deletes one by one.
        Any poison event fails the batch; the bus then delivers its events one at a time."""
        upserts = [e for e in events if e.type in ("GameCreated", "GameUpdated")]
        if upserts:
            documents = [document_of(e.data, e.version) for e in upserts]
            applied = await self._index.upsert_many(documents)
            for event, document in zip(upserts, documents, strict=True):
                log.info(
                    "game document written (newest version per game kept)",
                    event_type=event.type,
                    game_id=document.id,
                    version=event.version,
                    position=event.position,
                )
            log.info("batch applied", documents=len(documents), newer=applied)
        purchases = [e for e in events if e.type == PURCHASE]
        if purchases:
            await self._count_purchases(purchases)
        for event in events:
            if event.type not in ("GameCreated", "GameUpdated", PURCHASE):
                await self.handle(event)
        SEARCH_INDEX_UPDATED.set_to_current_time()

    async def _count_purchases(self, events: list[RecordedEvent]) -> None:
        """Purchases of a page in ONE transaction and ONE index commit (each still claimed
        once in the inbox: a redelivered one adds nothing)."""
        game_ids = [_game_id(event.data.get("game_id")) for event in events]  # poison first
        deltas: dict[str, int] = {}
        async with self._engine.begin() as conn:
            for event, game_id in zip(events, game_ids, strict=True):
                if await claim(conn, GROUP, event.event_id):
                    await _add_purchase(conn, game_id)
                    deltas[game_id] = deltas.get(game_id, 0) + 1
            if deltas:  # inside the transaction, as for one purchase (see the module doc)
                await self._index.add_popularity_many(deltas)
        log.info("purchases counted", events=len(events), counted=sum(deltas.values()))

    async def _count_purchase(self, event: RecordedEvent, game_id: str) -> bool:
        async with self._engine.begin() as conn:
            if not await claim(conn, GROUP, event.event_id):
                return False
            await _add_purchase(conn, game_id)
            # inside the transaction: a failure here rolls the claim back (see module doc)
            await self._index.add_popularity(game_id, 1)
        return True


_COUNT_PURCHASE = Upsert(
    purchases,
    lambda insert: insert.on_conflict_do_update(
        index_elements=["game_id"], set_={"count": purchases.c.count + 1}
    ),
)


async def _add_purchase(conn: AsyncConnection, game_id: str) -> None:
    await _COUNT_PURCHASE.execute(conn, {"game_id": game_id, "count": 1})


async def purchase_counts(engine: AsyncEngine) -> dict[str, int]:
    """The exact number of purchases the indexer counted, per game id."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(purchases.c.game_id, purchases.c.count))
        return {game_id: int(count) for game_id, count in rows}


async def open_indexer_database(settings: Settings) -> AsyncEngine:
    """The indexer's own database (inbox and purchase tally), its schema at head."""
    return await open_database(settings, "indexer")


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``indexer`` process: follow the bus into the search index until ``stop``."""
    async with contextlib.AsyncExitStack() as stack:
        engine = await open_indexer_database(settings)
        stack.push_async_callback(engine.dispose)
        store = await connect(settings.event_store_url)
        stack.push_async_callback(store.close)
        index = await open_search(settings.search_url, settings.data_dir)
        stack.push_async_callback(index.close)
        bus = await connect_bus(settings.bus_url, store)
        stack.push_async_callback(bus.close)
        depend_on(stack, database=lambda: ping(engine), event_store=store.head, search=index.ping)
        stack.enter_context(watching_bus(settings, bus))
        handler = Indexer(index, engine).handle_batch

        async def consume(halt: asyncio.Event) -> None:
            log.info("indexer consuming", group=GROUP, types=",".join(EVENT_TYPES))
            await bus.consume_batches(GROUP, EVENT_TYPES, handler, stop=halt)

        if settings.search_url is None:  # an index on this disk: one writer (docs/adr/015)
            leases = leases_for(settings.event_store_url)
            stack.push_async_callback(close_leases, leases)
            await exclusively(leases, WRITER_LEASE, stop, consume)
        else:  # Elasticsearch: replicas compete for events, versioned writes keep the newest
            await consume(stop)
    log.info("indexer stopped")
