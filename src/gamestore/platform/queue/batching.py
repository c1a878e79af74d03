"""Group commit: many concurrent callers, one transaction per batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Flush = Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Item, Result]):
    """Runs ``flush`` over every item submitted while the previous flush was running.

    A lone caller is flushed at once (no added latency); under load, callers that arrive during a
    flush share the next one, so one database transaction serves many messages. Each caller gets
    its own result only after its batch committed: durability is the same as one-by-one.
    """

    def __init__(self, flush: Flush[Item, Result]) -> None:
        self._flush = flush
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Queue ``item`` for the next flush and wait for its result."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self._flush([item for item, _ in batch])
            except BaseException as error:
                cancelled = isinstance(error, asyncio.CancelledError)
                for _, future in batch:
                    if future.done():
                        continue
                    if cancelled:
                        future.cancel()
                    else:
                        future.set_exception(error)
                if cancelled:
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Wait for the flush under way (pending items are flushed, not dropped)."""
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
