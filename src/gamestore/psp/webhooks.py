"""Webhooks: staged in an outbox table with their charge, signed and delivered in the background.

Each webhook keeps its id for life (``webhook-id`` is stable across retries, so the receiver can
deduplicate); every attempt is signed afresh with the current ``webhook-timestamp`` (receivers
reject stale timestamps). A 2xx marks it delivered; anything else is retried on the backoff
schedule, after a restart too, until ``max_attempts`` (then ``failed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from opentelemetry import context, propagate
from sqlalchemy import Insert, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from gamestore.psp import logs
from gamestore.psp.tables import rfc3339, webhooks
from gamestore.psp.wire import (
    CHARGE_FAILED,
    CHARGE_SUCCEEDED,
    REQUEST_ID,
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    WebhookBody,
    WebhookData,
    WebhookType,
)


def new_webhook(charge: Mapping[Any, Any], now: float) -> Insert:
    """The INSERT staging the webhook for a charge's final outcome (run it in the charge's tx)."""
    kind: WebhookType = CHARGE_SUCCEEDED if charge["status"] == "succeeded" else CHARGE_FAILED
    data = WebhookData(
        charge_id=charge["id"],
        payment_id=charge["payment_id"],
        amount_cents=charge["amount_cents"],
        currency=charge["currency"],
        failure_code=charge["failure_code"],
    )
    body = WebhookBody(type=kind, data=data).model_dump(exclude_none=True)
    return insert(webhooks).values(
        id="msg_" + uuid.uuid4().hex,
        type=kind,
        charge_id=charge["id"],
        payment_id=charge["payment_id"],
        body=json.dumps(body, separators=(",", ":")),
        request_id=charge["request_id"],
        traceparent=charge.get("traceparent"),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def signed_headers(
    signer: Webhook, webhook_id: str, body: str, now: float, request_id: str | None
) -> dict[str, str]:
    """Standard Webhooks headers for one attempt, plus the charge request's X-Request-ID."""
    stamp = datetime.fromtimestamp(int(now), UTC)
    headers = {
        WEBHOOK_ID: webhook_id,
        WEBHOOK_TIMESTAMP: str(int(now)),
        WEBHOOK_SIGNATURE: signer.sign(webhook_id, stamp, body),
        "content-type": "application/json",
        "user-agent": "gamestore-psp-simulator",
    }
    if request_id:
        headers[REQUEST_ID] = request_id
    return headers


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    url: str
    secret: str
    delays: tuple[float, ...]
    max_attempts: int
    timeout: float
    poll: float


class Deliverer:
    """Delivers due webhooks until cancelled; ``wake()`` when a new one is staged."""

    def __init__(self, engine: AsyncEngine, config: DeliveryConfig) -> None:
        self.engine = engine
        self.config = config
        self.signer = Webhook(config.secret)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                try:
                    delivered = await self.deliver_due(session)
                except Exception:
                    logs.error("webhook delivery round failed")
                    delivered = 0
                if not delivered:
                    # asyncio.timeout: Python 3.11's wait_for can swallow a cancellation here
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.config.poll):
                            await self._wake.wait()
                    self._wake.clear()

    async def deliver_due(self, session: aiohttp.ClientSession) -> int:
        """One attempt at every webhook that is due; returns how many were attempted."""
        query = (
            select(webhooks)
            .where(webhooks.c.status == "pending", webhooks.c.next_attempt_at <= time.time())
            .order_by(webhooks.c.next_attempt_at)
            .limit(20)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        await asyncio.gather(*(self._attempt(session, row) for row in rows))
        return len(rows)

    async def _attempt(self, session: aiohttp.ClientSession, row: Mapping[Any, Any]) -> None:
        logs.corr.set(row["request_id"] or "-")  # this task's own context
        if row["traceparent"]:  # the attempt continues the charge request's trace
            context.attach(propagate.extract({"traceparent": row["traceparent"]}))
        request_id = row["request_id"]
        headers = signed_headers(self.signer, row["id"], row["body"], time.time(), request_id)
        propagate.inject(headers)  # the charge request's trace (the instrumentation, if any, wins)
        status: int | None = None
        error: str | None = None
        try:
            async with session.post(
                self.config.url, data=row["body"], headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        await self._record(row, status, error)

    async def _record(self, row: Mapping[Any, Any], status: int | None, error: str | None) -> None:
        now = time.time()
        attempts = row["attempts"] + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status}
        if status is not None and 200 <= status < 300:
            values.update(status="delivered", delivered_at=now, last_error=None)
        elif attempts >= self.config.max_attempts:
            values.update(status="failed", last_error=error or f"HTTP {status}")
        else:
            delay = self.config.delays[min(attempts, len(self.config.delays)) - 1]
            values.update(next_attempt_at=now + delay, last_error=error or f"HTTP {status}")
        async with self.engine.begin() as conn:
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.id == row["id"], webhooks.c.status == "pending")
                .values(values)
            )
        logs.info(
            "webhook delivery",
            webhook_id=row["id"],
            type=row["type"],
            payment_id=row["payment_id"],
            charge_id=row["charge_id"],
            attempt=attempts,
            http_status=status if status is not None else "-",
            result=values.get("status", "retry"),
            error=values.get("last_error") or "-",
        )


async def webhook_report(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every webhook and its delivery state, oldest first (for ``GET /v1/_sim/webhooks``)."""
    async with engine.connect() as conn:
        query = select(webhooks).order_by(webhooks.c.created_at, webhooks.c.id)
        rows = (await conn.execute(query)).mappings().all()
    times = ("created_at", "next_attempt_at", "delivered_at")
    return [
        {**row, "body": json.loads(row["body"]), **{k: rfc3339(row[k]) for k in times}}
        for row in rows
    ]
