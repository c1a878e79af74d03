"""The consume loop of the table-backed queue: lease in batches, handle, settle, renew.

An outage (``platform.faults``) is never an attempt: a handler that meets one is called again
with the same delivery after a pause, its lease renewed meanwhile, for as long as the outage
lasts; told to stop meanwhile, the consumer gives the message back with its attempt count
unchanged. Leasing, settling and renewing wait an outage of the queue's own database out too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.faults import (
    DEFAULT_PAUSE,
    OutageLog,
    Pause,
    Stopped,
    is_transient,
    until_available,
)
from gamestore.platform.health import HEALTH, Heartbeat
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.metrics import QUEUE_MESSAGES
from gamestore.platform.queue.handling import call_through_outages
from gamestore.platform.queue.model import Handler, Message, RetryPolicy

log = get_logger("queue.consumer")
T = TypeVar("T")


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True, slots=True)
class Leased:
    """A delivery held under a lease: the message, the lease token and the previous error."""

    message: Message
    token: str
    last_error: str | None

    @property
    def id(self) -> str:
        return self.message.id

    @classmethod
    def from_row(cls, row: Sequence[Any], token: str) -> Leased:
        mid, queue, body, attempts, corr, enqueued_at, last_error, traceparent = row
        message = Message(mid, queue, dict(body), attempts, corr, _time(enqueued_at), traceparent)
        return cls(message, token, last_error)


def dead_letter_from_row(row: Mapping[str, Any]) -> DeadLetter:
    return DeadLetter(
        id=row["id"],
        queue=row["queue"],
        message=dict(row["body"]),
        error=row["error"],
        attempts=row["attempts"],
        dead_lettered_at=_time(row["dead_lettered_at"]),
        correlation_id=row["correlation_id"],
    )


class LeaseStore(Protocol):
    lease_timeout: float
    poll_interval: float

    async def lease(self, queue: str, limit: int) -> list[Leased]: ...
    async def ack(self, leased: Leased) -> bool: ...
    async def retry(self, leased: Leased, delay: float, error: str) -> None: ...
    async def dead_letter(self, leased: Leased, error: str) -> None: ...
    async def release(self, leased: Leased) -> None: ...
    async def renew(self, tokens: Sequence[str]) -> None: ...


class TableConsumer:
    """Runs up to ``concurrency`` handlers; leases more only when at least half the slots are free,
    so a busy consumer leases (and acks) in batches rather than one row per transaction."""

    def __init__(
        self,
        store: LeaseStore,
        queue: str,
        handler: Handler,
        *,
        policy: RetryPolicy,
        concurrency: int,
        pause: Pause = DEFAULT_PAUSE,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.store = store
        self.queue = queue
        self.handler = handler
        self.policy = policy
        self.concurrency = concurrency
        self.pause = pause
        self._running: dict[asyncio.Task[None], Leased] = {}
        self._stop = asyncio.Event()
        self._leasing = OutageLog(f"queue {queue}: its database", queue=queue)
        self._beat = Heartbeat(f"queue {queue}")

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then let the handlers under way finish and settle.

        If the task is cancelled instead, handlers are cancelled and nothing is settled: the
        leases run out and the messages are redelivered, exactly as if the process had died.
        """
        self._stop = stop
        stopped = asyncio.create_task(stop.wait())
        renewer = asyncio.create_task(self._renew_leases())
        try:
            with HEALTH.loop(f"queue {self.queue}") as self._beat:
                while not stopped.done():
                    await self._step(stopped)
                if self._running:
                    await asyncio.wait(self._running)
        finally:
            renewer.cancel()
            stopped.cancel()
            for task in self._running:
                task.cancel()

    async def _step(self, stopped: asyncio.Task[Any]) -> None:
        free = self.concurrency - len(self._running)
        if self._running and free < max(1, self.concurrency // 2):
            await asyncio.wait({stopped, *self._running}, return_when=asyncio.FIRST_COMPLETED)
            return
        try:
            batch = await self.store.lease(self.queue, free)
            self._leasing.recovered()
        except Exception as error:
            if not is_transient(error):
                log.exception("leasing failed; retrying", queue=self.queue)
            self._leasing.failed(error)
            await asyncio.wait({stopped}, timeout=self.pause.delay(self._leasing.tries))
            return
        if not batch:
            await asyncio.wait({stopped}, timeout=self.store.poll_interval)
            return
        for leased in batch:
            task = asyncio.create_task(self._handle(leased))
            self._running[task] = leased
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)

    async def _renew_leases(self) -> None:
        outage = OutageLog(f"queue {self.queue}: renewing leases", queue=self.queue)
        while True:
            await asyncio.sleep(self.store.lease_timeout / 3)
            tokens = list({leased.token for leased in self._running.values()})
            if not tokens:
                continue
            try:
                await self.store.renew(tokens)
                outage.recovered()
            except Exception as error:
                outage.failed(error)

    async def _handle(self, leased: Leased) -> None:
        message = leased.message
        with correlation(message.correlation_id):
            try:
                await self._handle_once(leased)
            except Stopped:
                pass  # stopped while settling through an outage: the lease runs out
            except Exception:
                # Settling failed for good: the lease runs out and the message comes back.
                log.exception("could not settle message", message_id=message.id)

    async def _handle_once(self, leased: Leased) -> None:
        message = leased.message
        if message.attempts > self.policy.max_attempts:
            error = leased.last_error or "lease expired without an ack (consumer crashed?)"
            return await self._dead_letter(leased, error)
        done = await call_through_outages(
            self.handler, message,
            queue=self.queue, stop=self._stop, pause=self.pause, beat=self._beat,
        )  # fmt: skip
        if done.stopped:
            return await self._settle(lambda: self.store.release(leased))
        if done.permanent:
            return await self._dead_letter(leased, done.error)
        if not done.ok:
            return await self._failed(leased, done.error)
        if not await self._settle(lambda: self.store.ack(leased)):
            log.warning("ack found the lease taken over", message_id=message.id)
        QUEUE_MESSAGES.labels(self.queue, "handled").inc()

    async def _settle(self, operation: Callable[[], Awaitable[T]]) -> T:
        """A settling write, retried through an outage of the queue's database."""
        return await until_available(
            operation, stop=self._stop, what=f"queue {self.queue}: settling", pause=self.pause
        )

    async def _failed(self, leased: Leased, error: str) -> None:
        attempts = leased.message.attempts
        if attempts >= self.policy.max_attempts:
            return await self._dead_letter(leased, error)
        delay = self.policy.delay(attempts)
        log.warning(
            "handler failed; retrying",
            message_id=leased.id,
            attempts=attempts,
            delay=round(delay, 3),
            error=error,
        )
        await self._settle(lambda: self.store.retry(leased, delay, error))
        QUEUE_MESSAGES.labels(self.queue, "retried").inc()

    async def _dead_letter(self, leased: Leased, error: str) -> None:
        log.error(
            "dead-lettering message",
            message_id=leased.id,
            queue=leased.message.queue,
            attempts=leased.message.attempts,
            error=error,
        )
        await self._settle(lambda: self.store.dead_letter(leased, error))
        QUEUE_MESSAGES.labels(self.queue, "dead_lettered").inc()
