"""A token does not outlive its account's rights: deletion, demotion and a password change reach
the gateway and every service within two seconds (docs/adr/011), without a call per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial

import httpx

from tests.e2e.api import Account, assert_problem, assert_unauthorized, login, new_account
from tests.e2e.conftest import create_admin
from tests.e2e.saga.support import VISA, events, game_body, new_game
from tests.e2e.stack import Stack

WITHIN = 2.0  # seconds from the change to the refusal, everywhere


async def refused_within(call: Callable[[], Awaitable[httpx.Response]]) -> float:
    """Seconds until ``call`` answers 401 (fails after :data:`WITHIN`)."""
    began = time.monotonic()
    while True:
        response = await call()
        if response.status_code == 401:
            assert_unauthorized(response)
            return time.monotonic() - began
        assert time.monotonic() - began < WITHIN, (response.status_code, response.text)
        assert response.status_code < 500, response.text
        await asyncio.sleep(0.05)


async def test_a_demoted_admin_s_token_loses_the_admin_routes(
    client: httpx.AsyncClient, admin: Account, stack: Stack
) -> None:
    demoted = create_admin(stack)
    assert (await client.post("/jogos", json=game_body(), headers=demoted.auth)).status_code == 201
    change = await client.put(f"/users/{demoted.id}", json={"role": "player"}, headers=admin.auth)
    assert change.status_code == 200, change.text
    waits = [
        await refused_within(lambda: client.post("/jogos", json=game_body(), headers=demoted.auth)),
        await refused_within(lambda: client.get("/admin/events", headers=demoted.auth)),
        await refused_within(lambda: client.get("/admin/dlq", headers=demoted.auth)),
    ]
    assert max(waits) < WITHIN
    fresh = await login(client, demoted.email, demoted.password)  # a new token: a player's
    token = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert_problem(await client.post("/jogos", json=game_body(), headers=token), 403)
    assert (await client.get("/biblioteca", headers=token)).status_code == 200


async def test_a_deleted_account_s_token_can_neither_read_nor_buy(
    client: httpx.AsyncClient, admin: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    gone = await new_account(client, name="Soon Gone")
    assert (await client.get("/biblioteca", headers=gone.auth)).status_code == 200
    assert (await client.delete(f"/users/{gone.id}", headers=gone.auth)).status_code == 204
    buy = {"game_id": game["id"], "payment_method": VISA}
    async with httpx.AsyncClient(base_url=stack.games_url, timeout=10) as games:
        waits = [
            await refused_within(lambda: client.get("/biblioteca", headers=gone.auth)),
            # the service refuses it on its own, too (a request that bypassed the gateway)
            await refused_within(lambda: games.get("/biblioteca", headers=gone.auth)),
            # each process follows the revocations on its own: the notifier within the bound too
            await refused_within(lambda: client.get("/notificacoes", headers=gone.auth)),
        ]
        # the games service has it (refused above, directly): no purchase gets through
        assert_unauthorized(await client.post("/jogos/compra", json=buy, headers=gone.auth))
        assert_unauthorized(await games.post("/jogos/compra", json=buy, headers=gone.auth))
        for path in ("/pedidos", "/users/me"):
            assert_unauthorized(await client.get(path, headers=gone.auth))
    assert max(waits) < WITHIN
    ordered = await events(client, admin, type="OrderCreated")
    assert gone.id not in [e["data"]["user_id"] for e in ordered]  # no purchase got through


async def test_a_password_change_kills_the_tokens_issued_before_it(
    client: httpx.AsyncClient,
) -> None:
    player = await new_account(client, name="Careful Player")
    other_device = await login(client, player.email, player.password)  # another session
    old_tokens = [player.auth, {"Authorization": f"Bearer {other_device.json()['access_token']}"}]
    change = await client.put(
        f"/users/{player.id}",
        json={"password": "Br4nd-new!pw", "current_password": player.password},
        headers=player.auth,
    )
    assert change.status_code == 200, change.text
    for old in old_tokens:
        await refused_within(partial(client.get, "/biblioteca", headers=old))
    fresh = await login(client, player.email, "Br4nd-new!pw")
    token = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert (await client.get("/biblioteca", headers=token)).status_code == 200
    assert (await client.get("/users/me", headers=token)).status_code == 200
