"""CORS, security headers, health, readiness, the merged OpenAPI document and the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gamestore.platform.supervisor_status import ENV as STATUS_ENV
from gamestore.platform.supervisor_status import StatusFile
from tests.integration.gateway.conftest import (
    Keys,
    StartGateway,
    closed_port_url,
    problem,
    served,
)
from tests.integration.gateway.upstream import Echo

APP = "https://app.example"


async def test_cors_allow_list(start_gateway: StartGateway) -> None:
    preflight = {"Origin": APP, "Access-Control-Request-Method": "POST"}
    async with start_gateway(gateway_cors_origins=[APP]) as client:
        allowed = await client.options("/jogos/compra", headers=preflight)
        simple = await client.get("/jogos", headers={"Origin": APP})
        foreign = await client.get("/jogos", headers={"Origin": "https://evil.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert simple.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in foreign.headers


async def test_same_origin_only_by_default(start_gateway: StartGateway) -> None:
    preflight = {"Origin": APP, "Access-Control-Request-Method": "POST"}
    async with start_gateway() as client:
        response = await client.options("/jogos/compra", headers=preflight)
        simple = await client.get("/jogos", headers={"Origin": APP})
    problem(response, 405)
    assert "access-control-allow-origin" not in simple.headers


async def test_security_headers(start_gateway: StartGateway) -> None:
    async with start_gateway() as client:
        api = await client.get("/jogos")
        docs = await client.get("/docs")
    for response in (api, docs):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert "script-src" not in docs.headers["content-security-policy"]  # 'self' only


async def test_healthz_and_readyz(start_gateway: StartGateway) -> None:
    async with start_gateway(readiness=["users", "games"]) as client:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert alive.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["upstreams"] == {"users": "up", "games": "up"}


async def test_readyz_lists_the_upstreams_down(start_gateway: StartGateway) -> None:
    down = closed_port_url()
    async with start_gateway(services={"games": down}, readiness=["users", "games"]) as client:
        response = await client.get("/readyz")
    body = problem(response, 503)
    assert "games" in body["detail"]
    assert body["upstreams"] == {"users": "up", "games": "down"}


async def test_readyz_names_a_process_the_supervisor_is_restarting(
    start_gateway: StartGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = StatusFile(tmp_path / "supervisor.json", ["gateway", "indexer"])
    status.running("gateway", 100)
    status.running("indexer", 101)
    monkeypatch.setenv(STATUS_ENV, str(status.path))
    async with start_gateway(readiness=["users"]) as client:
        ready = await client.get("/readyz")
        status.restarting("indexer", "was killed by SIGKILL", crashes=3, delay=4.0)
        looping = await client.get("/readyz")
        status.running("indexer", 102)
        back = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["processes"]["indexer"]["state"] == "running"
    body = problem(looping, 503)
    assert body["detail"] == "Restarting after a crash: indexer."
    indexer = body["processes"]["indexer"]
    assert (indexer["state"], indexer["crashes_in_a_row"]) == ("restarting", 3)
    assert indexer["last_exit"] == "was killed by SIGKILL" and indexer["next_restart_at"]
    assert back.status_code == 200 and back.json()["processes"]["indexer"]["restarts"] == 1


def service_document(schema: str, paths: dict[str, list[str]]) -> dict[str, object]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    operation = {
        "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
        "security": [{"HTTPBearer": []}],
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "svc", "version": "1"},
        "paths": {p: {m: dict(operation) for m in methods} for p, methods in paths.items()},
        "components": {
            "schemas": {schema: {"type": "object"}, "Page": {"type": "object"}},
            "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
        },
    }


async def test_openapi_merges_exposed_operations_and_renames_components(
    start_gateway: StartGateway, upstream: tuple[Echo, str]
) -> None:
    users, _ = upstream
    users.openapi = service_document(
        "User",
        {"/users": ["get", "post"], "/users/{user_id}": ["get"], "/internal/reindex": ["post"]},
    )
    games = Echo(openapi=service_document("Game", {"/jogos": ["get"], "/jogos/{game_id}": ["get"]}))
    async with served(games) as games_url:
        services = {
            "games": games_url,
            "payments": closed_port_url(),
            "notifier": closed_port_url(),
        }
        async with start_gateway(services=services) as client:
            document = (await client.get("/openapi.json")).json()
            again = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    assert "/internal/reindex" not in paths
    assert {"/users", "/users/{user_id}", "/jogos", "/jogos/{game_id}", "/healthz"} <= set(paths)
    schemas = document["components"]["schemas"]
    assert {"users.User", "users.Page", "games.Game", "games.Page"} <= set(schemas)
    ref = paths["/jogos"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref == {"$ref": "#/components/schemas/games.Game"}
    assert "security" not in paths["/users"]["post"]  # public: sign up
    assert paths["/users"]["get"]["security"] == [{"bearer": []}]
    assert paths["/users"]["get"]["x-access"] == "admin"
    assert "security" not in paths["/jogos"]["get"]
    assert document["x-unavailable-services"] == ["notifier", "payments"]
    assert again == document
    assert users.openapi_fetches == 1  # cached


async def test_openapi_is_served_with_every_upstream_down(start_gateway: StartGateway) -> None:
    down = {name: closed_port_url() for name in ("users", "games", "payments", "notifier")}
    async with start_gateway(services=down) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    unavailable = ["games", "notifier", "payments", "users"]
    assert response.json()["x-unavailable-services"] == unavailable


@pytest.mark.parametrize("asset", ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"])
async def test_docs_are_served_locally(start_gateway: StartGateway, asset: str) -> None:
    async with start_gateway() as client:
        page = await client.get("/docs")
        response = await client.get(f"/docs/assets/{asset}")
        missing = await client.get("/docs/assets/..%2F..%2Fpyproject.toml")
    assert page.status_code == 200
    assert f"/docs/assets/{asset}" in page.text or asset == "swagger-ui-bundle.js"
    assert "http" not in page.text.replace('charset="utf-8"', "")  # nothing from a CDN
    assert response.status_code == 200
    assert len(response.content) > 100
    problem(missing, 404)


async def test_the_fleet_status_is_for_admins_only(start_gateway: StartGateway, keys: Keys) -> None:
    async with start_gateway() as client:
        anonymous = await client.get("/admin/status")
        player = await client.get("/admin/status", headers=_bearer(keys.token(role="player")))
        admin = await client.get("/admin/status", headers=_bearer(keys.token(role="admin")))
    problem(anonymous, 401)
    problem(player, 403)
    assert admin.status_code == 200
    names = {row["name"] for row in admin.json()["processes"]}
    assert {"gateway", "users", "games"} <= names
    assert set(admin.json()["flows"]) >= {"consumer_lag_events", "dead_letters", "queue_depth"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
