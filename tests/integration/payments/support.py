"""A small driver over the payments service, so tests read as what they check."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets as random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from gamestore.payments.aggregate import Payments
from gamestore.payments.bootstrap import PaymentsService
from gamestore.payments.domain import Outcome, Payment, decide_outcome, stream_of
from gamestore.platform.eventstore import NO_STREAM, NewEvent, RecordedEvent
from gamestore.platform.logs import correlation
from tests.integration.games.support import Issuer

DEADLINE = 20.0
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For tests of input checks that never reach the database engine (they stay fast)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(random.token_bytes(32)).decode()


def signed_headers(
    secret: str, body: bytes, webhook_id: str, timestamp: float | None = None
) -> dict[str, str]:
    """Standard Webhooks headers for ``body``, as the PSP sends them."""
    moment = datetime.fromtimestamp(timestamp if timestamp is not None else time.time(), UTC)
    signature = Webhook(secret).sign(webhook_id, moment, body.decode())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def charge_body(payment_id: str, kind: str = "charge.succeeded", **extra: Any) -> bytes:
    data: dict[str, Any] = {
        "charge_id": f"ch_{uuid.uuid4().hex[:12]}",
        "payment_id": payment_id,
        "amount_cents": 4990,
        "currency": "BRL",
    }
    if kind == "charge.failed":
        data["failure_code"] = "card_declined"
    return json.dumps({"type": kind, "data": data | extra}).encode()


@dataclass
class PaymentsApi:
    client: httpx.AsyncClient
    service: PaymentsService
    issuer: Issuer
    secret: str

    @property
    def admin(self) -> dict[str, str]:
        return self.issuer.headers("admin")

    def player(self, user_id: str) -> dict[str, str]:
        return self.issuer.headers("player", user_id)

    @property
    def payments(self) -> Payments:
        return Payments(self.service.store)

    async def order_created(
        self, user_id: str | None = None, payment_method: str = "pm_card_visa"
    ) -> RecordedEvent:
        """``OrderCreated`` in the event store, as games' outbox relay would put it."""
        order_id = str(uuid.uuid4())
        data = {
            "order_id": order_id,
            "user_id": user_id or str(uuid.uuid4()),
            "game_id": str(uuid.uuid4()),
            "game_title": "Celeste",
            "amount_cents": 4990,
            "currency": "BRL",
            "payment_id": str(uuid.uuid4()),
            "payment_method": payment_method,
        }
        event = NewEvent("OrderCreated", data, correlation_id=f"corr-{order_id}")
        [recorded] = await self.service.store.append(f"order-{order_id}", [event], NO_STREAM)
        return recorded

    def handler(self, group: str) -> Any:
        return next(c.handler for c in self.service.consumers() if c.group == group)

    async def deliver(self, group: str, event: RecordedEvent) -> None:
        """Hand ``event`` to ``group``'s handler as the bus does, then relay the outbox."""
        with correlation(event.correlation_id):
            await self.handler(group)(event)
        while await self.service.relay.relay_once():
            pass

    async def ordered(self, user_id: str | None = None) -> dict[str, Any]:
        """An order payments knows, its first payment requested; the OrderCreated data."""
        event = await self.order_created(user_id)
        await self.deliver("payments", event)
        await self.project(str(event.data["payment_id"]))
        return event.data

    async def stream(self, payment_id: str, count: int = 0) -> list[RecordedEvent]:
        """The payment's stream, once it holds ``count`` events (the relay runs in the
        background; polled with a deadline)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            events = await self.service.store.read_stream(stream_of(payment_id))
            if len(events) >= count or time.monotonic() > deadline:
                return events
            await asyncio.sleep(0.02)

    async def project(self, payment_id: str) -> None:
        """The payments-view consumer, given the stream's newest event."""
        events = await self.stream(payment_id)
        await self.service.view.apply(events[-1])

    async def conclude(self, payment_id: str, succeeded: bool, reason: str = "") -> Payment:
        """A terminal outcome, as the worker would record it (then projected)."""
        outcome = Outcome(succeeded, "worker", "worker:test", "ch_test", reason or None)
        payment = await self.payments.change(payment_id, lambda p: decide_outcome(p, outcome))
        await self.project(payment_id)
        return payment

    async def pay(
        self, user_id: str, order_id: str, method: str = "pm_card_visa", key: str | None = None
    ) -> httpx.Response:
        headers = self.player(user_id)
        if key is not None:
            headers["Idempotency-Key"] = key
        body = {"order_id": order_id, "payment_method": method}
        return await self.client.post("/pagamento", json=body, headers=headers)

    async def webhook(
        self,
        body: bytes,
        webhook_id: str | None = None,
        secret: str | None = None,
        timestamp: float | None = None,
    ) -> httpx.Response:
        webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        headers = signed_headers(secret or self.secret, body, webhook_id, timestamp)
        return await self.client.post("/webhooks/psp", content=body, headers=headers)
