"""Group commit: concurrent appends from one process share one database transaction.

Positions must follow commit order (ADR 001), so appends serialize on the log's head and each
commit's flush to disk would be paid one after another. Instead, the appends waiting at a given
moment are written by ONE call in ONE transaction, each still checked on its own (expected
version, idempotency) and each caller answered with its own events or its own error. A caller
is answered only after the transaction holding its events committed. The group is written from
another task, so everything taken from the caller's context travels in the request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from gamestore.platform.eventstore.model import (
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    check_batch,
    expected_to_int,
)
from gamestore.platform.logs import current_correlation
from gamestore.platform.tracing import current_traceparent


@dataclass(eq=False)
class AppendRequest:
    stream_id: str
    events: Sequence[NewEvent]
    expected: int  # encoded: -1 any, 0 no stream, n exact
    expected_version: ExpectedVersion
    correlation_id: str | None  # the caller's, for events that carry none of their own
    future: asyncio.Future[list[RecordedEvent]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @classmethod
    def of(
        cls, stream_id: str, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> AppendRequest:
        """Check an append's arguments and capture what the caller's context adds to it."""
        check_batch(stream_id, events)
        if (traceparent := current_traceparent()) is not None:  # appended inside a trace
            events = [e if e.traceparent else replace(e, traceparent=traceparent) for e in events]
        return cls(
            stream_id,
            events,
            expected_to_int(expected_version),
            expected_version,
            current_correlation(),
        )

    def resolve(self, recorded: list[RecordedEvent]) -> None:
        if not self.future.done():
            self.future.set_result(recorded)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


Flush = Callable[[list[AppendRequest]], Awaitable[None]]


class GroupCommitter:
    """Queues append requests and writes them in groups with at most ``max_in_flight`` calls."""

    def __init__(self, flush: Flush, *, max_events: int = 1000, max_in_flight: int = 1) -> None:
        self._flush = flush
        self._max_events = max_events
        self._max_in_flight = max_in_flight
        self._queue: deque[AppendRequest] = deque()
        self._workers: set[asyncio.Task[None]] = set()  # strong references while they run
        self._draining = 0  # counted by the workers themselves: done-callbacks run too late

    async def submit(self, request: AppendRequest) -> list[RecordedEvent]:
        self._queue.append(request)
        if self._draining < self._max_in_flight:
            self._draining += 1
            worker = asyncio.create_task(self._drain())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        return await request.future

    def _take(self) -> list[AppendRequest]:
        group: list[AppendRequest] = []
        events = 0
        while self._queue and (
            not group or events + len(self._queue[0].events) <= self._max_events
        ):
            request = self._queue.popleft()
            group.append(request)
            events += len(request.events)
        return group

    async def _drain(self) -> None:
        try:
            while group := self._take():
                try:
                    await self._flush(group)
                except BaseException as error:  # every caller of the group learns why
                    for request in group:
                        request.fail(error)
                    if not isinstance(error, Exception):
                        raise
        finally:
            self._draining -= 1

    async def close(self) -> None:
        """Wait for the groups already being written."""
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
