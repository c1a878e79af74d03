"""One OpenAPI document for the whole public API, merged from the services' own documents.

Only operations the routing table exposes are kept; each service's components are renamed
``<service>.<Name>`` (two services may both have a ``Page`` schema) and every ``$ref`` follows.
Security comes from the table, not from the service: user and admin routes need the bearer
token. Every operation also lists the problems the gateway itself can answer (401/403 by the
table, 413 for a body, 414/431 for a URL or headers over the HTTP server's limits, 429 rate
limited, 502/503/504 when its service fails), all with the one ``Problem`` schema every service
shares. The merge is cached for ``ttl`` seconds; a service that is down keeps its last good
document, or is left out and listed under ``x-unavailable-services``.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from gamestore.gateway.routes import GATEWAY, Access, Route, RouteTable
from gamestore.platform.fleet_schema import SUMMARY_SCHEMA
from gamestore.platform.http.app import HEADERS_MAX, URL_MAX
from gamestore.platform.http.openapi import PROBLEM_SCHEMA, problem
from gamestore.platform.logs import get_logger

log = get_logger("gateway.openapi")
Document = dict[str, Any]
Fetch = Callable[[str], Awaitable[Document]]
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
BEARER = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


class OpenApiMerger:
    """Fetches, merges and caches the services' OpenAPI documents."""

    def __init__(
        self, table: RouteTable, upstreams: Mapping[str, str], fetch: Fetch, *, ttl: float = 10.0
    ) -> None:
        self._table = table
        self._upstreams = upstreams  # read at each fetch: a replica in turn
        self._fetch = fetch
        self._ttl = ttl
        self._last_good: dict[str, Document] = {}
        self._merged: Document | None = None
        self._merged_at = float("-inf")
        self._lock = asyncio.Lock()

    async def document(self) -> Document:
        """The merged document, at most ``ttl`` seconds old."""
        async with self._lock:
            if self._merged is None or time.monotonic() - self._merged_at >= self._ttl:
                self._merged = await self._refresh()
                self._merged_at = time.monotonic()
            return self._merged

    async def _refresh(self) -> Document:
        services = [s for s in self._table.services() if s in self._upstreams]
        results = await asyncio.gather(
            *(self._fetch(f"{self._upstreams[s]}/openapi.json") for s in services),
            return_exceptions=True,
        )
        unavailable = []
        for service, result in zip(services, results, strict=True):
            if isinstance(result, dict):
                self._last_good[service] = result
            else:
                log.warning("no OpenAPI document", service=service, error=repr(result))
                unavailable.append(service)
        return merge(self._table, self._last_good, unavailable)


def merge(table: RouteTable, documents: Mapping[str, Document], unavailable: list[str]) -> Document:
    """The public document: the table's operations from each service's ``documents``."""
    merged: Document = {
        "openapi": "3.1.0",
        "info": {
            "title": "GameStore API",
            "version": "1.0.0",
            "description": "The public API of GameStore, served by the gateway.",
        },
        "paths": _own_paths(),
        "components": {
            "securitySchemes": copy.deepcopy(BEARER),
            "schemas": {
                "Problem": copy.deepcopy(PROBLEM_SCHEMA),
                "FleetStatus": copy.deepcopy(SUMMARY_SCHEMA),
            },
        },
        "x-unavailable-services": sorted(unavailable),
    }
    for service in sorted(documents):
        document = _renamed(service, documents[service])
        for kind, items in document.get("components", {}).items():
            if kind != "securitySchemes":
                shared = {f"{service}.Problem"}  # one Problem for all (see below)
                kept = {name: value for name, value in items.items() if name not in shared}
                merged["components"].setdefault(kind, {}).update(kept)
        for path, item in document.get("paths", {}).items():
            operations = _exposed(table, service, path, item)
            if operations:
                merged["paths"].setdefault(path, {}).update(operations)
    return merged


