"""The PSP simulator's HTTP API (Stripe-like), and the background tasks it runs.

``POST /v1/charges`` with ``Idempotency-Key`` charges a test card (``gamestore.psp.wire``):
200 succeeded, 402 declined, 202 processing (the outcome comes later, by webhook only),
500 ``processing_error``, 400 bad input or unknown card, 409 same key still in flight,
503 during an injected outage. ``GET /v1/charges[?payment_id=]`` and ``/v1/charges/{id}`` read
the ledger; ``/v1/_sim/*`` injects faults (see ``sim.py``); ``GET /healthz`` answers 200.

Like a real provider, every ``/v1`` call (the fault injection too) needs the merchant's secret
API key, ``Authorization: Bearer sk_test_…``; without it, 401 ``authentication_required``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import propagate
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gamestore.migrations import ensure_schema, migrates_on_start
from gamestore.psp import ledger, logs
from gamestore.psp.settings import PspSettings
from gamestore.psp.sim import Controls
from gamestore.psp.sim import router as sim_router
from gamestore.psp.tables import create_engine
from gamestore.psp.webhooks import Deliverer, DeliveryConfig
from gamestore.psp.wire import (
    IDEMPOTENT_REPLAYED,
    MAX_IDEMPOTENCY_KEY,
    REQUEST_ID,
    Charge,
    ChargeList,
    ChargeRequest,
    ErrorBody,
    Outcome,
    outcome_of,
)

_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_REFUSALS: dict[type[Exception], tuple[int, str]] = {
    ledger.KeyInUse: (400, "idempotency_key_in_use"),
    ledger.KeyInFlight: (409, "idempotency_key_in_flight"),
    ledger.ProcessingError: (500, "processing_error"),
}

router = APIRouter()


def _traceparent() -> str | None:
    """The charge request's span, kept so its webhook continues the caller's trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def error(status: int, code: str, message: str = "") -> JSONResponse:
    """The PSP's error shape: ``{error: {code, message}}``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready when its database answers (the ledger is where every charge lives)."""
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as failure:  # any failure of the probe means not ready
        check = {"status": "down", "error": f"{type(failure).__name__}: {failure}"[:300]}
        body = {"status": 503, "title": "Service Unavailable", "detail": "Not ready: database."}
        return JSONResponse({**body, "checks": {"database": check}}, status_code=503)
    return JSONResponse({"status": "ready", "checks": {"database": {"status": "up"}}})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """The process's Prometheus metrics (its runtime's: the PSP keeps no business series)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 409, 500, 503)
}


@router.post(
    "/v1/charges",
    response_model=Charge,
    responses={202: {"model": Charge}, 402: {"model": Charge}, **_ERRORS},
)
async def create_charge(
    body: ChargeRequest,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Charge ``payment_method`` (a test card token) once per ``Idempotency-Key``.

    The same key with the same body replays the FIRST answer (``Idempotent-Replayed: true``;
    an async charge's replay still says ``processing``: read ``GET /v1/charges/{id}`` or wait
    for the webhook); another body → 400; while the first request runs → 409. A 500
    ``processing_error`` or an outage 503 is not kept under the key: retrying it retries.
    """
    state = request.app.state
    outcome = outcome_of(body.payment_method)
    refusal = _refuse(state.controls, outcome, idempotency_key)
    if refusal is not None or outcome is None or idempotency_key is None:
        return _logged(body, refusal or error(400, "invalid_request"))
    try:
        answer = await ledger.create_charge(
            state.engine, body, outcome, idempotency_key, request_id=logs.corr.get(),
            traceparent=_traceparent(), latency=state.controls.latency_ms / 1000,
            async_delay=state.settings.psp_async_delay_ms / 1000,
        )  # fmt: skip
    except tuple(_REFUSALS) as exc:
        status, code = _REFUSALS[type(exc)]
        _log_charge(body, status, code)
        return error(status, code)
    state.deliverer.wake()
    _log_charge(body, answer.status_code, answer.body["status"], answer.replayed)
    replayed = {IDEMPOTENT_REPLAYED: "true"} if answer.replayed else {}
    return JSONResponse(answer.body, status_code=answer.status_code, headers=replayed)


