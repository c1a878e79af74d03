"""Every service's OpenAPI document tells which problems each operation can answer.

FastAPI documents what a route returns when it works, and a 422 of its own shape; our errors
are RFC 9457 ``application/problem+json``. :func:`document_problems` rewrites the generated
document once: the ``Problem`` schema, and on each operation the problems it can answer —
those its route declares (``responses=problems(404, 409)``), 401 where a dependency asks for a
caller, 403 where it asks for an admin, 404 where the path names a resource, 413 and 422 where
there is a body or parameters, 503 everywhere (an engine outage) — each as problem+json.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from gamestore.platform.http.problems import PROBLEM_JSON

Document = dict[str, Any]
PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: Document = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `code` is stable and meant for programs; `detail` "
    "and each `msg` are for people, in the language `Accept-Language` asks for (pt-BR, en; pt-BR "
    "by default). The codes are listed in docs/errors.md.",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "description": "What went wrong, machine-readable (`email_taken`, `not_found`).",
        },
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "What was wrong with the request, field by field (422).",
            "items": {
                "type": "object",
                "required": ["loc", "code", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "code": {
                        "type": "string",
                        "description": "The field's error (`missing`, `string_too_short`, "
                        "`password_too_weak`).",
                    },
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
WHY: dict[int, str] = {
    400: "The request is malformed.",
    401: "A valid access token is missing (or, on login, the credentials are wrong).",
    403: "The caller may not do this.",
    404: "No such resource (or not the caller's).",
    409: "It conflicts with the current state; see `detail`.",
    412: "`If-Match` names a version that is no longer current.",
    413: "The body is larger than 1 MiB.",
    422: "The request is not valid; `errors` says where.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    503: "A dependency is unavailable; retry after `Retry-After` seconds.",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
_CHALLENGE = {"WWW-Authenticate": {"schema": {"type": "string"}}}


def problem(status: int, description: str | None = None) -> Document:
    """The OpenAPI response object of one problem status."""
    response: Document = {
        "description": description or WHY.get(status) or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if status in (429, 503):
        response["headers"] = dict(_RETRY_AFTER)
    if status == 401:
        response["headers"] = dict(_CHALLENGE)
    return response


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the problems only it can answer (others are added for it)."""
    return {
        status: {"description": WHY.get(status, HTTPStatus(status).phrase)} for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every operation's problems (see the module)."""
    build = app.openapi

    def openapi() -> Document:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(build(), _callers(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_problems(
    document: Document, callers: dict[tuple[str, str], set[Callable[..., Any]]]
) -> Document:
    """``document`` with the Problem schema and each operation's problem responses."""
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = _implied(path, operation, callers.get((path, method), set()))
            responses = operation["responses"]
            for status in statuses:
                responses.setdefault(str(status), {})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    declared = response.get("description")
                    responses[status] = problem(int(status), _useful(declared))
    return document


def _useful(description: str | None) -> str | None:
    """A route's own description, not FastAPI's generic ones."""
    return (
        None
        if description in (None, "", "Validation Error", "Successful Response")
        else description
    )


def _implied(path: str, operation: Document, calls: set[Callable[..., Any]]) -> list[int]:
    from gamestore.platform.auth import admin_principal, current_principal  # (auth imports us)

    statuses = [503]
    if current_principal in calls or admin_principal in calls:
        statuses.append(401)
    if admin_principal in calls:
        statuses.append(403)
    if "{" in path:
        statuses.append(404)
    if "requestBody" in operation:
        statuses += [400, 413, 422]  # 400: a body that is not UTF-8 JSON at all
    if operation.get("parameters"):
        statuses.append(422)
    return statuses


def _callers(app: FastAPI) -> dict[tuple[str, str], set[Callable[..., Any]]]:
    """(path, method) → every dependency its route calls, however deep."""
    found: dict[tuple[str, str], set[Callable[..., Any]]] = {}
    for route in app.routes:
        if isinstance(route, APIRoute):
            calls = set(_calls(route.dependant))
            for method in route.methods or ():
                found[(route.path_format, method.lower())] = calls
    return found


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)
