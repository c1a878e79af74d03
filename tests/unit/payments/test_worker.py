"""The payment worker's pure parts: how a PSP answer is sorted, which key a charge carries,
which messages are refused outright."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from gamestore.payments.domain import ChargeFacts, Payment
from gamestore.payments.psp_client import (
    LedgerCharge,
    classify,
    earlier_charge,
    parse_retry_after,
)
from gamestore.payments.worker import charge_request, payment_id_of
from gamestore.platform.queue import Message, PermanentError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def payment(epoch: int = 0) -> Payment:
    return Payment(
        id=str(uuid.uuid4()), order_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()),
        game_id=str(uuid.uuid4()), game_title="Hades", amount_cents=5990, currency="BRL",
        payment_method="pm_card_visa", status="pending", version=1, created_at=NOW,
        updated_at=NOW, epoch=epoch,
    )  # fmt: skip


def message(body: dict[str, Any]) -> Message:
    return Message("m1", "payments", body, 1, "corr-1", NOW)


CHARGE = {"id": "ch_1", "object": "charge", "amount_cents": 5990, "currency": "BRL"}


@pytest.mark.parametrize(
    ("status", "body", "kind", "charge_id", "failure_code"),
    [
        (200, CHARGE | {"status": "succeeded"}, "succeeded", "ch_1", None),
        (202, CHARGE | {"status": "processing"}, "processing", "ch_1", None),
        (402, CHARGE | {"status": "failed", "failure_code": "card_declined"}, "declined", "ch_1",
         "card_declined"),
        (402, CHARGE | {"status": "failed", "failure_code": "insufficient_funds"}, "declined",
         "ch_1", "insufficient_funds"),
        (402, {}, "declined", None, "card_declined"),  # a decline without a code is still final
        (200, CHARGE | {"status": "failed", "failure_code": "card_declined"}, "declined", "ch_1",
         "card_declined"),
    ],
)  # fmt: skip
def test_final_answers(
    status: int, body: dict[str, Any], kind: str, charge_id: str | None, failure_code: str | None
) -> None:
    result = classify(status, body)
    assert (result.kind, result.charge_id, result.failure_code) == (kind, charge_id, failure_code)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": {"code": "processing_error"}}),
        (402, {"status": "failed", "failure_code": "processing_error"}),  # never final
    ],
)
def test_a_processing_error_is_a_counted_transient_failure(status: int, body: Any) -> None:
    result = classify(status, body)
    assert result.kind == "transient"
    assert result.error == f"HTTP {status} (processing_error)"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, {"error": {"code": "service_unavailable"}}),
        (500, {"error": {"code": "internal"}}),
        (502, None),  # a proxy's HTML page: not JSON at all
        (409, {"error": {"code": "idempotency_key_in_flight"}}),
        (429, {}),
        (200, {"status": "weird"}),  # an answer we do not understand: try again later
        (200, ["not", "an", "object"]),
    ],
)
def test_a_psp_that_cannot_answer_is_unavailable_not_an_attempt(status: int, body: Any) -> None:
    result = classify(status, body, retry_after=3.0)
    assert (result.kind, result.retry_after) == ("unavailable", 3.0)
    assert result.error is not None and str(status) in result.error


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("code", ["invalid_payment_method", "idempotency_key_in_use"])
def test_a_refused_request_is_rejected_not_retried(code: str) -> None:
    result = classify(400, {"error": {"code": code, "message": "pm_card_x is unknown"}})
    assert (result.kind, result.error) == ("rejected", f"HTTP 400: {code}")  # no echoed message


def test_a_replayed_answer_says_so() -> None:
    assert classify(200, CHARGE | {"status": "succeeded"}, replayed=True).replayed


def test_the_key_is_the_payment_id_then_changes_with_each_reopening() -> None:
    first = payment()
    assert first.idempotency_key == first.id
    reopened = payment(epoch=2)
    assert reopened.idempotency_key == f"{reopened.id}:2"
    assert reopened.idempotency_keys() == {reopened.id, f"{reopened.id}:1", f"{reopened.id}:2"}


def test_the_charge_carries_the_payment_and_its_method() -> None:
    p = payment()
    body = charge_request(p).model_dump(exclude_none=True)
    assert body["payment_id"] == p.id and body["payment_method"] == "pm_card_visa"
    assert (body["amount_cents"], body["currency"]) == (5990, "BRL")


def test_a_message_names_a_payment_by_uuid() -> None:
    pid = str(uuid.uuid4())
    assert payment_id_of(message({"payment_id": pid.upper()})) == pid


@pytest.mark.parametrize("body", [{}, {"payment_id": None}, {"payment_id": "x' OR 1=1"}])
def test_a_malformed_message_is_dead_lettered_at_once(body: dict[str, Any]) -> None:
    with pytest.raises(PermanentError, match="valid payment_id"):
        payment_id_of(message(body))


def test_a_ledger_lookup_prefers_a_succeeded_charge() -> None:
    row = CHARGE | {"payment_id": "p1"}
    listing = {"data": [row | {"id": "ch_0", "status": "processing"},
                        row | {"id": "ch_1", "status": "succeeded"}]}  # fmt: skip
    found = earlier_charge(listing, lambda _: True)
    assert found is not None and (found.kind, found.charge_id) == ("succeeded", "ch_1")
    assert (found.amount_cents, found.currency) == (CHARGE["amount_cents"], CHARGE["currency"])


@pytest.mark.parametrize("body", [{"data": []}, {}, None, {"data": [{"status": "failed"}]}])
def test_a_ledger_without_a_settling_charge_finds_nothing(body: Any) -> None:
    assert earlier_charge(body, lambda _: True) is None


def test_a_ledger_lookup_takes_only_the_payment_s_own_charges() -> None:
    """A charge made for this payment id under another key, or of another amount, is not its
    outcome; one under the key of an earlier epoch, of its amount, is."""
    p = payment(epoch=1)
    own = CHARGE | {"payment_id": p.id, "amount_cents": 5990, "currency": "BRL"}
    listing = {"data": [
        own | {"id": "ch_forged", "status": "succeeded", "idempotency_key": "attacker"},
        own | {"id": "ch_cheap", "status": "succeeded", "idempotency_key": p.id,
               "amount_cents": 0},
        own | {"id": "ch_other_currency", "status": "succeeded", "idempotency_key": p.id,
               "currency": "USD"},
        own | {"id": "ch_mine", "status": "processing", "idempotency_key": p.id},
    ]}  # fmt: skip

    def accept(charge: LedgerCharge) -> bool:
        facts = ChargeFacts(charge.id, charge.amount_cents, charge.currency, charge.idempotency_key)
        return p.reconcile(facts) is None

    found = earlier_charge(listing, accept)
    assert found is not None and (found.kind, found.charge_id) == ("processing", "ch_mine")
