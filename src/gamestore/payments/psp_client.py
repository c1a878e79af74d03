"""The payment worker's client of the PSP: one charge call, its answer sorted into four kinds.

``POST /v1/charges`` with ``Idempotency-Key`` (the PSP replays a final answer for a key it has
seen, so a retried call never charges twice) and ``X-Request-ID`` (the correlation id, so the
PSP's log lines join ours in ``gamestore trace``). One pooled aiohttp session per process.

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
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import aiohttp

from gamestore.platform.logs import current_correlation
from gamestore.psp.wire import IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, REQUEST_ID, ChargeRequest

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


def classify(
    status: int, body: Any, *, replayed: bool = False, retry_after: float | None = None
) -> ChargeResult:
    """Sort an HTTP answer of ``POST /v1/charges`` (status and parsed JSON body, or None)."""
    data = body if isinstance(body, dict) else {}
    charge_id = _text(data.get("id"))
    state = data.get("status")
    code = _text(data.get("failure_code")) or _error_code(data)
    if code == PROCESSING_ERROR:
        return ChargeResult("transient", error=f"HTTP {status}: {PROCESSING_ERROR}")
    ok = 200 <= status < 300
    if ok and state == "succeeded":
        return ChargeResult("succeeded", charge_id=charge_id, replayed=replayed)
    if status == 202 or (ok and state == "processing"):
        return ChargeResult("processing", charge_id=charge_id, replayed=replayed)
    if status == 402 or (ok and state == "failed"):
        reason = code or "card_declined"
        return ChargeResult("declined", charge_id, failure_code=reason, replayed=replayed)
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


def _text(value: Any) -> str | None:
    return str(value)[:200] if value not in (None, "") else None


def _error_code(data: dict[str, Any]) -> str | None:
    error = data.get("error")
    return _text(error.get("code")) if isinstance(error, dict) else None


class PspClient:
    """Charges through the PSP's HTTP API on one pooled session (open with :meth:`start`)."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, pool_size: int = 64) -> None:
        self._url = base_url.rstrip("/") + "/v1/charges"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool (inside the running event loop)."""
        connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=4.0)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar()
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def charge(self, request: ChargeRequest, idempotency_key: str) -> ChargeResult:
        """One ``POST /v1/charges``; network failures and timeouts come back as transient."""
        if self._session is None:
            raise RuntimeError("the PSP client is not started")
        headers = {IDEMPOTENCY_KEY: idempotency_key}
        if (request_id := current_correlation()) is not None:
            headers[REQUEST_ID] = request_id
        try:
            async with self._session.post(
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

    async def find_charge(self, payment_id: str) -> ChargeResult | None:
        """A charge the PSP already holds for ``payment_id`` whose answer may have been lost
        (``GET /v1/charges?payment_id=``): a succeeded one first, else a processing one; None
        when there is neither. A failed lookup is ``unavailable``: never charge blind."""
        if self._session is None:
            raise RuntimeError("the PSP client is not started")
        headers = {REQUEST_ID: rid} if (rid := current_correlation()) is not None else {}
        try:
            async with self._session.get(
                self._url, params={"payment_id": payment_id}, headers=headers
            ) as resp:
                if resp.status != 200:
                    return ChargeResult("unavailable", error=f"ledger lookup: HTTP {resp.status}")
                body = _json(await resp.read())
        except (TimeoutError, aiohttp.ClientError) as error:
            return ChargeResult("unavailable", error=f"ledger lookup: {type(error).__name__}")
        return earlier_charge(body)


def earlier_charge(body: Any) -> ChargeResult | None:
    """The charge of a ledger listing ``{data: [charge…]}`` that settles a payment, if any."""
    rows = body.get("data") if isinstance(body, dict) else None
    charges = [row for row in rows or [] if isinstance(row, dict)]
    for status in ("succeeded", "processing"):
        for row in charges:
            if row.get("status") == status:
                return ChargeResult(status, charge_id=_text(row.get("id")), replayed=True)
    return None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
