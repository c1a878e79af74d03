"""What the webhook function reads from a ``PspWebhookReceived``, through its contract: the
outcome it reports and the charge it is about; a payload that does not fit is poison."""

from __future__ import annotations

from typing import Any

import pytest

from gamestore.payments.domain import ChargeFacts, Outcome
from gamestore.payments.events import PspWebhookReceived
from gamestore.payments.webhook_function import outcome_of, reported
from gamestore.platform.events import PoisonEvent

HOOK = {"webhook_id": "msg_1", "payment_id": "p-1", "charge_id": "ch_1",
        "amount_cents": 4990, "currency": "BRL"}  # fmt: skip


def webhook(kind: str, **data: Any) -> PspWebhookReceived:
    return PspWebhookReceived.parse({**HOOK, "type": kind, **data})


def test_a_success_webhook_reports_a_success_caused_by_the_webhook() -> None:
    assert outcome_of(webhook("charge.succeeded")) == Outcome(
        succeeded=True, source="webhook", cause="webhook:msg_1", charge_id="ch_1"
    )


@pytest.mark.parametrize(("code", "reason"), [("insufficient_funds", "insufficient_funds"),
                                               (None, "card_declined")])  # fmt: skip
def test_a_failure_webhook_reports_its_code_or_a_declined_card(
    code: str | None, reason: str
) -> None:
    outcome = outcome_of(webhook("charge.failed", failure_code=code), anomaly="why")
    assert (outcome.succeeded, outcome.reason, outcome.anomaly) == (False, reason, "why")


def test_a_webhook_reports_its_charge_as_the_psp_signed_it() -> None:
    assert reported(webhook("charge.succeeded")) == ChargeFacts("ch_1", 4990, "BRL")


@pytest.mark.parametrize("broken", [{"charge_id": None}, {"amount_cents": "much"}])
def test_a_webhook_that_does_not_fit_its_contract_is_poison(broken: dict[str, Any]) -> None:
    with pytest.raises(PoisonEvent, match="PspWebhookReceived"):
        webhook("charge.succeeded", **broken)
