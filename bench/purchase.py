"""The purchase saga under load: 1,000 purchases by 200 players, PSP latency 0.

Starts the whole store as real processes (the end-to-end tests' harness, ``tests/e2e/stack.py``)
on the embedded default, and with ``--profile production`` on PostgreSQL + RabbitMQ (fresh
databases and a RabbitMQ virtual host of its own). Each player buys distinct games; a purchase
is timed from ``POST /jogos/compra`` to the game showing in the player's ``/biblioteca``.

    .venv/bin/python bench/purchase.py [--profile embedded|production|both] [--purchases 1000]
        [--players 200] [--rate 50] [--overload 1.2]

Two rounds of ``--purchases`` on the same store, each offered open-loop at a constant rate:
- at ``--rate`` (the 50/s target): latency p50/p95/p99 against the 1 s p95 ceiling;
- at ``--rate`` x ``--overload`` (60/s): purchases/s sustained (first POST to last game in a
  library) against the 50/s target. Offered at exactly the target, that figure could not reach
  it (it includes one purchase's latency); offered above, it is the store's capacity.
Then the invariants over both rounds: completed orders = PSP ledger charges =
``PurchaseCompleted`` events = library rows, no order pending, no dead letter. The last line is
JSON.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")]
sys.path.insert(0, str(ROOT))  # the end-to-end harness lives in tests/

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from typing import Any

import aiohttp
import httpx
from tests.e2e.api import Account, new_account
from tests.e2e.conftest import create_admin
from tests.e2e.saga.support import game_body
from tests.e2e.stack import Stack, running_stack

TARGET_RATE = 50.0  # purchases/s on the embedded default, this machine
CEILING_P95 = 1.0  # seconds from POST /jogos/compra to the game in /biblioteca


def quantiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


async def post_purchase(
    session: aiohttp.ClientSession, player: Account, game_id: str
) -> tuple[str, str, float]:
    """``POST /jogos/compra`` with visa; (player id, game id, wall-clock time of the POST)."""
    started = time.time()
    async with session.post(
        "/jogos/compra",
        json={"game_id": game_id, "payment_method": "pm_card_visa"},
        headers=player.auth | {"Idempotency-Key": str(uuid.uuid4())},
    ) as response:
        if response.status != 202:
            text = await response.text()
            raise RuntimeError(f"purchase refused: {response.status} {text[:300]}")
    return player.id, game_id, started


async def completed_purchases(
    client: httpx.AsyncClient, admin: Account, after: int
) -> tuple[int, int]:
    """``PurchaseCompleted`` events after position ``after``: (how many, the next cursor)."""
    response = await client.get(
        "/admin/events",
        params={"after": after, "limit": 1000, "type": "PurchaseCompleted"},
        headers=admin.auth,
    )
    body = response.json()
    return len(body["items"]), body.get("next_after") or after


async def acquisitions(
    client: httpx.AsyncClient, players: list[Account], games: set[str]
) -> dict[tuple[str, str], float]:
    """The library rows of ``players`` for ``games``: (player, game) → ``acquired_at`` (epoch s)."""
    gate = asyncio.Semaphore(8)

    async def library(player: Account) -> list[tuple[tuple[str, str], float]]:
        async with gate:
            items = (await client.get("/biblioteca", headers=player.auth)).json()["items"]
        return [
            ((player.id, i["game_id"]), _epoch(i["acquired_at"]))
            for i in items
            if i["game_id"] in games
        ]

    rows = await asyncio.gather(*(library(p) for p in players))
    return dict(row for rows_of_one in rows for row in rows_of_one)


def _epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


async def run_load(
    client: httpx.AsyncClient,
    admin: Account,
    players: list[Account],
    games: list[str],
    purchases: int,
    rate: float,
) -> tuple[float, list[float]]:
    """Offer ``rate`` purchases per second (open loop: a purchase is sent on schedule
    whether or not earlier ones have finished), then wait until every purchase is completed.
    Sustained rate = purchases / (last acquisition - first POST); latency per purchase =
    ``acquired_at`` of its library row - the POST's start, so no client polling is measured.

    The load is sent with aiohttp (a fraction of httpx's CPU per request: the bench shares the
    two cores with the store), and completion is watched with one cheap request per half second
    (new ``PurchaseCompleted`` events after a cursor) rather than by reading every library."""
    plan = [(players[i % len(players)], games[i // len(players)]) for i in range(purchases)]
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(base_url=str(client.base_url), connector=connector) as session:
        after = await newest_position(client, admin)  # before the first purchase is sent
        begin = time.monotonic()

        async def scheduled(i: int, player: Account, game_id: str) -> tuple[str, str, float]:
            await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
            return await post_purchase(session, player, game_id)

        sending = asyncio.gather(*(scheduled(i, p, g) for i, (p, g) in enumerate(plan)))
        done = 0
        deadline = time.monotonic() + 300
        while done < purchases or not sending.done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done} of {purchases} purchases completed")
            await asyncio.sleep(0.5)
            more, after = await completed_purchases(client, admin, after)
            done += more
        posted = await sending
    acquired = await acquisitions(client, players, set(games))
    missing = [(p, g) for p, g, _ in posted if (p, g) not in acquired]
    if missing:
        raise RuntimeError(f"{len(missing)} completed purchases are not in a library")
    latencies = [acquired[(player, game)] - at for player, game, at in posted]
    first = min(at for _, _, at in posted)
    return max(acquired.values()) - first, latencies


async def newest_position(client: httpx.AsyncClient, admin: Account) -> int:
    """The event store's last position before the load starts."""
    after = 0
    while True:
        response = await client.get(
            "/admin/events", params={"after": after, "limit": 1000}, headers=admin.auth
        )
        items = response.json()["items"]
        if not items:
            return after
        after = items[-1]["position"]


