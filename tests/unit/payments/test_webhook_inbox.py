"""The webhook inbox through a FakeUnitOfWork: a webhook is stored once with its event, a
duplicate emits nothing, one that would change nothing is stored without an event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gamestore.payments.repository import InMemoryPaymentsRepo, PaymentsRepo
from gamestore.payments.webhook_inbox import WebhookInbox
from gamestore.payments.webhook_settings import new_webhook_secret
from gamestore.payments.webhook_signatures import WebhookVerifier
from gamestore.platform.eventstore import NO_STREAM
from gamestore.platform.uow import FakeUnitOfWork
from tests.unit.payments.test_events import webhook

Fakes = tuple[WebhookInbox, FakeUnitOfWork[PaymentsRepo], InMemoryPaymentsRepo]


def inbox(applied: bool = False) -> Fakes:
    repo = InMemoryPaymentsRepo()
    uow = FakeUnitOfWork[PaymentsRepo](repo=repo)

    async def already_applied(data: Mapping[str, Any]) -> bool:
        return applied

    verifier = WebhookVerifier([new_webhook_secret()])
    return WebhookInbox(uow, verifier, already_applied=already_applied), uow, repo


async def test_a_webhook_is_stored_with_its_event() -> None:
    hooks, uow, repo = inbox()
    assert await hooks.receive("wh_1", webhook("card_declined")) == "staged"
    [emitted] = uow.committed
    assert (emitted.stream_id, emitted.expected_version) == ("webhook-wh_1", NO_STREAM)
    assert [e.type for e in emitted.events] == ["PspWebhookReceived"]
    assert emitted.events[0].data["failure_code"] == "card_declined"
    kept = repo.webhooks["wh_1"]
    assert (kept.type, kept.body["data"]["charge_id"]) == ("charge.failed", "ch_1")
    assert uow.wakes == 1


async def test_a_duplicate_webhook_emits_nothing() -> None:
    hooks, uow, _ = inbox()
    await hooks.receive("wh_1", webhook(None))
    assert await hooks.receive("wh_1", webhook(None)) is None
    assert uow.types() == ["PspWebhookReceived"] and uow.wakes == 1


async def test_a_webhook_that_would_change_nothing_is_stored_without_an_event() -> None:
    hooks, uow, repo = inbox(applied=True)
    assert await hooks.receive("wh_1", webhook(None)) == "applied"
    assert "wh_1" in repo.webhooks
    assert uow.committed == [] and uow.wakes == 0
