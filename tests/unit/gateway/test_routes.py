"""The routing and access table against the contract, with no I/O."""

from __future__ import annotations

import pytest

from gamestore.gateway.routes import (
    GATEWAY,
    TABLE,
    Access,
    MethodNotAllowed,
    NotFound,
    Route,
    RouteTable,
    route,
)

P, U, A = Access.PUBLIC, Access.USER, Access.ADMIN
CONTRACT = [
    ("POST", "/users", "users", P),
    ("GET", "/users", "users", A),
    ("GET", "/users/me", "users", U),
    ("GET", "/users/7f3c", "users", U),
    ("PUT", "/users/7f3c", "users", U),
    ("DELETE", "/users/7f3c", "users", U),
    ("POST", "/login/auth", "users", P),
    ("POST", "/login/refresh", "users", P),
    ("POST", "/login/logout", "users", P),
    ("GET", "/.well-known/jwks.json", "users", P),
    ("POST", "/jogos", "games", A),
    ("GET", "/jogos", "games", P),
    ("GET", "/jogos/7f3c", "games", P),
    ("HEAD", "/jogos/7f3c", "games", P),
    ("PUT", "/jogos/7f3c", "games", A),
    ("DELETE", "/jogos/7f3c", "games", A),
    ("PUT", "/jogos/7f3c/capa", "games", A),
    ("DELETE", "/jogos/7f3c/capa", "games", A),
    ("GET", "/jogos/7f3c/capa/0123456789abcdef0123-320.webp", "games", P),
    ("GET", "/jogos/busca", "games", P),
    ("GET", "/jogos/populares", "games", P),
    ("GET", "/jogos/recomendados", "games", U),
    ("GET", "/biblioteca", "games", U),
    ("POST", "/jogos/compra", "games", U),
    ("GET", "/pedidos", "games", U),
    ("GET", "/pedidos/7f3c", "games", U),
    ("POST", "/pagamento", "payments", U),
    ("GET", "/pagamento", "payments", U),
    ("GET", "/pagamento/7f3c", "payments", U),
    ("POST", "/pagamento/7f3c", "payments", U),
    ("POST", "/webhooks/psp", "payments", P),
    ("GET", "/admin/dlq", "payments", A),
    ("POST", "/admin/dlq/7f3c/replay", "payments", A),
    ("DELETE", "/admin/dlq/7f3c", "payments", A),
    ("GET", "/admin/events", "payments", A),
    ("GET", "/notificacoes", "notifier", U),
    ("GET", "/healthz", GATEWAY, P),
    ("GET", "/readyz", GATEWAY, P),
    ("GET", "/openapi.json", GATEWAY, P),
    ("GET", "/docs", GATEWAY, P),
]


@pytest.mark.parametrize(("method", "path", "service", "access"), CONTRACT)
def test_every_contract_row_is_routed(method: str, path: str, service: str, access: Access) -> None:
    found = TABLE.match(method, path)
    assert isinstance(found, Route), found
    assert (found.service, found.access) == (service, access)


def test_public_allow_list_is_exactly_the_contracts() -> None:
    public = {(m, r.pattern) for r in TABLE.routes if r.access is P for m in r.methods}
    expected = {(m, p) for m, p, _, a in CONTRACT if a is P and "7f3c" not in p}
    expected |= {("HEAD", p) for m, p in expected if m == "GET"}
    expected |= {("GET", "/jogos/{id}"), ("HEAD", "/jogos/{id}"), ("GET", "/docs/assets/{file}")}
    expected |= {("HEAD", "/docs/assets/{file}")}
    expected |= {("GET", "/jogos/{id}/capa/{file}"), ("HEAD", "/jogos/{id}/capa/{file}")}
    assert public == expected


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nothing",
        "/users/",
        "/users/a/b",
        "//users",
        "/jogos/../admin/events",
        "/jogos/./busca",
        "/admin",
        "/admin/dlq/x/y",
        "/login",
        "/USERS",
    ],
)
def test_unknown_paths(path: str) -> None:
    assert isinstance(TABLE.match("GET", path), NotFound)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/login/auth", ("POST",)),
        ("GET", "/jogos/compra", ("POST",)),  # a static path is never taken for an id
        ("GET", "/webhooks/psp", ("POST",)),
        ("PATCH", "/users/x", ("DELETE", "GET", "HEAD", "PUT")),
        ("OPTIONS", "/jogos", ("GET", "HEAD", "POST")),
    ],
)
def test_wrong_method(method: str, path: str, allow: tuple[str, ...]) -> None:
    assert TABLE.match(method, path) == MethodNotAllowed(allow)


def test_static_path_wins_over_parameter_in_table_order() -> None:
    table = RouteTable([route("GET", "/a/b", "x", P), route("GET", "/a/{id}", "y", U)])
    assert table.match("GET", "/a/b").service == "x"  # type: ignore[union-attr]
    assert table.match("GET", "/a/c").service == "y"  # type: ignore[union-attr]


def test_services_in_table_order() -> None:
    assert TABLE.services() == ["users", "games", "payments", "notifier"]