async def invariants(
    stack: Stack, client: httpx.AsyncClient, admin: Account, players: list[Account]
) -> dict[str, int]:
    """Count the same purchases four ways, and what is stuck."""
    completed = pending = library = 0
    for player in players:
        orders = (await client.get("/pedidos?size=100", headers=player.auth)).json()["items"]
        completed += sum(o["status"] == "completed" for o in orders)
        pending += sum(o["status"] == "pending_payment" for o in orders)
        library += len((await client.get("/biblioteca", headers=player.auth)).json()["items"])
    async with httpx.AsyncClient(base_url=stack.psp_url, headers=stack.psp_auth, timeout=30) as psp:
        ledger = (await psp.get("/v1/charges", params={"limit": 1})).json()["total"]
    purchase_events, after = 0, 0
    while True:
        page = (
            await client.get(
                "/admin/events",
                params={"after": after, "limit": 1000, "type": "PurchaseCompleted"},
                headers=admin.auth,
            )
        ).json()["items"]
        if not page:
            break
        purchase_events += len(page)
        after = page[-1]["position"]
    dead = (await client.get("/admin/dlq", headers=admin.auth)).json()["items"]
    return {
        "completed_orders": completed,
        "psp_charges": ledger,
        "purchase_completed_events": purchase_events,
        "library_rows": library,
        "pending_orders": pending,
        "dead_letters": len(dead),
    }


async def bench_profile(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    admin = create_admin(stack)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60, limits=limits) as client:
        games_per_round = -(-args.purchases // args.players)
        games = []
        for _ in range(2 * games_per_round):
            created = await client.post("/jogos", json=game_body(), headers=admin.auth)
            games.append(created.json()["id"])
        gate = asyncio.Semaphore(8)

        async def player(i: int) -> Account:
            async with gate:
                return await new_account(client, name=f"Bench {i}")

        players = list(await asyncio.gather(*(player(i) for i in range(args.players))))
        at_target, overload = games[:games_per_round], games[games_per_round:]
        _, latencies = await run_load(client, admin, players, at_target, args.purchases, args.rate)
        capacity_rate = args.rate * args.overload
        wall, _ = await run_load(client, admin, players, overload, args.purchases, capacity_rate)
        await asyncio.sleep(1.0)  # notifications and projections settle
        counts = await invariants(stack, client, admin, players)
    q = quantiles(latencies)
    same = {
        counts[k]
        for k in ("completed_orders", "psp_charges", "purchase_completed_events", "library_rows")
    }
    return {
        "purchases": args.purchases,
        "players": args.players,
        "offered_rate": args.rate,
        "latency_ms": {k: round(v * 1000, 1) for k, v in q.items()},
        "capacity_offered_rate": capacity_rate,
        "seconds": round(wall, 2),
        "purchases_per_s": round(args.purchases / wall, 1),
        "invariants": counts,
        "invariants_hold": same == {2 * args.purchases}
        and counts["pending_orders"] == 0
        and counts["dead_letters"] == 0,
    }


def run(profile: str, args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    try:
        with contextlib.ExitStack() as cleanup:
            env = {"GAMESTORE_PSP_LATENCY_MS": "0", "GAMESTORE_LOG_LEVEL": "INFO"}
            if profile == "production":
                from tests.e2e.saga.test_postgres_rabbitmq import production_env

                env |= cleanup.enter_context(production_env(loop))
            root = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="gs-bench-")))
            stack = cleanup.enter_context(running_stack(root, env, saga=True))
            return loop.run_until_complete(bench_profile(stack, args))
    finally:
        loop.close()


def report(profile: str, result: dict[str, Any]) -> None:
    q = result["latency_ms"]
    who = f"{result['purchases']} purchases by {result['players']} players"
    print(f"\n== {profile}: two rounds of {who}")
    print(f"  offered at {result['offered_rate']:.0f}/s")
    print(f"  POST -> library  p50 {q['p50']:.1f} ms  p95 {q['p95']:.1f} ms  p99 {q['p99']:.1f} ms")
    print(f"                   (p95 ceiling {CEILING_P95 * 1000:.0f} ms)")
    print(f"  offered at {result['capacity_offered_rate']:.0f}/s")
    rate = result["purchases_per_s"]
    print(f"  sustained        {rate:>8.1f} purchases/s (target >= {TARGET_RATE:.0f}/s embedded)")
    for key, value in result["invariants"].items():
        print(f"  {key:<26} {value}")
    print(f"  invariants hold: {result['invariants_hold']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=["embedded", "production", "both"], default="both")
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument(
        "--rate", type=float, default=50.0, help="purchases offered per second, latency round"
    )
    parser.add_argument(
        "--overload", type=float, default=1.2, help="the capacity round offers rate x overload"
    )
    args = parser.parse_args()
    profiles = ["embedded", "production"] if args.profile == "both" else [args.profile]
    results = {}
    for profile in profiles:
        results[profile] = run(profile, args)
        report(profile, results[profile])
    summary: dict[str, Any] = {"bench": "purchase"}
    for profile, result in results.items():
        summary[profile] = {
            "capacity_offered_rate": result["capacity_offered_rate"],
            "purchases_per_s": result["purchases_per_s"],
            "ratio_vs_target": round(result["purchases_per_s"] / TARGET_RATE, 2),
            "offered_rate": result["offered_rate"],
            "latency_ms": result["latency_ms"],
            "p95_vs_ceiling": round(result["latency_ms"]["p95"] / (CEILING_P95 * 1000), 2),
            "invariants_hold": result["invariants_hold"],
            "invariants": result["invariants"],
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
