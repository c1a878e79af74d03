"""Runs a relay that SIGKILLs its own process right after an append, before deleting rows.

Usage: python relay_crash_child.py <service-db-url> <event-store-url> <appends-before-kill> <owner>

``owner`` is the process whose staged rows the relay moves (the parent staged them: the child
plays the service process that staged them and was killed while relaying).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[3]))


from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import ANY, NewEvent, RecordedEvent, connect
from gamestore.platform.outbox import OutboxRelay
from tests.integration.outbox.support import outbox


class KillAfterAppends:
    """The real store; after ``n`` committed appends the process dies on the spot."""

    def __init__(self, store: Any, n: int) -> None:
        self._store, self._left = store, n

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Any = ANY
    ) -> list[RecordedEvent]:
        recorded: list[RecordedEvent] = await self._store.append(
            stream_id, events, expected_version
        )
        self._left -= 1
        if self._left == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return recorded


async def main(db_url: str, store_url: str, appends: int, owner: str) -> None:
    engine = create_engine(db_url)
    store = await connect(store_url)
    relay = OutboxRelay(
        engine, KillAfterAppends(store, appends), outbox.table, batch_size=1000, owner=owner
    )  # type: ignore[arg-type]
    await relay.relay_once()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
