"""Helpers for the queue tests: run a consumer until a condition holds, poll with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gamestore.platform.queue import Handler, RetryPolicy, WorkQueue

FAST = RetryPolicy(max_attempts=3, base_delay=0.02, max_delay=0.1)


async def eventually(
    condition: Callable[[], Awaitable[bool]] | Callable[[], bool],
    within: float = 10.0,
    what: str = "condition",
) -> None:
    """Poll ``condition`` every 10 ms until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result: Any = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {within}s")
        await asyncio.sleep(0.01)


class Consuming:
    """``async with Consuming(queue, name, handler):`` runs ``consume`` until the block ends."""

    def __init__(
        self,
        queue: WorkQueue,
        name: str,
        handler: Handler,
        *,
        policy: RetryPolicy = FAST,
        concurrency: int = 1,
    ) -> None:
        self.stop = asyncio.Event()
        self._start = lambda: queue.consume(
            name, handler, stop=self.stop, policy=policy, concurrency=concurrency
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Consuming:
        self.task = asyncio.create_task(self._start())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.stop.set()
        await asyncio.wait_for(self.task, 10)


async def dead_letter_ids(queue: WorkQueue, name: str) -> set[str]:
    return {letter.id for letter in await queue.dead_letters(name)}
