"""The indexer's event handler: applies recorded events to the search index, idempotently.

Game documents are versioned writes (the index keeps the newest per game); purchases are counted
once per event id through the inbox of the indexer's own database (see the package doc).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.games.events import GameDeleted
from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.inbox import claim
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import SEARCH_INDEX_UPDATED
from gamestore.search.index import SearchIndex
from gamestore.search.indexer.documents import (
    GAME_EVENTS,
    PURCHASE,
    UPSERTS,
    document_of,
    game_id_of,
    purchased_game_of,
)
from gamestore.search.indexer.tables import add_purchase

log = get_logger("indexer")

GROUP = "indexer"
EVENT_TYPES = (*GAME_EVENTS, PURCHASE)


class Indexer:
    """The event handler: applies one recorded event to the index, idempotently."""

    def __init__(self, index: SearchIndex, engine: AsyncEngine) -> None:
        self._index = index
        self._engine = engine

    async def handle(self, event: RecordedEvent) -> None:
        """Apply ``event``; other types are ignored."""
        if event.type in UPSERTS:
            applied = await self._index.upsert(document_of(event.data, event.version))
            game_id = str(event.data.get("id"))
        elif event.type == GameDeleted.TYPE:
            game_id = game_id_of(GameDeleted.parse(event).id)
            applied = await self._index.delete(game_id, event.version)
        elif event.type == PURCHASE:
            game_id = purchased_game_of(event.data)
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
        upserts = [e for e in events if e.type in UPSERTS]
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
            if event.type not in (*UPSERTS, PURCHASE):
                await self.handle(event)
        SEARCH_INDEX_UPDATED.set_to_current_time()

    async def _count_purchases(self, events: list[RecordedEvent]) -> None:
        """Purchases of a page in ONE transaction and ONE index commit (each still claimed
        once in the inbox: a redelivered one adds nothing)."""
        game_ids = [purchased_game_of(event.data) for event in events]  # poison first
        deltas: dict[str, int] = {}
        async with self._engine.begin() as conn:
            for event, game_id in zip(events, game_ids, strict=True):
                if await claim(conn, GROUP, event.event_id):
                    await add_purchase(conn, game_id)
                    deltas[game_id] = deltas.get(game_id, 0) + 1
            if deltas:  # inside the transaction, as for one purchase (see the package doc)
                await self._index.add_popularity_many(deltas)
        log.info("purchases counted", events=len(events), counted=sum(deltas.values()))

    async def _count_purchase(self, event: RecordedEvent, game_id: str) -> bool:
        async with self._engine.begin() as conn:
            if not await claim(conn, GROUP, event.event_id):
                return False
            await add_purchase(conn, game_id)
            # inside the transaction: a failure here rolls the claim back (see the package doc)
            await self._index.add_popularity(game_id, 1)
        return True
