"""The payment worker's client of the PSP: one charge call, its answer sorted into four kinds.

``POST /v1/charges`` with ``Idempotency-Key`` (the PSP replays a final answer for a key it has
seen, so a retried call never charges twice) and ``X-Request-ID`` (the correlation id, so the
PSP's log lines join ours in ``gamestore trace``). Every call carries the merchant's secret API
key (``Authorization: Bearer sk_…``). One pooled aiohttp session per process.

The answer is classified by :func:`classify`, a plain function:

- ``succeeded`` — 200 ``{status: "succeeded"}``;
- ``declined`` — 402 ``{status: "failed", failure_code}`` (a final no from the card's issuer);
- ``processing`` — 202 ``{status: "processing"}``: the outcome comes later by webhook;
- ``transient`` — a ``processing_error``: the PSP answered that this charge failed this time;
  retrying can help, and it counts as an attempt (after N of them, the dead letter);
- ``unavailable`` — any other 5xx, 408/409 (the same key still in flight)/425/429, a timeout,
  a refused or dropped connection: the PSP could not answer at all. Not an attempt: the worker
  waits it out (honouring ``Retry-After``) for up to its outage budget;
- ``rejected`` — any other 4xx: the PSP refuses the request itself, retrying cannot help.

The payment method goes in the request body only: it is never logged or put in an error text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

from gamestore.payments.psp_wire import (
    IDEMPOTENCY_KEY,
    IDEMPOTENT_REPLAYED,
    REQUEST_ID,
    ChargeRequest,
)
from gamestore.platform import tracing
from gamestore.platform.config import Settings
from gamestore.platform.faults import TransientError
from gamestore.platform.logs import current_correlation
from gamestore.platform.metrics import PSP_ERRORS, PSP_REQUEST_DURATION

Kind = Literal["succeeded", "declined", "processing", "transient", "unavailable", "rejected"]
PROCESSING_ERROR = "processing_error"
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The PSP's answer to one charge call, sorted into a :data:`Kind`."""

    kind: Kind
    charge_id: str | None = None
    failure_code: str | None = None
    error: str | None = None  # what went wrong, for transient, unavailable and rejected answers
    replayed: bool = False  # an earlier answer: replayed for this key, or found in the ledger
    retry_after: float | None = None  # seconds the PSP asked us to wait (unavailable answers)
    amount_cents: int | None = None  # what the PSP says it charged (final and processing)
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerCharge:
    """A charge as the PSP's ledger holds it (``GET /v1/charges…``)."""

    id: str
    status: str
    payment_id: str
    amount_cents: int
    currency: str
    idempotency_key: str | None = None
    failure_code: str | None = None

    @classmethod
    def parse(cls, row: Any) -> LedgerCharge | None:
        """The charge a JSON object describes; None for anything that is not one."""
        if not isinstance(row, dict):
            return None
        try:
            return cls(
                id=str(row["id"]),
                status=str(row["status"]),
                payment_id=str(row["payment_id"]),
                amount_cents=int(row["amount_cents"]),
                currency=str(row["currency"]),
                idempotency_key=_text(row.get("idempotency_key")),
                failure_code=_text(row.get("failure_code")),
            )
        except (KeyError, TypeError, ValueError):
            return None


def classify(
    status: int, body: Any, *, replayed: bool = False, retry_after: float | None = None
) -> ChargeResult:
    """Sort an HTTP answer of ``POST /v1/charges`` (status and parsed JSON body, or None)."""
    data = body if isinstance(body, dict) else {}
    charge_id = _text(data.get("id"))
    state = data.get("status")
    code = _text(data.get("failure_code")) or _error_code(data)
    if code == PROCESSING_ERROR:
        return ChargeResult("transient", error=f"HTTP {status} ({PROCESSING_ERROR})")
    ok = 200 <= status < 300
    charged = {"charge_id": charge_id, "replayed": replayed} | _amount(data)
    if ok and state == "succeeded":
        return ChargeResult("succeeded", **charged)
    if status == 202 or (ok and state == "processing"):
        return ChargeResult("processing", **charged)
    if status == 402 or (ok and state == "failed"):
        return ChargeResult("declined", failure_code=code or "card_declined", **charged)
    error = f"HTTP {status}" + (f": {code}" if code else "")
    if status >= 500 or status in RETRYABLE_4XX or status < 400:
        return ChargeResult("unavailable", error=error, retry_after=retry_after)
    return ChargeResult("rejected", error=error)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment - (time.time() if now is None else now))


def _amount(data: dict[str, Any]) -> dict[str, Any]:
    """``amount_cents`` and ``currency`` of a charge body, as far as they are well-formed."""
    amount = data.get("amount_cents")
    whole = isinstance(amount, int) and not isinstance(amount, bool)
    return {
        "amount_cents": amount if whole else None,
        "currency": _text(data.get("currency")),
    }


def _text(value: Any) -> str | None:
    return str(value)[:200] if value not in (None, "") else None


def _error_code(data: dict[str, Any]) -> str | None:
    error = data.get("error")
    return _text(error.get("code")) if isinstance(error, dict) else None


