"""Every dead letter in one place: the work queue's commands and the event bus's events.

An operator should not need to know which machinery gave up on something to see it, replay it
or drop it: ``GET /admin/dlq``, ``gamestore dlq`` and the web admin all read this one list.
Each dead letter says where it came from (``source``: ``queue`` or ``bus``) and, in ``queue``,
which queue or consumer group. Ids are unique across both (UUIDs, or ``<group>:<event id>``),
so replay and discard need only the id.
"""

from __future__ import annotations

from typing import Literal

from gamestore.platform.bus import EventBus
from gamestore.platform.queue import DeadLetter, WorkQueue

Source = Literal["queue", "bus"]


class DeadLetters:
    """The dead letters of ``queue`` and ``bus``, listed together, replayed and dropped by id."""

    def __init__(self, queue: WorkQueue, bus: EventBus | None) -> None:
        self._queue = queue
        self._bus = bus  # None: no event store yet, so no consumer group ever ran

    async def list(self, source: Source | None = None, name: str | None = None) -> list[DeadLetter]:
        """Oldest first; ``source`` keeps one machinery, ``name`` one queue or consumer group."""
        found: list[DeadLetter] = []
        if source in (None, "queue"):
            found += await self._queue.dead_letters(name)
        if source in (None, "bus") and self._bus is not None:
            found += await self._bus.dead_letters(name)
        return sorted(found, key=lambda letter: letter.dead_lettered_at)

    async def replay(self, dead_letter_id: str) -> bool:
        """Hand it back to its queue or consumer group with a fresh attempt count; False if
        there is no such dead letter."""
        if await self._queue.replay(dead_letter_id):
            return True
        return self._bus is not None and await self._bus.replay(dead_letter_id)

    async def discard(self, dead_letter_id: str) -> bool:
        """Drop one for good; False if there is no such dead letter."""
        if await self._queue.discard(dead_letter_id):
            return True
        return self._bus is not None and await self._bus.discard(dead_letter_id)

    async def purge(self, source: Source | None = None, name: str | None = None) -> int:
        """Drop every dead letter (of one source, queue or group); how many went."""
        dropped = 0
        if source in (None, "queue"):
            dropped += await self._queue.purge(name)
        if source in (None, "bus") and self._bus is not None:
            dropped += await self._bus.purge(name)
        return dropped
