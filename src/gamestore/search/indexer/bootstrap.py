"""The ``indexer`` process's composition root: its own database, the event store, the search
index and the bus, and ``main``, which follows the bus into the index until stopped."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.migrations import open_database
from gamestore.platform.bus import connect_bus
from gamestore.platform.bus.lease import exclusively, leases_for
from gamestore.platform.config import Settings
from gamestore.platform.db import ping
from gamestore.platform.eventstore import connect
from gamestore.platform.health import depend_on
from gamestore.platform.logs import get_logger
from gamestore.platform.service import watching_bus
from gamestore.search.index import open_search
from gamestore.search.indexer.handler import EVENT_TYPES, GROUP, Indexer

log = get_logger("indexer")

WRITER_LEASE = "search-writer"  # the embedded index has one writer: its holder (exclusively)


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
            stack.push_async_callback(leases.close)
            await exclusively(leases, WRITER_LEASE, stop, consume)
        else:  # Elasticsearch: replicas compete for events, versioned writes keep the newest
            await consume(stop)
    log.info("indexer stopped")
