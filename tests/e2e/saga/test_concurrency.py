"""Concurrent and repeated purchases: one order, one charge, one library entry."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.e2e.api import Account, assert_problem
from tests.e2e.saga.support import (
    VISA,
    buy,
    charges,
    events,
    library_ids,
    new_game,
    order_reaches,
)
from tests.e2e.stack import Stack


async def test_twenty_simultaneous_purchases_make_one_order_one_charge_one_entry(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    answers = await asyncio.gather(*(buy(client, player, game["id"]) for _ in range(20)))
    accepted = [a for a in answers if a.status_code == 202]
    assert len(accepted) == 1, [a.text for a in accepted]
    assert all(a.status_code == 409 for a in answers if a.status_code != 202), [
        a.status_code for a in answers
    ]
    order = accepted[0].json()
    await order_reaches(client, player, order["order_id"], "completed")
    assert (await library_ids(client, player)).count(game["id"]) == 1
    assert len(await charges(stack, order["payment_id"])) == 1
    orders = await client.get("/pedidos?size=100", headers=player.auth)
    mine = [o for o in orders.json()["items"] if o["game_id"] == game["id"]]
    assert len(mine) == 1
    completed = await events(client, admin, type="PurchaseCompleted")
    assert len([e for e in completed if e["data"]["order_id"] == order["order_id"]]) == 1
    again = await buy(client, player, game["id"])
    assert_problem(again, 409)  # already owned


async def test_an_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    game = await new_game(client, admin)
    key = str(uuid.uuid4())
    first = await buy(client, player, game["id"], VISA, key=key)
    assert first.status_code == 202, first.text
    replays = await asyncio.gather(
        *(buy(client, player, game["id"], VISA, key=key) for _ in range(5))
    )
    for replay in replays:
        assert replay.status_code in (202, 409), replay.text
        if replay.status_code == 202:
            assert replay.json() == first.json()
    later = await buy(client, player, game["id"], VISA, key=key)
    assert (later.status_code, later.json()) == (202, first.json())
    other_game = await new_game(client, admin)
    assert_problem(await buy(client, player, other_game["id"], VISA, key=key), 422)
