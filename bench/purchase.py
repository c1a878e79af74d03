"""The purchase saga under load, PSP latency 0: latency at a fixed rate, then capacity.

Starts the whole store as real processes (the end-to-end tests' harness, ``tests/e2e/stack.py``)
on the embedded default, and with ``--profile production`` on PostgreSQL + RabbitMQ (fresh
databases and a RabbitMQ virtual host of its own). Each player buys distinct games; a purchase
is timed from ``POST /jogos/compra`` to the game showing in the player's ``/biblioteca``.

    .venv/bin/python bench/purchase.py [--profile embedded|production|both] [--purchases 1000]
        [--players 200] [--rate R] [--ramp-from R] [--ramp-to 200] [--ramp-factor 1.15]
        [--ramp-purchases 600] [--warmup 200] [--scale all=2 | --scale games=2 ...] [--smoke]

Every round is offered open-loop at a constant rate (a purchase is sent on schedule whether or
not earlier ones finished, like wrk2), on the same store:
0. Warm-up: ``--warmup`` purchases (200, every player's first) at half the latency rate,
   unmeasured: a fresh store's first purchases run on cold caches, pools and pages.
1. Latency: ``--purchases`` at ``--rate`` (60/s embedded, 40/s production): p50/p95/p99
   against the profile's p95 ceiling (300 ms embedded, 1 s production).
2. Capacity: a ramp of ``--ramp-purchases`` per step from ``--ramp-from`` (30/s embedded,
   20/s production), x ``--ramp-factor`` per step, until two steps in a row are not sustained
   (completions, first to last, fall under 95 % of the offered rate, or p95 passes 1 s: a
   backlog growing; one such step can be a hiccup the store recovers from). The capacity is
   the best sustained step's completion rate, judged against the profile's bar (80/s
   embedded, 60/s production). Each step also reports CPU milliseconds per purchase for every
   process of the store, and PostgreSQL's and RabbitMQ's when they run on this host (from
   ``/proc``; their figures include whatever else uses those servers meanwhile).
Before each round the bench waits until the store is about idle (under 300 ms of CPU a second,
processes and engines together): a round never pays for the consumers still working off the
previous one (notifications, projections, popularity). Then the invariants over every round:
completed orders = PSP ledger charges = ``PurchaseCompleted`` events = library rows, no order
pending, no dead letter; the bench fails when they do not hold. The last line is JSON.
``--smoke``: embedded, 10 + 20 + 40 purchases, seconds.

``--scale NAME=N`` (repeatable; ``all=N`` for every process that scales) runs each profile
twice, with one replica of every process and then with N of the named ones, and is judged by
the scaled capacity over the single one (bar 1.0: competing replicas must not cost throughput;
on 2 cores no speed-up is expected). The invariants must hold in both. Both runs keep at most
4 + 2 PostgreSQL connections per database per process (``SCALE_POOLS``): twice the processes
must fit the server's ``max_connections``; the peak the server held is reported.
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
import os
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

CAPACITY_BAR = {"embedded": 80.0, "production": 60.0}  # purchases/s sustained, this machine
LATENCY_RATE = {"embedded": 60.0, "production": 40.0}  # purchases/s offered, latency round
RAMP_FROM = {"embedded": 30.0, "production": 20.0}  # purchases/s, the ramp's first step
LATENCY_CEILING = {"embedded": 0.3, "production": 1.0}  # its p95 ceiling, seconds
CEILING_P95 = 1.0  # seconds from POST /jogos/compra to the game in /biblioteca: ramp steps
SETTLED_MS = 300.0  # CPU ms per second, store and engines together: idle enough to measure
SUSTAINED_SHARE = 0.95  # a ramp step is sustained at >= 95 % of its offered rate


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
    Returns the span from the first completed purchase to the last (completions keep the
    offered pace while the store keeps up, and fall to its capacity when a backlog grows), and
    the latency of each purchase: ``acquired_at`` of its library row - the POST's start, so no
    client polling is measured.

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
            if time.monotonic() > deadline:  # a backlog this long is no capacity anyone wants
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
    ours = [acquired[(player, game)] for player, game, _ in posted]
    return max(ours) - min(ours), latencies


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


async def bench_profile(stack: Stack, profile: str, args: argparse.Namespace) -> dict[str, Any]:
    admin = create_admin(stack)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60, limits=limits) as client:
        gate = asyncio.Semaphore(8)

        async def player(i: int) -> Account:
            async with gate:
                return await new_account(client, name=f"Bench {i}")

        async def new_games(purchases: int) -> list[str]:
            """Enough new games for ``purchases`` by every player buying distinct ones."""
            games = []
            for _ in range(-(-purchases // args.players)):
                created = await client.post("/jogos", json=game_body(), headers=admin.auth)
                games.append(created.json()["id"])
            return games

        players = list(await asyncio.gather(*(player(i) for i in range(args.players))))
        connections = ConnectionPeak(stack.env.get("GAMESTORE_EVENTSTORE_URL"))
        await connections.start()
        cpu = CpuMeter(stack)
        latency_rate = args.rate or LATENCY_RATE[profile]
        if args.warmup:  # every player's first purchase, at half the rate: caches, pools, pages
            warm = await new_games(args.warmup)
            await cpu.settled()
            await run_load(client, admin, players, warm, args.warmup, latency_rate / 2)
        games = await new_games(args.purchases)
        await cpu.settled()
        _, latencies = await run_load(client, admin, players, games, args.purchases, latency_rate)
        bought = args.warmup + args.purchases
        ramp: list[dict[str, Any]] = []
        rate, misses = args.ramp_from or RAMP_FROM[profile], 0
        while rate <= args.ramp_to:
            games = await new_games(args.ramp_purchases)
            await cpu.settled()  # what the last round left (projections, notifications) is done
            cpu.start()
            wall, round_latencies = await run_load(
                client, admin, players, games, args.ramp_purchases, rate
            )
            bought += args.ramp_purchases
            step = round_figures(rate, args.ramp_purchases, wall, round_latencies)
            step["cpu_ms_per_purchase"] = cpu.per(args.ramp_purchases)
            ramp.append(step)
            report_step(step)
            misses = 0 if step["sustained"] else misses + 1
            if misses == 2:  # one miss can be a hiccup; two in a row is the capacity passed
                break
            rate = round(rate * args.ramp_factor, 1)
        await asyncio.sleep(1.0)  # notifications and projections settle
        counts = await invariants(stack, client, admin, players)
        peak = await connections.stop()
    q = quantiles(latencies)
    same = {
        counts[k]
        for k in ("completed_orders", "psp_charges", "purchase_completed_events", "library_rows")
    }
    sustained = [step for step in ramp if step["sustained"]]
    best = max(sustained, key=lambda step: step["purchases_per_s"]) if sustained else None
    return {
        "purchases": args.purchases,
        "players": args.players,
        "offered_rate": latency_rate,
        "latency_ms": {k: round(v * 1000, 1) for k, v in q.items()},
        "latency_ceiling_ms": LATENCY_CEILING[profile] * 1000,
        "ramp": ramp,
        "capacity_per_s": best["purchases_per_s"] if best else 0.0,
        "capacity_offered_rate": best["offered_rate"] if best else 0.0,
        "cpu_ms_per_purchase": (best or ramp[-1])["cpu_ms_per_purchase"] if ramp else {},
        "postgres_connections_peak": peak,
        "invariants": counts,
        "invariants_hold": same == {bought}
        and counts["pending_orders"] == 0
        and counts["dead_letters"] == 0,
    }


def round_figures(
    rate: float, purchases: int, span: float, latencies: list[float]
) -> dict[str, Any]:
    """One ramp step: sustained when purchases completed at >= 95 % of the offered rate (first
    completion to last) and p95 stayed under the ceiling: a backlog that grows shows as both."""
    achieved = (purchases - 1) / span
    p95 = quantiles(latencies)["p95"]
    return {
        "offered_rate": rate,
        "purchases_per_s": round(achieved, 1),
        "p95_ms": round(p95 * 1000, 1),
        "sustained": achieved >= SUSTAINED_SHARE * rate and p95 <= CEILING_P95,
    }


def report_step(step: dict[str, Any]) -> None:
    verdict = "sustained" if step["sustained"] else "NOT sustained"
    print(
        f"  ramp: offered {step['offered_rate']:>5.1f}/s -> {step['purchases_per_s']:>5.1f}/s,"
        f" p95 {step['p95_ms']:>8.1f} ms: {verdict}",
        flush=True,
    )


class ConnectionPeak:
    """The most connections the PostgreSQL server held at once (sampled every 0.5 s) while the
    store ran: with replicas they must fit its ``max_connections``. None on SQLite."""

    def __init__(self, url: str | None) -> None:
        self._url = url if url and url.startswith("postgres") else None
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._url is not None:
            self._task = asyncio.create_task(self._sample(self._url))

    async def _sample(self, url: str) -> None:
        import asyncpg

        from gamestore.platform.eventstore.postgres import dsn

        conn = await asyncpg.connect(dsn(url))
        try:
            while True:
                held = await conn.fetchval("SELECT count(*) FROM pg_stat_activity")
                self.peak = max(self.peak, int(held))
                await asyncio.sleep(0.5)
        finally:
            await conn.close()

    async def stop(self) -> int | None:
        if self._task is None:
            return None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.peak


class CpuMeter:
    """CPU time (user + system, from ``/proc``) of the store's processes, and of the
    PostgreSQL and RabbitMQ servers when they run on this host, between ``start`` and ``per``."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._before: dict[tuple[str, int], float] = {}

    def start(self) -> None:
        self._before = self._sample()

    async def settled(self, timeout: float = 180.0) -> None:
        """Until the store is about idle: under ``SETTLED_MS`` of CPU in a second (its pollers
        alone use about a third of that), so no round pays for the backlog of the one before."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.start()
            await asyncio.sleep(1.0)
            if self.per(1)["total"] <= SETTLED_MS:
                return
        raise RuntimeError(f"the store did not settle within {timeout:.0f} s")

    def per(self, purchases: int) -> dict[str, float]:
        after = self._sample()
        spent: dict[str, float] = {}
        for (name, pid), now in after.items():
            used = now - self._before.get((name, pid), 0.0)
            spent[name] = spent.get(name, 0.0) + used * 1000 / purchases
        spent["total"] = sum(spent.values())
        return {k: round(v, 1) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}

    def _sample(self) -> dict[tuple[str, int], float]:
        """CPU seconds by (name, pid): a server backend that exits in between is left out of
        both ends rather than counted negative."""
        seconds = {(name, p.pid): _cpu_seconds(p.pid) for name, p in self._stack.processes.items()}
        for pid, command in _server_processes():
            seconds[(command, pid)] = _cpu_seconds(pid)
        return seconds


SERVERS = {"postgres": "postgresql", "beam.smp": "rabbitmq"}


def _server_processes() -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (entry / "comm").read_text().strip()
                if command in SERVERS:
                    found.append((int(entry.name), SERVERS[command]))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SCALABLE = (
    "bus-publisher", "users", "games", "indexer", "payments", "payment-worker",
    "webhook-function", "notifier", "gateway",
)  # fmt: skip


def parse_scale(values: list[str]) -> dict[str, int]:
    """``["all=2"]`` or ``["games=2", "payment-worker=3"]`` → replicas per process."""
    scale: dict[str, int] = {}
    for value in values:
        name, _, count = value.partition("=")
        names = SCALABLE if name == "all" else (name,)
        if not set(names) <= set(SCALABLE) or not count.isdigit() or int(count) < 1:
            raise SystemExit(f"--scale {value}: NAME=N with N >= 1, NAME one of all, {SCALABLE}")
        scale |= dict.fromkeys(names, int(count))
    return scale


# With replicas the pools must fit PostgreSQL's max_connections (100 by default): both runs of
# a --scale comparison use these, so the single run is held to the same budget.
SCALE_POOLS = {"GAMESTORE_DB_POOL_SIZE": "4", "GAMESTORE_DB_MAX_OVERFLOW": "2"}


def run(
    profile: str,
    args: argparse.Namespace,
    scale: dict[str, int] | None = None,
    pools: dict[str, str] | None = None,
) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    try:
        with contextlib.ExitStack() as cleanup:
            env = {"GAMESTORE_PSP_LATENCY_MS": "0", "GAMESTORE_LOG_LEVEL": "INFO", **(pools or {})}
            if profile == "production":
                from tests.e2e.saga.test_postgres_rabbitmq import production_env

                env |= cleanup.enter_context(production_env(loop))
            root = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="gs-bench-")))
            stack = cleanup.enter_context(running_stack(root, env, saga=True, scale=scale))
            return loop.run_until_complete(bench_profile(stack, profile, args))
    finally:
        loop.close()


def report(profile: str, result: dict[str, Any]) -> None:
    q = result["latency_ms"]
    print(f"\n== {profile}: {result['purchases']} purchases by {result['players']} players")
    print(f"  offered at {result['offered_rate']:.0f}/s")
    print(f"  POST -> library  p50 {q['p50']:.1f} ms  p95 {q['p95']:.1f} ms  p99 {q['p99']:.1f} ms")
    print(f"                   (p95 ceiling {result['latency_ceiling_ms']:.0f} ms)")
    rate = result["capacity_per_s"]
    offered = result["capacity_offered_rate"]
    print(f"  capacity         {rate:>8.1f} purchases/s (offered {offered:.1f}/s: best sustained)")
    cpu = ", ".join(f"{k} {v:g}" for k, v in result["cpu_ms_per_purchase"].items())
    print(f"  CPU ms/purchase  {cpu}")
    if result["postgres_connections_peak"] is not None:
        print(f"  PostgreSQL connections, peak: {result['postgres_connections_peak']}")
    for key, value in result["invariants"].items():
        print(f"  {key:<26} {value}")
    print(f"  invariants hold: {result['invariants_hold']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=["embedded", "production", "both"], default="both")
    parser.add_argument("--purchases", type=int, default=1000, help="the latency round's")
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument(
        "--rate", type=float, help="purchases/s offered in the latency round (60 embedded, 40 prod)"
    )
    parser.add_argument(
        "--ramp-from", type=float, help="the ramp's first rate (30/s embedded, 20/s production)"
    )
    parser.add_argument("--ramp-to", type=float, default=200.0, help="the ramp's last rate")
    parser.add_argument("--ramp-factor", type=float, default=1.15, help="rate x this per step")
    parser.add_argument("--ramp-purchases", type=int, default=600, help="purchases per step")
    parser.add_argument(
        "--warmup", type=int, default=200, help="purchases before the latency round, unmeasured"
    )
    parser.add_argument("--smoke", action="store_true", help="seconds: embedded, tiny, one step")
    parser.add_argument(
        "--scale", action="append", default=[], metavar="NAME=N",
        help="also run with N replicas of NAME (all=N: every process that scales)",
    )  # fmt: skip
    args = parser.parse_args()
    scale = parse_scale(args.scale)
    if args.smoke:
        args.profile, args.purchases, args.players, args.rate = "embedded", 20, 10, 10.0
        args.warmup = 10
        args.ramp_from = args.ramp_to = 8.0
        args.ramp_purchases = 40  # a span of 5 s: a few ms of jitter is not a backlog
    profiles = ["embedded", "production"] if args.profile == "both" else [args.profile]
    results, scaled = {}, {}
    pools = SCALE_POOLS if scale else None
    for profile in profiles:
        results[profile] = run(profile, args, pools=pools)
        report(profile, results[profile])
        if scale:
            scaled[profile] = run(profile, args, scale, pools)
            report(f"{profile}, scaled {scale}", scaled[profile])
    summary: dict[str, Any] = {"bench": "purchase"}
    for profile, result in results.items():
        summary[profile] = {
            "capacity_per_s": result["capacity_per_s"],
            "capacity_vs_bar": round(result["capacity_per_s"] / CAPACITY_BAR[profile], 2),
            "offered_rate": result["offered_rate"],
            "latency_ms": result["latency_ms"],
            "p95_vs_ceiling": round(result["latency_ms"]["p95"] / result["latency_ceiling_ms"], 2),
            "cpu_ms_per_purchase": result["cpu_ms_per_purchase"],
            "ramp": result["ramp"],
            "postgres_connections_peak": result["postgres_connections_peak"],
            "invariants_hold": result["invariants_hold"],
            "invariants": result["invariants"],
        }
    first = summary[profiles[0]]
    summary |= {"ratio": first["capacity_vs_bar"], "bar": CAPACITY_BAR[profiles[0]]}
    for profile, result in scaled.items():
        single = results[profile]["capacity_per_s"]
        summary[profile]["scaled"] = {
            "scale": scale,
            "capacity_per_s": result["capacity_per_s"],
            "capacity_vs_single": round(result["capacity_per_s"] / single, 2) if single else 0.0,
            "latency_ms": result["latency_ms"],
            "cpu_ms_per_purchase": result["cpu_ms_per_purchase"],
            "postgres_connections_peak": result["postgres_connections_peak"],
            "invariants_hold": result["invariants_hold"],
            "invariants": result["invariants"],
        }
        summary[profile]["pools"] = SCALE_POOLS
    if scaled:  # judged by what the replicas cost: scaled capacity over the single one
        versus = summary[profiles[0]]["scaled"]["capacity_vs_single"]
        summary |= {"ratio": versus, "bar": 1.0}
    print(json.dumps(summary))
    every = [*results.values(), *scaled.values()]
    if not all(result["invariants_hold"] for result in every):
        raise SystemExit("the invariants did not hold")


if __name__ == "__main__":
    main()
