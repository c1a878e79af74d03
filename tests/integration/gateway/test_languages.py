"""The gateway's own problems speak the caller's language, and ``Accept-Language`` reaches the
services so that theirs do too (``tests/e2e/test_languages.py`` sees both ends)."""

from __future__ import annotations

import pytest

from tests.integration.gateway.conftest import Keys, StartGateway, closed_port_url, problem
from tests.integration.gateway.upstream import Echo

EN = {"Accept-Language": "en"}


async def test_accept_language_is_passed_to_the_service(
    start_gateway: StartGateway, keys: Keys
) -> None:
    auth = {"Authorization": f"Bearer {keys.token()}"}
    async with start_gateway() as client:
        asked = await client.get("/users/me", headers={**auth, "Accept-Language": "en-GB"})
        unasked = await client.get("/users/me", headers=auth)
    assert asked.json()["headers"]["accept-language"] == ["en-GB"]
    assert "accept-language" not in unasked.json()["headers"]  # the service picks pt-BR


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Não há nada neste caminho."),
        ({"Accept-Language": "fr"}, "Não há nada neste caminho."),
        (EN, "There is nothing at this path."),
    ],
)
async def test_the_gateways_404_in_the_callers_language(
    start_gateway: StartGateway, headers: dict[str, str], detail: str
) -> None:
    async with start_gateway() as client:
        response = await client.get("/api/nothing-here", headers=headers)
    body = problem(response, 404)
    assert (body["code"], body["detail"]) == ("not_found", detail)


async def test_the_gateways_access_and_upstream_problems_have_codes(
    start_gateway: StartGateway, upstream: tuple[Echo, str]
) -> None:
    async with start_gateway(services={"games": closed_port_url()}) as client:
        pt = problem(await client.get("/users/me"), 401)
        en = problem(await client.get("/users/me", headers=EN), 401)
        down = problem(await client.get("/jogos"), 503)
        down_en = problem(await client.get("/jogos", headers=EN), 503)
    assert pt["code"] == en["code"] == "token_required"
    assert (pt["detail"], en["detail"]) == (
        "É preciso um token de acesso válido.",
        "A valid access token is required.",
    )
    assert down["code"] == down_en["code"] == "upstream_unavailable"
    assert down["detail"] == "O serviço games não está acessível agora; tente de novo em instantes."
    assert down_en["detail"] == "The games service is not reachable right now; retry shortly."
    assert upstream[0].seen == []  # none of these reached a service
