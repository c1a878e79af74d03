"""One active member per name across processes: the consumer group's (or publisher's) lease.

On PostgreSQL a session advisory lock on a dedicated connection: the server frees it the moment
the holder's connection dies. On SQLite a row in ``bus_leases`` with an expiry that the holder
renews while alive; a member that dies without releasing is replaced once the row expires.
Standby members poll until they win or are told to stop.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Protocol

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.config import scheme
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore.postgres import dsn
from gamestore.platform.logs import get_logger
from gamestore.platform.waiting import first_set, wait_event

log = get_logger("bus.lease")

_SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bus_leases ("
    " name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL)"
)


class Lease:
    """A held lease; ``lost`` is set when the holder can no longer be sure it still holds it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lost = asyncio.Event()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leases(Protocol):
    """Where a name's lease is held: one holder at a time, across processes."""

    def hold(self, name: str, stop: asyncio.Event) -> AbstractAsyncContextManager[Lease | None]:
        """Wait until ``name`` is ours (yield a Lease) or ``stop`` is set (yield None)."""
        ...

    async def close(self) -> None:
        """Release what the leases keep open between holds."""
        ...


class PostgresLeases:
    """Advisory locks, each on its own connection (the lock lives as long as the session)."""

    def __init__(self, url: str, *, poll: float = 0.5) -> None:
        self._url = url
        self._poll = poll

    async def close(self) -> None:
        """Nothing to release: each hold opens and closes its own connection."""

    @asynccontextmanager
    async def hold(self, name: str, stop: asyncio.Event) -> AsyncIterator[Lease | None]:
        """Wait until ``name`` is ours (yield a Lease) or ``stop`` is set (yield None)."""
        conn = await asyncpg.connect(dsn(self._url))
        try:
            key = advisory_key(name)
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                if stop.is_set():
                    yield None
                    return
                await wait_event(stop, self._poll)
            lease = Lease(name)
            conn.add_termination_listener(lambda _: lease.lost.set())
            log.info("lease acquired", lease=name)
            yield lease
        finally:
            await _close(conn)  # closing the session releases the advisory lock


async def _close(conn: asyncpg.Connection) -> None:
    """Close gracefully, or drop a connection the server already cut (a restart)."""
    try:
        await asyncio.wait_for(conn.close(), 2.0)
    except Exception:
        conn.terminate()


class SqliteLeases:
    """Lease rows with an expiry, renewed every ``ttl / 3`` seconds by the holder."""

    def __init__(self, url: str, *, ttl: float = 10.0, poll: float = 0.5) -> None:
        self._engine: AsyncEngine = create_engine(url)
        self._ttl = ttl
        self._poll = poll
        self._ready = False

    @asynccontextmanager
    async def hold(self, name: str, stop: asyncio.Event) -> AsyncIterator[Lease | None]:
        """Wait until ``name`` is ours (yield a Lease) or ``stop`` is set (yield None)."""
        holder = uuid.uuid4().hex
        while not await self._try_take(name, holder):
            if stop.is_set():
                yield None
                return
            await wait_event(stop, self._poll)
        lease = Lease(name)
        renewer = asyncio.create_task(self._renew(lease, holder))
        log.info("lease acquired", lease=name, holder=holder)
        try:
            yield lease
        finally:
            renewer.cancel()
            with suppress(asyncio.CancelledError):
                await renewer
            await self._release(name, holder)

    async def _try_take(self, name: str, holder: str) -> bool:
        """Take or renew the row if it is free, expired or already ours; True when ours."""
        await self._create_schema()
        now = time.time()
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO bus_leases (name, holder, expires_at) VALUES (:n, :h, :e)"
                    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                    " expires_at = excluded.expires_at"
                    " WHERE bus_leases.holder = excluded.holder OR bus_leases.expires_at < :now"
                ),
                {"n": name, "h": holder, "e": now + self._ttl, "now": now},
            )
            owner = await conn.scalar(
                text("SELECT holder FROM bus_leases WHERE name = :n"), {"n": name}
            )
        return bool(owner == holder)

    async def _renew(self, lease: Lease, holder: str) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                still_ours = await self._try_take(lease.name, holder)
            except Exception:
                log.exception("lease renewal failed", lease=lease.name)
                still_ours = False
            if not still_ours:
                log.warning("lease lost", lease=lease.name)
                lease.lost.set()
                return

    async def _release(self, name: str, holder: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM bus_leases WHERE name = :n AND holder = :h"),
                {"n": name, "h": holder},
            )

    async def _create_schema(self) -> None:
        if not self._ready:
            async with self._engine.begin() as conn:
                await conn.execute(text(_SQLITE_SCHEMA))
            self._ready = True

    async def close(self) -> None:
        await self._engine.dispose()


class LeaseLost(RuntimeError):
    """This process could no longer be sure it held the lease while it worked under it."""


async def exclusively(
    leases: Leases, name: str, stop: asyncio.Event, work: Callable[[asyncio.Event], Awaitable[None]]
) -> None:
    """Run ``work(halt)`` only while holding the lease ``name``: replicas that do not hold it
    wait as standbys, and one takes over when the holder stops or dies. ``halt`` is set when
    ``stop`` is. A holder that loses the lease mid-work raises :class:`LeaseLost` once its work
    has halted: what it opened for the work (a writer's lock) dies with it, and the
    supervisor starts it again as a standby."""
    async with leases.hold(name, stop) as lease:
        if lease is None:  # stopped while standing by
            return
        halt = asyncio.Event()
        relay = asyncio.create_task(first_set(stop, lease.lost))
        relay.add_done_callback(lambda _: halt.set())
        try:
            await work(halt)
        finally:
            relay.cancel()
        if lease.lost.is_set() and not stop.is_set():
            raise LeaseLost(f"lease {name!r} lost while working under it")


def leases_for(store_url: str, **options: float) -> Leases:
    """The lease kind that fits the event store's database."""
    if scheme(store_url) == "sqlite":
        return SqliteLeases(store_url, **options)
    return PostgresLeases(store_url, poll=options.get("poll", 0.5))