def _exposed(table: RouteTable, service: str, path: str, item: Document) -> Document:
    kept: Document = {}
    for method in _METHODS:
        operation = item.get(method)
        found = table.match(method.upper(), _sample(path))
        if operation is None or not isinstance(found, Route) or found.service != service:
            continue
        operation = dict(operation)
        if found.access is Access.PUBLIC:
            operation.pop("security", None)
        else:
            operation["security"] = [{"bearer": []}]
        operation["x-access"] = found.access.value
        operation.setdefault("tags", [service])
        operation["responses"] = _with_gateway_problems(operation, found.access)
        kept[method] = operation
    if kept and "parameters" in item:
        kept["parameters"] = item["parameters"]
    return kept


_SERVER_LIMITS = {
    414: f"The URL is longer than {URL_MAX} bytes.",
    431: f"The headers are larger than {HEADERS_MAX} bytes together.",
}


def _with_gateway_problems(operation: Document, access: Access) -> Document:
    """The operation's responses and those the gateway itself may answer for it."""
    responses: Document = dict(operation.get("responses", {}))
    statuses = [414, 431, 429, 502, 503, 504]
    if access is not Access.PUBLIC:
        statuses.append(401)
    if access is Access.ADMIN:
        statuses.append(403)
    if "requestBody" in operation:
        statuses.append(413)
    for status in statuses:
        responses.setdefault(str(status), problem(status, _SERVER_LIMITS.get(status)))
    return responses


def _sample(path: str) -> str:
    """A concrete path for a template: ``/users/{user_id}`` → ``/users/user_id``."""
    return path.replace("{", "").replace("}", "")


def _renamed(service: str, document: Document) -> Document:
    """``document`` with every component named ``<service>.<Name>`` and refs rewritten."""
    components = document.get("components", {})
    prefix = "#/components/"
    refs = {
        f"{prefix}{kind}/{name}": f"{prefix}{kind}/{service}.{name}"
        for kind, items in components.items()
        for name in items
    }
    refs[f"{prefix}schemas/Problem"] = f"{prefix}schemas/Problem"  # shared, not renamed
    renamed: Document = _rewrite(document, refs)
    renamed["components"] = {
        kind: {f"{service}.{name}": value for name, value in items.items()}
        for kind, items in renamed.get("components", {}).items()
    }
    return renamed


def _rewrite(node: Any, refs: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: refs.get(value, value) if key == "$ref" else _rewrite(value, refs)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(value, refs) for value in node]
    return node


def _own_paths() -> Document:
    def op(summary: str, tag: str = GATEWAY) -> Document:
        return {
            "get": {"summary": summary, "tags": [tag], "responses": {"200": {"description": "OK"}}}
        }

    paths = {
        "/healthz": op("The gateway is alive"),
        "/readyz": op("Every upstream service answers (503 lists those that do not)"),
    }
    paths["/readyz"]["get"]["responses"]["503"] = {"description": "Some upstream is down"}
    status = op(
        "Every process at a glance: up, ready, restarts, request rate and p95, consumer lags, "
        "queue depth, dead letters, outbox backlog (read from each process's own endpoints)",
        "admin",
    )["get"]
    status |= {"security": [{"bearer": []}], "x-access": Access.ADMIN.value}
    ok = {"application/json": {"schema": {"$ref": "#/components/schemas/FleetStatus"}}}
    status["responses"]["200"]["content"] = ok
    status["responses"] = _with_gateway_problems(status, Access.ADMIN)
    paths["/admin/status"] = {"get": status}
    return paths


def fetcher(session: Callable[[], aiohttp.ClientSession], timeout: float = 2.0) -> Fetch:
    """A :data:`Fetch` over the proxy's pooled session."""
    limit = aiohttp.ClientTimeout(total=timeout)

    async def fetch(url: str) -> Document:
        async with session().get(url, timeout=limit) as response:
            response.raise_for_status()
            document: Document = await response.json()
            return document

    return fetch