class PspClient:
    """Charges through the PSP's HTTP API on one pooled session (open with :meth:`start`)."""

    def __init__(
        self, base_url: str, *, api_key: str, timeout: float = 10.0, pool_size: int = 64
    ) -> None:
        self._url = base_url.rstrip("/") + "/v1/charges"
        self._health = base_url.rstrip("/") + "/healthz"
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def configured(cls, settings: Settings) -> PspClient:
        """The client of the PSP ``settings`` name (URL, secret API key, timeout)."""
        return cls(
            settings.psp_url,
            api_key=settings.psp_secret_key(),
            timeout=settings.psp_timeout_seconds,
        )

    async def start(self) -> None:
        """Open the connection pool (inside the running event loop)."""
        connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=4.0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers=self._auth,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def charge(self, request: ChargeRequest, idempotency_key: str) -> ChargeResult:
        """One ``POST /v1/charges``; network failures and timeouts come back as transient."""
        began = time.perf_counter()
        result = await self._charge(request, idempotency_key)
        observe_charge(result, time.perf_counter() - began)
        return result

    async def ping(self) -> None:
        """The PSP answers at all (a readiness probe of the processes that call it)."""
        async with self._started().get(self._health) as resp:
            if resp.status >= 500:
                raise TransientError(f"the PSP's /healthz answered {resp.status}")

    async def _charge(self, request: ChargeRequest, idempotency_key: str) -> ChargeResult:
        session = self._started()
        headers = {IDEMPOTENCY_KEY: idempotency_key} | _request_id()
        try:
            async with session.post(
                self._url, json=request.model_dump(exclude_none=True), headers=headers
            ) as resp:
                raw = await resp.read()
                replayed = resp.headers.get(IDEMPOTENT_REPLAYED, "").lower() == "true"
                wait = parse_retry_after(resp.headers.get("Retry-After"))
                return classify(resp.status, _json(raw), replayed=replayed, retry_after=wait)
        except TimeoutError:
            return ChargeResult("unavailable", error="timeout waiting for the PSP")
        except aiohttp.ClientError as error:
            return ChargeResult("unavailable", error=f"{type(error).__name__}: {error}"[:300])

    async def find_charge(
        self, payment_id: str, accept: Callable[[LedgerCharge], bool]
    ) -> ChargeResult | None:
        """A charge the PSP already holds for ``payment_id`` whose answer may have been lost
        (``GET /v1/charges?payment_id=``), among those ``accept`` takes as the payment's own: a
        succeeded one first, else a processing one; None when there is neither. A failed lookup
        is ``unavailable``: never charge blind."""
        session = self._started()
        try:
            async with session.get(
                self._url, params={"payment_id": payment_id}, headers=_request_id()
            ) as resp:
                if resp.status != 200:
                    return ChargeResult("unavailable", error=f"ledger lookup: HTTP {resp.status}")
                body = _json(await resp.read())
        except (TimeoutError, aiohttp.ClientError) as error:
            return ChargeResult("unavailable", error=f"ledger lookup: {type(error).__name__}")
        return earlier_charge(body, accept)

    async def get_charge(self, charge_id: str) -> LedgerCharge | None:
        """The PSP's ledger entry for ``charge_id`` (``GET /v1/charges/{id}``); None when the PSP
        holds no such charge. A PSP that cannot answer raises :class:`TransientError`."""
        began = time.perf_counter()
        try:
            charge = await self._get_charge(charge_id)
        except TransientError:
            PSP_ERRORS.labels("get_charge", "unavailable").inc()
            PSP_REQUEST_DURATION.labels("get_charge", "error").observe(time.perf_counter() - began)
            raise
        PSP_REQUEST_DURATION.labels("get_charge", "ok").observe(time.perf_counter() - began)
        return charge

    async def _get_charge(self, charge_id: str) -> LedgerCharge | None:
        session = self._started()
        try:
            async with session.get(
                f"{self._url}/{quote(charge_id, safe='')}", headers=_request_id()
            ) as resp:
                if resp.status == 404:
                    return None
                if resp.status != 200:
                    wait = parse_retry_after(resp.headers.get("Retry-After"))
                    raise TransientError(f"charge lookup: HTTP {resp.status}", retry_after=wait)
                return LedgerCharge.parse(_json(await resp.read()))
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientError(f"charge lookup: {type(error).__name__}") from error

    def _started(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the PSP client is not started")
        return self._session


def observe_charge(result: ChargeResult, seconds: float) -> None:
    """A charge call in the PSP metrics: its duration by result, and its error by kind."""
    outcome = {"succeeded": "ok", "processing": "ok", "declined": "declined"}.get(result.kind)
    PSP_REQUEST_DURATION.labels("charge", outcome or "error").observe(seconds)
    if outcome is None:
        timeout = result.error is not None and result.error.startswith("timeout")
        PSP_ERRORS.labels("charge", "timeout" if timeout else result.kind).inc()


def _request_id() -> dict[str, str]:
    """The request id and the trace the call belongs to, for the PSP's records."""
    ids = {REQUEST_ID: rid} if (rid := current_correlation()) is not None else {}
    return ids | tracing.headers(tracing.current_traceparent())


def earlier_charge(body: Any, accept: Callable[[LedgerCharge], bool]) -> ChargeResult | None:
    """The charge of a ledger listing ``{data: [charge…]}`` that settles a payment, among those
    ``accept`` takes as the payment's own, if any: succeeded first."""
    rows = body.get("data") if isinstance(body, dict) else None
    charges = [c for c in map(LedgerCharge.parse, rows or []) if c is not None and accept(c)]
    for status in ("succeeded", "processing"):
        for charge in charges:
            if charge.status == status:
                return ChargeResult(
                    status,
                    charge_id=charge.id,
                    replayed=True,
                    amount_cents=charge.amount_cents,
                    currency=charge.currency,
                )
    return None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
