"""The work queue under test, once per adapter: table on SQLite, table on PostgreSQL, RabbitMQ."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gamestore.platform.queue import WorkQueue, connect_queue
from tests.conftest import AMQP_URL, fresh_postgres_database, require

KINDS = ["table-sqlite", "table-postgres", "rabbitmq"]
LEASE_TIMEOUT = 1.5  # seconds; short, so an abandoned delivery comes back within a test


@dataclass
class Bench:
    """A queue name unique to the test and a way to open (more) adapters on the same engine."""

    kind: str
    url: str
    name: str
    options: dict[str, Any]
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def dedupes_ids(self) -> bool:
        """Table queues make enqueue idempotent on message_id; RabbitMQ leaves it to consumers."""
        return self.kind != "rabbitmq"

    async def open(self) -> WorkQueue:
        """A new adapter, as another process would open it."""
        queue = await connect_queue(self.url, **self.options)
        self.stack.push_async_callback(queue.close)
        return queue


async def queue_url(kind: str, tmp_path: Path, stack: AsyncExitStack) -> str:
    if kind == "table-postgres":
        return await stack.enter_async_context(fresh_postgres_database())
    if kind == "rabbitmq":
        require("RabbitMQ", AMQP_URL, 5672)
        return AMQP_URL
    return f"sqlite:///{tmp_path / 'queue.db'}"


async def drop_rabbit_queue(url: str, name: str) -> None:
    from gamestore.platform.queue.rabbitmq import RabbitWorkQueue

    queue = await RabbitWorkQueue.connect(url)
    try:
        await queue.drop(name)
    finally:
        await queue.close()


@pytest.fixture(params=KINDS)
async def bench(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[Bench]:
    async with AsyncExitStack() as outer:
        url = await queue_url(request.param, tmp_path, outer)
        options: dict[str, Any] = {}
        if request.param == "rabbitmq":
            outer.push_async_callback(drop_rabbit_queue, url, f"q-{unique}")
        else:
            options["lease_timeout"] = LEASE_TIMEOUT
        bench = Bench(request.param, url, f"q-{unique}", options)
        async with bench.stack:
            yield bench


@pytest.fixture
async def queue(bench: Bench) -> WorkQueue:
    return await bench.open()
