"""Another player's order, payment and notifications stay out of reach."""

from __future__ import annotations

import httpx

from tests.e2e.api import Account, assert_problem, new_account
from tests.e2e.saga.support import DECLINED, VISA, bought, new_game, notifications, order_reaches


async def test_another_players_order_and_payment_are_not_found(
    client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], DECLINED)
    await order_reaches(client, player, accepted["order_id"], "payment_failed")
    intruder = await new_account(client, name="Mallory")
    for path in (f"/pedidos/{accepted['order_id']}", f"/pagamento/{accepted['payment_id']}"):
        response = await client.get(path, headers=intruder.auth)
        assert response.status_code in (403, 404), response.text
        assert_problem(response, response.status_code)
    status = await client.post(f"/pagamento/{accepted['payment_id']}", headers=intruder.auth)
    assert status.status_code in (403, 404), status.text
    retry = await client.post(
        "/pagamento",
        json={"order_id": accepted["order_id"], "payment_method": VISA},
        headers=intruder.auth,
    )
    assert_problem(retry, 404)
    listed = await client.get("/pedidos", headers=intruder.auth)
    assert accepted["order_id"] not in [o["id"] for o in listed.json()["items"]]
    payments = await client.get(
        "/pagamento", params={"order_id": accepted["order_id"]}, headers=intruder.auth
    )
    assert payments.status_code in (200, 404)
    if payments.status_code == 200:
        assert payments.json()["items"] == []
    assert not any(game["title"] in n["message"] for n in await notifications(client, intruder))
    # the admin sees everything
    assert (await client.get(f"/pagamento/{accepted['payment_id']}", headers=admin.auth)).is_success


async def test_payment_admin_routes_are_for_admins(
    client: httpx.AsyncClient, player: Account
) -> None:
    for method, path in (("GET", "/admin/dlq"), ("GET", "/admin/events")):
        assert_problem(await client.request(method, path, headers=player.auth), 403)
        assert_problem(await client.request(method, path), 401)
