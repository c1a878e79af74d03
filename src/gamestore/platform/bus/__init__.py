"""The event bus, chosen by URL: ``embedded`` (the event store itself) or ``amqp://…``.

>>> bus = await connect_bus(settings.bus_url, store)
>>> await bus.consume("notifier", ["PurchaseCompleted"], handle, stop=stop)
"""

from __future__ import annotations

from typing import Any

from gamestore.platform.bus.delivery import Backoff
from gamestore.platform.bus.model import BatchHandler, EventBus, EventHandler
from gamestore.platform.config import EMBEDDED, scheme
from gamestore.platform.eventstore import EventStore

__all__ = ["Backoff", "BatchHandler", "EventBus", "EventHandler", "connect_bus"]


async def connect_bus(
    url: str, store: EventStore, *, store_url: str | None = None, **options: Any
) -> EventBus:
    """Open the bus named by ``url`` over ``store``.

    ``store_url`` names the event store's database (leases and dead letters live there); it
    defaults to the store's own ``url``. ``options`` tune the adapter (see its constructor).
    """
    database = store_url or store.url
    if url == EMBEDDED:
        from gamestore.platform.bus.embedded import EmbeddedBus

        return EmbeddedBus(store, database, **options)
    if scheme(url) in ("amqp", "amqps"):
        from gamestore.platform.bus.rabbitmq import RabbitMqBus

        return await RabbitMqBus.connect(url, store, database, **options)
    raise ValueError(f"no event bus adapter for {url!r} (use 'embedded' or amqp://)")