def _refuse(controls: Controls, outcome: Outcome | None, key: str | None) -> JSONResponse | None:
    """The answer for a charge refused before any work (outage, bad key, unknown card)."""
    outage = controls.outage()
    if outage is not None:
        refusal = error(outage, "service_unavailable", "the PSP is unavailable; retry later")
        refusal.headers["Retry-After"] = str(controls.retry_after())
        return refusal
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        return error(400, "idempotency_key_missing", "Idempotency-Key (1-255 chars) is required")
    if outcome is None:
        return error(400, "invalid_payment_method", "unknown payment_method")
    return None


def _logged(body: ChargeRequest, refusal: JSONResponse) -> JSONResponse:
    _log_charge(body, refusal.status_code, "refused")
    return refusal


def _log_charge(body: ChargeRequest, status: int, outcome: str, replayed: bool = False) -> None:
    logs.info(
        "charge request",
        payment_id=body.payment_id,
        amount_cents=body.amount_cents,
        http_status=status,
        outcome=outcome,
        replayed=str(replayed).lower(),
    )


@router.get("/v1/charges", response_model=ChargeList)
async def list_charges(request: Request, payment_id: str | None = None) -> dict[str, Any]:
    """Every charge in the ledger, oldest first; ``?payment_id=`` keeps one payment's."""
    rows = await ledger.list_charges(request.app.state.engine, payment_id)
    return {"data": rows, "total": len(rows)}


@router.get("/v1/charges/{charge_id}", response_model=Charge)
async def get_charge(charge_id: str, request: Request) -> Any:
    """One charge, with its current status (an async charge moves to ``succeeded``)."""
    row = await ledger.get_charge(request.app.state.engine, charge_id)
    return error(404, "resource_missing", "no such charge") if row is None else row


class ApiKeyMiddleware:
    """Every ``/v1`` path needs ``Authorization: Bearer <the secret API key>`` (compared in
    constant time); anything else is 401 before any work is done."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self._expected = f"Bearer {key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1"):
            given = Headers(scope=scope).get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, self._expected):
                refusal = error(401, "authentication_required", "a secret API key is required")
                refusal.headers["WWW-Authenticate"] = 'Bearer realm="psp"'
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestIdMiddleware:
    """Adopt the caller's X-Request-ID (or mint one) for logs, webhooks and the response.

    Plain ASGI: ``@app.middleware("http")`` would run every request in a task of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID, "")
        request_id = given if _SANE_ID.match(given) else str(uuid.uuid4())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID] = request_id
            await send(message)

        token = logs.corr.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.corr.reset(token)


def _install_errors(app: FastAPI) -> None:
    async def invalid(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error(400, "invalid_request", where)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, "resource_missing" if exc.status_code == 404 else "error")

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


def create_app(settings: PspSettings) -> FastAPI:
    """The PSP app on its own database; its lifespan runs the completer and the deliverer."""
    engine = create_engine(settings.db_url)
    config = DeliveryConfig(
        url=settings.webhook_url,
        secret=settings.webhook_signing_secret(),
        delays=settings.retry_delays,
        max_attempts=settings.psp_webhook_max_attempts,
        timeout=settings.psp_webhook_timeout_seconds,
        poll=settings.psp_poll_seconds,
    )
    deliverer = Deliverer(engine, config)
    app = FastAPI(
        title="PSP simulator",
        version="1.0.0",
        lifespan=_lifespan(engine, deliverer, settings.psp_poll_seconds),
        # FastAPI's own tracing (spans when a tracer provider is set); no OTel metrics or logs
        telemetry={"metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings, app.state.engine, app.state.deliverer = settings, engine, deliverer
    app.state.controls = Controls(latency_ms=settings.psp_latency_ms)
    app.include_router(router)
    app.include_router(sim_router)
    app.add_middleware(ApiKeyMiddleware, key=settings.secret_api_key())
    app.add_middleware(RequestIdMiddleware)
    _install_errors(app)
    return app


def _lifespan(engine: AsyncEngine, deliverer: Deliverer, poll: float) -> Any:
    """Check (or migrate) the schema, run the background tasks while serving, then stop them
    and the engine."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        url = engine.url.render_as_string(hide_password=False)
        await ensure_schema(engine, "psp", migrate=migrates_on_start(url))
        tasks = [
            asyncio.create_task(deliverer.run()),
            asyncio.create_task(ledger.run_completer(engine, poll, deliverer.wake)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await engine.dispose()

    return lifespan
