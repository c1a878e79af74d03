"""The routing table: every public path, the service behind it and who may call it.

One explicit table, read top to bottom. A path is matched against the patterns in order (static
paths come before ``{param}`` paths that would also match them, so ``/jogos/busca`` is never taken
for a game id); every route that shares the first matching pattern is a candidate, and a method
none of them accepts is a 405, not a fall-through to a later pattern.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from gamestore.platform.http.middleware import LargerBody


class Access(enum.Enum):
    """Who may call a route: anyone, any signed-in user, or an admin."""

    PUBLIC = "public"
    USER = "user"
    ADMIN = "admin"


GATEWAY = "gateway"
"""The pseudo-service for the gateway's own endpoints (health, OpenAPI, docs)."""


@dataclass(frozen=True, slots=True)
class Route:
    """``methods`` on ``pattern`` go to ``service``, for callers allowed by ``access``."""

    methods: frozenset[str]
    pattern: str
    service: str
    access: Access
    regex: re.Pattern[str] = field(compare=False, repr=False)


def route(methods: str, pattern: str, service: str, access: Access) -> Route:
    """A route; ``methods`` is space separated (``"GET PUT"``); HEAD comes with GET."""
    names = set(methods.split())
    if "GET" in names:
        names.add("HEAD")
    return Route(frozenset(names), pattern, service, access, _compile(pattern))


def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", pattern)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts if p)
    return re.compile(f"^{body}$")


P, U, A = Access.PUBLIC, Access.USER, Access.ADMIN

ROUTES: tuple[Route, ...] = (
    # The gateway itself.
    route("GET", "/healthz", GATEWAY, P),
    route("GET", "/readyz", GATEWAY, P),
    route("GET", "/openapi.json", GATEWAY, P),
    route("GET", "/docs", GATEWAY, P),
    route("GET", "/docs/assets/{file}", GATEWAY, P),
    route("GET", "/admin/status", GATEWAY, A),
    # Users: accounts, login, signing keys.
    route("POST", "/users", "users", P),
    route("GET", "/users", "users", A),
    route("GET", "/users/me", "users", U),
    route("GET PUT DELETE", "/users/{id}", "users", U),
    route("POST", "/login/auth", "users", P),
    route("POST", "/login/refresh", "users", P),
    route("POST", "/login/logout", "users", P),
    route("GET", "/.well-known/jwks.json", "users", P),
    # Games: catalog, search, library, orders.
    route("GET", "/jogos", "games", P),
    route("POST", "/jogos", "games", A),
    route("GET", "/jogos/busca", "games", P),
    route("GET", "/jogos/populares", "games", P),
    route("GET", "/jogos/recomendados", "games", U),
    route("POST", "/jogos/compra", "games", U),
    route("GET", "/jogos/{id}", "games", P),
    route("PUT DELETE", "/jogos/{id}", "games", A),
    route("PUT DELETE", "/jogos/{id}/capa", "games", A),
    route("GET", "/jogos/{id}/capa/{file}", "games", P),
    route("GET", "/biblioteca", "games", U),
    route("GET", "/pedidos", "games", U),
    route("GET", "/pedidos/{id}", "games", U),
    # Payments: payments, PSP webhooks, dead letters, events; notifications (notifier).
    route("GET POST", "/pagamento", "payments", U),
    route("GET POST", "/pagamento/{id}", "payments", U),
    route("POST", "/webhooks/psp", "payments", P),
    route("GET", "/admin/dlq", "payments", A),
    route("POST", "/admin/dlq/{id}/replay", "payments", A),
    route("DELETE", "/admin/dlq/{id}", "payments", A),
    route("GET", "/admin/events", "payments", A),
    route("GET", "/notificacoes", "notifier", U),
)
"""Every path the gateway answers. Anything not here is a 404."""


COVER_UPLOAD = LargerBody("PUT", re.compile(r"/jogos/[^/]+/capa"), 5 * 1024 * 1024)
"""The one route whose body may pass the 1 MiB limit: a cover image (games/covers)."""


@dataclass(frozen=True, slots=True)
class NotFound:
    """No route has this path."""


@dataclass(frozen=True, slots=True)
class MethodNotAllowed:
    """The path is known, the method is not; ``allow`` lists the methods that are."""

    allow: tuple[str, ...]


Match = Route | NotFound | MethodNotAllowed


class RouteTable:
    """Matches a method and a (decoded) path to a route, indexed by the first path segment."""

    def __init__(self, routes: Iterable[Route] = ROUTES) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self._by_head: dict[str, list[list[Route]]] = {}
        for r in self.routes:
            groups = self._by_head.setdefault(_head(r.pattern), [])
            same = next((g for g in groups if g[0].pattern == r.pattern), None)
            if same is None:
                groups.append([r])
            else:
                same.append(r)

    def match(self, method: str, path: str) -> Match:
        """The route for ``method path``, or why there is none."""
        if _has_dot_segment(path):
            return NotFound()
        for group in self._by_head.get(_head(path), ()):
            if group[0].regex.match(path):
                return _pick(group, method)
        return NotFound()

    def services(self) -> list[str]:
        """The upstream services the table sends requests to, in table order."""
        return list(dict.fromkeys(r.service for r in self.routes if r.service != GATEWAY))


def _pick(group: Sequence[Route], method: str) -> Match:
    for r in group:
        if method in r.methods:
            return r
    return MethodNotAllowed(tuple(sorted({m for r in group for m in r.methods})))


def _head(path: str) -> str:
    return path.split("/", 2)[1] if path.count("/") >= 1 else ""


def _has_dot_segment(path: str) -> bool:
    # "/jogos/../admin/events" must never reach an upstream that would normalise it.
    return "/." in path and any(s in (".", "..") for s in path.split("/"))


TABLE = RouteTable()
