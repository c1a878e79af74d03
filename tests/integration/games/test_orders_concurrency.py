"""Races on POST /jogos/compra: one open order per (player, game), one run per Idempotency-Key."""

from __future__ import annotations

import asyncio
import uuid

from gamestore.games.bootstrap import GamesService
from tests.integration.games.support import GamesApi, problem
from tests.integration.games.test_orders import buy, buyer, order_rows, order_stream

CONCURRENT = 20


async def created_events(service: GamesService) -> int:
    await asyncio.sleep(0.2)  # let the relay move what was committed
    await service.relay.relay_once()
    events = await service.store.read_all(after=0, limit=10_000)
    return sum(1 for e in events if e.type == "OrderCreated")


async def test_concurrent_purchases_of_one_game_give_one_order(api: GamesApi) -> None:
    game = await api.create()
    headers = buyer(api)
    responses = await asyncio.gather(*(buy(api, game["id"], headers) for _ in range(CONCURRENT)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] + [409] * (CONCURRENT - 1), [r.text for r in responses]
    order_id = next(r for r in responses if r.status_code == 202).json()["order_id"]
    for refused in (r for r in responses if r.status_code == 409):
        assert problem(refused, 409)["order_id"] == order_id
    assert await order_rows(api.service) == 1
    assert len(await order_stream(api.service, order_id, 1)) == 1
    assert await created_events(api.service) == 1


async def test_concurrent_requests_with_one_key_give_one_order(api: GamesApi) -> None:
    game = await api.create()
    headers = buyer(api)
    key = f"key-{uuid.uuid4()}"
    responses = await asyncio.gather(
        *(buy(api, game["id"], headers, key=key) for _ in range(CONCURRENT))
    )
    assert {r.status_code for r in responses} <= {202, 409}, [r.text for r in responses]
    accepted = {r.json()["order_id"] for r in responses if r.status_code == 202}
    assert len(accepted) == 1
    replay = await buy(api, game["id"], headers, key=key)
    assert replay.status_code == 202 and replay.json()["order_id"] in accepted
    assert await order_rows(api.service) == 1
    assert await created_events(api.service) == 1


async def test_concurrent_purchases_by_many_players_all_succeed(api: GamesApi) -> None:
    game = await api.create()
    responses = await asyncio.gather(*(buy(api, game["id"], buyer(api)) for _ in range(10)))
    assert [r.status_code for r in responses] == [202] * 10
    assert await order_rows(api.service) == 10
