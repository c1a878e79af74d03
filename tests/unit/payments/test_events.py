"""The payments event contracts store exactly the payloads the events carried before them:
the keys each decision writes, optional keys left out when absent, ids still derived."""

from __future__ import annotations

from typing import Any

import pytest

from gamestore.payments.domain import (
    Outcome,
    Payment,
    decide_attempt,
    decide_dead_letter,
    decide_outcome,
    decide_processing,
    decide_reopen,
    derived_id,
    requested,
)
from gamestore.payments.events import PaymentAttempted, PaymentRequested, PspWebhookReceived
from gamestore.payments.schemas import PspWebhook
from gamestore.payments.webhook_inbox import received_event
from gamestore.platform.events import PoisonEvent
from tests.unit.payments.test_domain import REQUEST, folded, record

IDS = {k: REQUEST[k] for k in ("payment_id", "order_id", "user_id", "game_id", "game_title")}
IDS |= {"amount_cents": 4990, "currency": "BRL"}


def started() -> Payment:
    return folded(record([requested(REQUEST)]))


def test_payment_requested_is_the_order_and_the_method_with_a_derived_id() -> None:
    event = requested(REQUEST, causation_id="cause-1")
    assert (event.type, dict(event.data)) == ("PaymentRequested", REQUEST)
    assert event.event_id == derived_id(str(REQUEST["payment_id"]), "requested")
    assert event.causation_id == "cause-1"
    assert PaymentRequested.parse(event.data).payload() == REQUEST


def test_an_attempt_leaves_out_the_error_and_charge_it_does_not_have() -> None:
    [bare] = decide_attempt(started(), 1, "transient")
    assert dict(bare.data) == {"payment_id": REQUEST["payment_id"], "attempt": 1,
                               "outcome": "transient"}  # fmt: skip
    [full] = decide_attempt(started(), 2, "succeeded", "x" * 600, "ch_1")
    assert dict(full.data) == {
        "payment_id": REQUEST["payment_id"], "attempt": 2, "outcome": "succeeded",
        "error": "x" * 500, "charge_id": "ch_1",
    }  # fmt: skip
    [empty] = decide_attempt(started(), 3, "transient", "", "")
    assert set(empty.data) == {"payment_id", "attempt", "outcome"}
    assert PaymentAttempted.parse(bare.data).payload() == bare.data


def test_outcomes_carry_the_ids_and_a_null_charge_id_stays_written() -> None:
    [ok] = decide_outcome(started(), Outcome(True, "webhook", "webhook:w1"))
    assert (ok.type, dict(ok.data)) == (
        "PaymentSucceeded", IDS | {"charge_id": None, "source": "webhook"}
    )  # fmt: skip
    [no] = decide_outcome(started(), Outcome(False, "worker", "w", "ch_2", "card_declined"))
    assert (no.type, dict(no.data)) == (
        "PaymentFailed", IDS | {"charge_id": "ch_2", "source": "worker", "reason": "card_declined"}
    )  # fmt: skip


def test_anomaly_processing_dead_letter_and_reopen_payloads() -> None:
    payment = started()
    [anomaly] = decide_outcome(payment, Outcome(True, "webhook", "c", anomaly="unknown_charge"))
    assert dict(anomaly.data) == {"payment_id": payment.id, "kept": "pending",
                                  "ignored": "succeeded", "source": "webhook",
                                  "reason": "unknown_charge", "charge_id": None}  # fmt: skip
    [processing] = decide_processing(payment, "ch_9")
    assert dict(processing.data) == {"payment_id": payment.id, "charge_id": "ch_9"}
    dead, failed = decide_dead_letter(payment, 5, "boom")
    assert dict(dead.data) == {"payment_id": payment.id, "order_id": payment.order_id,
                               "attempts": 5, "error": "boom"}  # fmt: skip
    assert failed.data["reason"] == "processing_error"
    [reopened] = decide_reopen(folded(record([requested(REQUEST), dead, failed])))
    assert dict(reopened.data) == {"payment_id": payment.id, "order_id": payment.order_id}


def webhook(failure_code: str | None) -> PspWebhook:
    data: dict[str, Any] = {"charge_id": "ch_1", "payment_id": REQUEST["payment_id"],
                            "amount_cents": 4990, "currency": "BRL"}  # fmt: skip
    if failure_code is not None:
        data["failure_code"] = failure_code
    kind = "charge.failed" if failure_code else "charge.succeeded"
    return PspWebhook.model_validate({"type": kind, "data": data})


def test_a_received_webhook_leaves_out_a_failure_code_it_does_not_have() -> None:
    shape = {"webhook_id": "wh_1", "payment_id": REQUEST["payment_id"], "charge_id": "ch_1",
             "amount_cents": 4990, "currency": "BRL"}  # fmt: skip
    succeeded = received_event("wh_1", webhook(None)).new_event()
    assert dict(succeeded.data) == shape | {"type": "charge.succeeded"}
    failed = received_event("wh_1", webhook("card_declined")).new_event()
    assert dict(failed.data) == shape | {"type": "charge.failed", "failure_code": "card_declined"}


def test_a_payload_that_does_not_fit_is_a_poison_event() -> None:
    with pytest.raises(PoisonEvent):
        PspWebhookReceived.parse({"webhook_id": "wh_1"})
