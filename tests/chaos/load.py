"""A steady stream of purchases, each retried as a careful client would.

Open loop at ``rate`` purchases a second, each by a player of the pool for a game that player
does not own yet, with a valid card (``pm_card_visa``) and an ``Idempotency-Key``. A purchase
that meets an outage (503/502/504, 429, a 409 "still being processed", a refused or dropped
connection) is sent again with the same key after ``Retry-After`` until the store accepts it,
so every purchase the load offered is, in the end, accepted exactly once. Every status the
clients saw is counted: a 500 is a defect whatever happens next.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import httpx

from gamestore.platform.waiting import wait_event
from tests.e2e.api import Account

VISA = "pm_card_visa"
RETRYABLE = frozenset({409, 429, 502, 503, 504})
GIVE_UP_AFTER = 300.0  # seconds a client keeps retrying one purchase


@dataclass
class Purchase:
    player: Account
    game_id: str
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    order_id: str | None = None
    payment_id: str | None = None
    statuses: list[int] = field(default_factory=list)
    refused: str | None = None  # an answer no retry can change (a defect under this load)
    started: float = 0.0
    accepted: float = 0.0


@dataclass
class Load:
    """Offers purchases until ``stop``; read ``purchases`` and ``statuses`` afterwards."""

    client: httpx.AsyncClient
    pairs: Iterator[tuple[Account, str]]
    rate: float
    purchases: list[Purchase] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self, stop: asyncio.Event) -> None:
        """Offer one purchase every ``1 / rate`` seconds until ``stop`` is set."""
        began, sent = time.monotonic(), 0
        while not stop.is_set():
            player, game_id = next(self.pairs)
            purchase = Purchase(player, game_id)
            self.purchases.append(purchase)
            task = asyncio.create_task(self._buy(purchase))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            sent += 1
            delay = began + sent / self.rate - time.monotonic()
            if delay > 0:
                await wait_event(stop, delay)

    async def settled(self) -> None:
        """Wait for every purchase offered so far to be accepted (or given up on)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def _buy(self, purchase: Purchase) -> None:
        purchase.started = time.monotonic()
        body = {"game_id": purchase.game_id, "payment_method": VISA}
        headers = purchase.player.auth | {"Idempotency-Key": purchase.key}
        while time.monotonic() - purchase.started < GIVE_UP_AFTER:
            wait = await self._try(purchase, body, headers)
            if wait is None:
                return
            await asyncio.sleep(wait)
        purchase.refused = f"not accepted within {GIVE_UP_AFTER:.0f} s: {purchase.statuses}"

    async def _try(
        self, purchase: Purchase, body: dict[str, str], headers: dict[str, str]
    ) -> float | None:
        """One POST; None when the purchase is settled, else how long to wait before the next."""
        try:
            response = await self.client.post("/jogos/compra", json=body, headers=headers)
        except httpx.TransportError as error:
            self.statuses[type(error).__name__] += 1
            return 0.5
        self.statuses[str(response.status_code)] += 1
        purchase.statuses.append(response.status_code)
        if response.status_code == 202:
            accepted = response.json()
            purchase.order_id, purchase.payment_id = accepted["order_id"], accepted["payment_id"]
            purchase.accepted = time.monotonic()
            return None
        if response.status_code in RETRYABLE or response.status_code >= 500:
            return _retry_after(response)
        purchase.refused = f"{response.status_code} {response.text[:300]}"
        return None


def purchase_pairs(
    players: Sequence[Account], game_ids: Sequence[str]
) -> Iterator[tuple[Account, str]]:
    """Every (player, game) once, in a fixed shuffled order: no purchase repeats another's."""
    everything = list(itertools.product(players, game_ids))
    random.Random(7).shuffle(everything)
    return iter(everything)


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.1), 10.0)
    except ValueError:
        return 1.0
