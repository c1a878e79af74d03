"""Every integer a client sends is bounded to what the engines take: 422 problem+json, never an
overflow deep in a driver (500), whoever asks."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.api import Account, assert_problem

HUGE = str(2**63)  # one past the largest BIGINT
ANYONE = [
    "/jogos/busca?max_price=" + HUGE,
    "/jogos/busca?min_price=" + HUGE,
    "/jogos/busca?min_price=-1",
    "/jogos/busca?max_price=100000001",  # above the highest price a game may have
    "/jogos/busca?page=" + HUGE,
    "/jogos/busca?size=" + HUGE,
    "/jogos?page=" + HUGE,
    "/jogos?size=101",
    "/jogos/populares?limit=" + HUGE,
]
SIGNED_IN = [
    "/pedidos?page=" + HUGE,
    "/notificacoes?size=" + HUGE,
    "/pagamento?page=" + HUGE,
    "/jogos/recomendados?limit=" + HUGE,
]
ADMIN = [
    "/admin/events?after=" + HUGE,
    "/admin/events?after=-1",
    "/admin/events?limit=" + HUGE,
    "/users?page=" + HUGE,
    "/users?size=" + "9" * 400,
]


@pytest.mark.parametrize("path", ANYONE)
async def test_out_of_range_integers_from_anyone_are_422(
    client: httpx.AsyncClient, path: str
) -> None:
    problem = assert_problem(await client.get(path), 422)
    assert problem["errors"], problem


@pytest.mark.parametrize("path", SIGNED_IN)
async def test_out_of_range_integers_from_a_player_are_422(
    client: httpx.AsyncClient, player: Account, path: str
) -> None:
    assert_problem(await client.get(path, headers=player.auth), 422)


@pytest.mark.parametrize("path", ADMIN)
async def test_out_of_range_integers_from_an_admin_are_422(
    client: httpx.AsyncClient, admin: Account, path: str
) -> None:
    assert_problem(await client.get(path, headers=admin.auth), 422)


async def test_the_largest_position_is_a_valid_one(
    client: httpx.AsyncClient, admin: Account
) -> None:
    response = await client.get(f"/admin/events?after={2**63 - 1}", headers=admin.auth)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
