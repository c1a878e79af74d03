"""Access-token revocation that reaches every process within a second (docs/adr/011).

An access token is a signed statement that lives up to 15 minutes; checking the account on
every request would make each one a call to the users service. Instead, every process that
verifies tokens keeps, in memory, the moment from which each recently changed account's older
tokens are dead — "tokens of user U issued before T" — and refuses those (401), which costs a
dictionary lookup per request.

The list is fed by the users service's own events, read from the event store (the source of
truth, on either profile): ``UserDeleted`` revokes every token of the account; ``UserUpdated``
does when its role or password changed (a demoted admin, a stolen password). The follower
reads them on start (so a restarted process knows every revocation still in force) and then
polls for new ones (``poll`` seconds, 0.25 by default). An entry is forgotten once every token
it could refuse has expired (``horizon``: the longest access-token lifetime).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.faults import OutageLog, Stopped, run_through_outages, until_available
from gamestore.platform.logs import get_logger
from gamestore.platform.waiting import wait_event

log = get_logger("revocations")
REVOKING_TYPES = ("UserUpdated", "UserDeleted")
REVOKING_CHANGES = frozenset({"role", "password"})
HORIZON = 900.0 + 60.0  # the longest access-token lifetime, and a minute of clock skew
PAGE = 1000


class Revocations:
    """User id → the moment (epoch seconds) before which its tokens are dead."""

    def __init__(self, *, horizon: float = HORIZON, clock: Callable[[], float] = time.time) -> None:
        self._horizon = horizon
        self._clock = clock
        self._before: dict[str, float] = {}
        self.position = 0  # the last event store position read

    def revoke(self, user_id: str, before: float) -> None:
        """Tokens of ``user_id`` issued before ``before`` are dead (the latest moment wins)."""
        if before > self._before.get(user_id, float("-inf")):
            self._before[user_id] = before

    def revoked(self, user_id: str, issued_at: float) -> bool:
        """Whether a token of ``user_id`` issued at ``issued_at`` has been revoked."""
        before = self._before.get(user_id)
        return before is not None and issued_at < before

    def apply(self, events: Sequence[RecordedEvent]) -> int:
        """Take the revocations ``events`` carry; how many there were."""
        found = 0
        for event in events:
            self.position = max(self.position, event.position)
            moment = revocation_of(event)
            if moment is not None:
                self.revoke(str(event.data["user_id"]), moment)
                found += 1
        return found

    def forget_expired(self) -> None:
        """Drop entries older than every token they could refuse."""
        oldest = self._clock() - self._horizon
        for user_id in [u for u, before in self._before.items() if before < oldest]:
            del self._before[user_id]

    def __len__(self) -> int:
        return len(self._before)


def revocation_of(event: RecordedEvent) -> float | None:
    """The moment from which ``event`` kills its user's older tokens, or None if it does not."""
    data = event.data
    if "user_id" not in data:
        return None
    if event.type == "UserDeleted":
        return _moment(data.get("deleted_at"), event.occurred_at)
    if event.type == "UserUpdated" and REVOKING_CHANGES & set(data.get("changed") or ()):
        return _moment(data.get("updated_at"), event.occurred_at)
    return None


def _moment(text: object, fallback: datetime) -> float:
    """The event's own time of the change (the users service's clock, the clock that stamps
    ``iat``), else the time it was recorded."""
    if isinstance(text, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return fallback.timestamp()


class RevocationFollower:
    """Keeps a :class:`Revocations` up to date from the event store."""

    def __init__(self, store: EventStore, revocations: Revocations, *, poll: float = 0.25) -> None:
        self._store = store
        self.revocations = revocations
        self._poll = poll

    async def catch_up(self) -> int:
        """Read every revoking event after the last position read; how many revocations."""
        found = 0
        while True:
            head = await self._store.head()
            page = await self._store.read_all(self.revocations.position, PAGE, types=REVOKING_TYPES)
            found += self.revocations.apply(page)
            if len(page) < PAGE:
                self.revocations.position = max(self.revocations.position, head)
                return found

    async def run(self, stop: asyncio.Event) -> None:
        """Poll for new revocations until ``stop``; an event-store outage is waited out (the
        list keeps what it knows meanwhile)."""
        outage = OutageLog("revocation follower's event store")

        async def follow() -> None:
            while not stop.is_set():
                if await self.catch_up():
                    log.info("access tokens revoked", accounts=len(self.revocations))
                outage.recovered()
                self.revocations.forget_expired()
                await wait_event(stop, self._poll)

        await run_through_outages(follow, stop=stop, outage=outage)


@contextlib.asynccontextmanager
async def followed_revocations(
    store: EventStore, *, poll: float = 0.25
) -> AsyncIterator[Revocations]:
    """Revocations read up to now, then followed in the background for the block."""
    follower = RevocationFollower(store, Revocations(), poll=poll)
    await follower.catch_up()
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop), name="revocations")
    try:
        yield follower.revocations
    finally:
        stop.set()
        await task


class RevocationFeed:
    """Revocations followed from an event store this object opens itself (the gateway, which
    has no other use for the store). It starts without waiting: an event store that is down
    while the gateway starts delays the feed, never the gateway — the services behind it
    follow their own and refuse a revoked token all the same."""

    def __init__(self, event_store_url: str, *, poll: float = 0.25) -> None:
        self.revocations = Revocations()
        self._url = event_store_url
        self._poll = poll
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="revocations")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        from gamestore.platform.eventstore import connect

        try:
            store = await until_available(
                lambda: connect(self._url), stop=self._stop, what="revocation feed's event store"
            )
        except Stopped:
            return
        try:
            await RevocationFollower(store, self.revocations, poll=self._poll).run(self._stop)
        finally:
            await store.close()
