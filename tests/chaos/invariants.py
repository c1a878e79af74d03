"""What must hold after any fault, read from the outside: the public API, the PSP's ledger,
and the event store's table.

- every accepted purchase is terminal, none is stuck, and none failed (every card was valid);
- nothing was charged twice: one succeeded charge per completed order, none for anything else;
- completed orders == library rows == ``PurchaseCompleted`` events, one purchase notification each
  (per player: each player's library and notifications match that player's completed orders);
- the event store is gap-free (positions 1..N, N rows);
- no dead letter anywhere (payment queue and bus consumer groups);
- no client ever saw a 500.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from gamestore.platform.eventstore.postgres import dsn
from tests.chaos.load import Purchase
from tests.e2e.api import Account

TERMINAL = ("completed", "payment_failed")


@dataclass
class Census:
    """What the store says, counted."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    library: int = 0
    purchase_notifications: int = 0
    per_player: dict[str, tuple[int, int]] = field(default_factory=dict)  # library, notified
    completed_events: int = 0
    charges: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    event_rows: int = 0
    event_positions: tuple[int, int] = (0, 0)

    @property
    def statuses(self) -> Counter[str]:
        return Counter(order["status"] for order in self.orders.values())


async def _pages(client: httpx.AsyncClient, path: str, auth: dict[str, str]) -> list[Any]:
    items: list[Any] = []
    page = 1
    while True:
        response = await client.get(path, params={"page": page, "size": 100}, headers=auth)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
        body = response.json()
        items += body["items"]
        if len(body["items"]) < 100:
            return items
        page += 1


async def _player_view(client: httpx.AsyncClient, player: Account, census: Census) -> None:
    for order in await _pages(client, "/pedidos", player.auth):
        census.orders[order["id"]] = order
    library = await client.get("/biblioteca", headers=player.auth)
    assert library.status_code == 200, library.text
    owned = len(library.json()["items"])
    notes = await _pages(client, "/notificacoes", player.auth)
    notified = sum(1 for n in notes if n["type"] == "purchase_completed")
    census.library += owned
    census.purchase_notifications += notified
    census.per_player[player.id] = (owned, notified)


async def _completed_events(client: httpx.AsyncClient, admin: Account) -> int:
    count, after = 0, 0
    while True:
        params = {"after": after, "limit": 1000, "type": "PurchaseCompleted"}
        response = await client.get("/admin/events", params=params, headers=admin.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        count += len(body["items"])
        if body["next_after"] <= after:
            return count
        after = body["next_after"]


async def census(
    client: httpx.AsyncClient, psp_url: str, event_store_url: str, admin: Account,
    players: list[Account], psp_auth: dict[str, str],
) -> Census:  # fmt: skip
    found = Census()
    for start in range(0, len(players), 10):
        batch = players[start : start + 10]
        await asyncio.gather(*(_player_view(client, player, found) for player in batch))
    found.completed_events = await _completed_events(client, admin)
    async with httpx.AsyncClient(base_url=psp_url, headers=psp_auth, timeout=30) as psp:
        ledger = await psp.get("/v1/charges")
        assert ledger.status_code == 200, ledger.text
        found.charges = ledger.json()["data"]
    dlq = await client.get("/admin/dlq", headers=admin.auth)
    assert dlq.status_code == 200, dlq.text
    found.dead_letters = dlq.json()["items"]
    conn = await asyncpg.connect(dsn(event_store_url))
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, coalesce(min(position), 0) AS lo,"
            " coalesce(max(position), 0) AS hi FROM es_events"
        )
    finally:
        await conn.close()
    found.event_rows, found.event_positions = row["n"], (row["lo"], row["hi"])
    return found


def _settled(purchases: list[Purchase], found: Census) -> bool:
    accepted = [p for p in purchases if p.order_id]
    states = [found.orders.get(p.order_id or "", {}).get("status") for p in accepted]
    done = sum(1 for state in states if state in TERMINAL)
    completed = found.statuses["completed"]
    return (
        done == len(accepted)
        and found.completed_events == completed
        and found.library == completed
        and found.purchase_notifications == completed
    )


async def settle(
    client: httpx.AsyncClient, purchases: list[Purchase], psp_url: str,
    event_store_url: str, admin: Account, players: list[Account], psp_auth: dict[str, str], *,
    timeout: float,
) -> tuple[Census, float]:  # fmt: skip
    """Poll until every accepted purchase has run its course (or ``timeout``); the last census
    and how long it took."""
    began = time.monotonic()
    while True:
        found = await census(client, psp_url, event_store_url, admin, players, psp_auth)
        if _settled(purchases, found) or time.monotonic() - began > timeout:
            return found, time.monotonic() - began
        await asyncio.sleep(1.0)


def violations(purchases: list[Purchase], statuses: Counter[str], found: Census) -> list[str]:
    """Every broken invariant, in words (empty when all hold)."""
    broken: list[str] = []
    accepted = [p for p in purchases if p.order_id]
    refused = [p.refused for p in purchases if p.refused]
    if refused:
        broken.append(f"{len(refused)} purchases never accepted, e.g. {refused[:3]}")
    if statuses["500"]:
        broken.append(f"clients saw {statuses['500']} x 500")
    missing = [p.order_id for p in accepted if p.order_id not in found.orders]
    if missing:
        broken.append(f"{len(missing)} accepted orders missing from /pedidos, e.g. {missing[:3]}")
    statuses = found.statuses
    if statuses["pending_payment"]:
        broken.append(f"{statuses['pending_payment']} orders stuck in pending_payment")
    if statuses["payment_failed"]:
        broken.append(f"{statuses['payment_failed']} valid-card orders failed")
    completed = statuses["completed"]
    for name, value in (
        ("library rows", found.library),
        ("PurchaseCompleted events", found.completed_events),
        ("purchase notifications", found.purchase_notifications),
    ):
        if value != completed:
            broken.append(f"{name}: {value}, completed orders: {completed}")
    broken += _per_player_violations(found)
    broken += _ledger_violations(found)
    if found.dead_letters:
        sample = [(d.get("queue"), d.get("error")) for d in found.dead_letters[:3]]
        broken.append(f"{len(found.dead_letters)} dead letters, e.g. {sample}")
    if found.event_positions != (min(1, found.event_rows), found.event_rows):
        broken.append(f"event store has gaps: {found.event_rows} rows, {found.event_positions}")
    return broken


def _per_player_violations(found: Census) -> list[str]:
    completed = Counter(o["user_id"] for o in found.orders.values() if o["status"] == "completed")
    off = {
        player: (owned, notified, completed[player])
        for player, (owned, notified) in found.per_player.items()
        if owned != completed[player] or notified != completed[player]
    }
    if not off:
        return []
    sample = list(off.items())[:3]
    return [
        f"{len(off)} players' library/notifications differ from their completed orders: {sample}"
    ]


def _ledger_violations(found: Census) -> list[str]:
    succeeded = Counter(c["payment_id"] for c in found.charges if c["status"] == "succeeded")
    twice = {payment: n for payment, n in succeeded.items() if n > 1}
    paid = {o["payment_id"] for o in found.orders.values() if o["status"] == "completed"}
    broken = []
    if twice:
        broken.append(f"{len(twice)} payments charged more than once: {list(twice.items())[:3]}")
    unpaid = paid - set(succeeded)
    if unpaid:
        broken.append(f"{len(unpaid)} completed orders without a succeeded charge")
    stray = set(succeeded) - paid
    if stray:
        broken.append(f"{len(stray)} succeeded charges for orders that are not completed")
    return broken
