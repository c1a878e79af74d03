"""The unit of work: a service's state change and the events it emits commit together.

::

    async with uow() as tx:
        game = await tx.repo.get(game_id, lock=True)
        await tx.repo.save(changed)
        tx.emit(f"game-{game_id}", GameUpdated.of(changed), expected_version=game.version)

On leaving the block without an error, the emitted events are staged in the service's outbox
in the same transaction as the state change, the transaction commits, and then the outbox
relay is woken (ARCHITECTURE.md guarantee 1: no dual write). An error rolls everything back:
nothing is written, nothing is emitted, nobody is woken.

``tx.repo`` is the service's repository (a Protocol of its own). :class:`SqlUnitOfWork` builds
it on the transaction's connection; :class:`FakeUnitOfWork` hands out an in-memory one, so a
use case's decisions and the events it emits are unit tested without a database.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.db import read_only
from gamestore.platform.events import Event
from gamestore.platform.eventstore import ExpectedVersion, NewEvent
from gamestore.platform.outbox import Outbox

R = TypeVar("R")

Emittable = Event | NewEvent
"""A typed event contract, or an envelope built by hand (a derived id, a causation)."""


@dataclass(frozen=True, slots=True)
class Emitted:
    """One ``emit``: the events bound for a stream, and the version the stream must be at."""

    stream_id: str
    events: tuple[NewEvent, ...]
    expected_version: ExpectedVersion


def envelope(event: Emittable) -> NewEvent:
    return event.new_event() if isinstance(event, Event) else event


class Transaction(Generic[R]):
    """What a use case holds inside ``async with uow() as tx``."""

    def __init__(self, repo: R) -> None:
        self.repo = repo
        self.emitted: list[Emitted] = []

    def emit(
        self,
        stream_id: str,
        events: Emittable | Sequence[Emittable],
        expected_version: ExpectedVersion,
    ) -> None:
        """Emit ``events`` on ``stream_id`` when (and only if) the unit of work commits.

        ``expected_version`` has no default: say what the stream must be at (``NO_STREAM``,
        the version read, or ``ANY`` for a stream of independent facts)."""
        batch = (events,) if isinstance(events, Event | NewEvent) else tuple(events)
        if batch:
            self.emitted.append(
                Emitted(stream_id, tuple(envelope(e) for e in batch), expected_version)
            )


class UnitOfWork(Protocol[R]):
    """A service's unit of work: ``async with uow() as tx`` writes; ``uow.read()`` reads."""

    def __call__(self) -> contextlib.AbstractAsyncContextManager[Transaction[R]]: ...

    def read(self) -> contextlib.AbstractAsyncContextManager[R]: ...


class SqlUnitOfWork(Generic[R]):
    """One database transaction per unit of work, the service's outbox in it, and the relay
    woken after each commit that emitted something.

    ``wake`` is required: a process that runs its relay passes ``relay.wake``; one that runs
    none (a CLI command, a test that relays by hand) passes :data:`NO_RELAY` and says so."""

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Outbox,
        repository: Callable[[AsyncConnection], R],
        *,
        wake: Callable[[], None],
    ) -> None:
        self.engine = engine
        self._outbox = outbox
        self._repository = repository
        self._wake = wake

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Transaction[R]]:
        async with self.engine.begin() as conn:
            tx = Transaction(self._repository(conn))
            yield tx
            for emitted in tx.emitted:
                await self._outbox.add(
                    conn, emitted.stream_id, emitted.events, emitted.expected_version
                )
        if tx.emitted:
            self._wake()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[R]:
        """The repository on a read-only connection: a look takes no write lock."""
        async with read_only(self.engine) as conn:
            yield self._repository(conn)


def NO_RELAY() -> None:
    """The ``wake`` of a unit of work whose process runs no relay (the rows it stages are
    moved by the service's own relay, which polls)."""
    return None


@dataclass
class FakeUnitOfWork(Generic[R]):
    """An in-memory unit of work for unit tests: ``repo`` is an in-memory repository shared by
    every transaction; ``committed`` lists what committed units of work emitted, in order,
    and ``wakes`` counts the relay wake-ups a real one would have made.

    A block that raises commits nothing: its emitted events are dropped (the in-memory
    repository keeps whatever the use case wrote before raising, so tests assert on events
    and answers, not on state left by a failed attempt)."""

    repo: R
    committed: list[Emitted] = field(default_factory=list)
    commits: int = 0
    wakes: int = 0

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Transaction[R]]:
        tx = Transaction(self.repo)
        yield tx
        self.commits += 1
        self.committed.extend(tx.emitted)
        if tx.emitted:
            self.wakes += 1

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[R]:
        yield self.repo

    def events(self, stream_id: str | None = None) -> list[NewEvent]:
        """Every committed event (of ``stream_id`` if given), in emission order."""
        return [
            event
            for emitted in self.committed
            if stream_id is None or emitted.stream_id == stream_id
            for event in emitted.events
        ]

    def types(self) -> list[str]:
        return [event.type for event in self.events()]
