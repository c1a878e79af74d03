"""The Payment aggregate without I/O: fold, decisions, first terminal outcome wins, derived ids."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from gamestore.payments.domain import (
    AMOUNT_MISMATCH,
    PROCESSING_ERROR,
    UNKNOWN_CHARGE,
    ChargeFacts,
    Outcome,
    Payment,
    decide_attempt,
    decide_dead_letter,
    decide_outcome,
    decide_processing,
    decide_reopen,
    derived_id,
    fold,
    requested,
    stream_of,
)
from gamestore.payments.events import (
    PaymentAnomalyRecorded,
    PaymentDeadLettered,
    PaymentFailed,
    PaymentReopened,
    PaymentSucceeded,
)
from gamestore.platform.eventstore import NewEvent, RecordedEvent

PAYMENT_ID = str(uuid.uuid4())
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
REQUEST = {
    "payment_id": PAYMENT_ID,
    "order_id": str(uuid.uuid4()),
    "user_id": str(uuid.uuid4()),
    "game_id": str(uuid.uuid4()),
    "game_title": "Celeste",
    "amount_cents": 4990,
    "currency": "BRL",
    "payment_method": "pm_card_visa",
}
SUCCESS = Outcome(True, "worker", "worker:attempt-1", charge_id="ch_1")
DECLINE = Outcome(False, "webhook", "webhook:wh_1", charge_id="ch_1", reason="card_declined")


def record(events: Sequence[NewEvent], before: Sequence[RecordedEvent] = ()) -> list[RecordedEvent]:
    """``events`` as the store would record them after ``before``."""
    recorded = list(before)
    for event in events:
        version = len(recorded) + 1
        recorded.append(
            RecordedEvent(
                position=version,
                event_id=event.event_id,
                stream_id=stream_of(PAYMENT_ID),
                version=version,
                type=event.type,
                data=dict(event.data),
                occurred_at=T0 + timedelta(seconds=version),
                correlation_id="corr-1",
                causation_id=None,
            )
        )
    return recorded


def folded(events: Iterable[RecordedEvent]) -> Payment:
    payment = fold(events)
    assert payment is not None
    return payment


def then(stream: list[RecordedEvent], decided: Sequence[NewEvent]) -> list[RecordedEvent]:
    return record(decided, stream)


@pytest.fixture
def started() -> list[RecordedEvent]:
    return record([requested(REQUEST)])


def test_an_empty_stream_is_no_payment() -> None:
    assert fold([]) is None


def test_a_stream_must_start_with_the_request() -> None:
    with pytest.raises(ValueError):
        fold(record([NewEvent(PaymentSucceeded.TYPE, {"payment_id": PAYMENT_ID})]))


def test_a_requested_payment_is_pending_and_public_hides_the_method(
    started: list[RecordedEvent],
) -> None:
    payment = folded(started)
    assert (payment.status, payment.version, payment.attempts) == ("pending", 1, 0)
    assert payment.correlation_id == "corr-1"
    public = payment.public()
    assert "payment_method" not in public and "pm_card_visa" not in str(public)
    assert public["history"] == [{"type": "PaymentRequested", "at": "2026-01-02T03:04:06Z"}]
    assert public["amount_cents"] == 4990 and public["failure_reason"] is None


def test_attempts_and_processing_fold(started: list[RecordedEvent]) -> None:
    stream = then(started, decide_attempt(folded(started), 1, "transient", "boom"))
    assert (folded(stream).status, folded(stream).attempts) == ("processing", 1)
    stream = then(stream, decide_processing(folded(stream), "ch_9"))
    assert (folded(stream).status, folded(stream).charge_id) == ("processing", "ch_9")
    assert decide_processing(folded(stream), "ch_9") == []  # the same charge twice: nothing


def test_success_then_same_success_appends_nothing(started: list[RecordedEvent]) -> None:
    decided = decide_outcome(folded(started), SUCCESS)
    assert [e.type for e in decided] == [PaymentSucceeded.TYPE]
    assert decided[0].event_id == derived_id(PAYMENT_ID, SUCCESS.cause)
    assert decided[0].data["source"] == "worker" and decided[0].data["charge_id"] == "ch_1"
    stream = then(started, decided)
    assert folded(stream).status == "succeeded"
    again = Outcome(True, "webhook", "webhook:wh_2", charge_id="ch_1")
    assert decide_outcome(folded(stream), again) == []


def test_failure_records_its_reason(started: list[RecordedEvent]) -> None:
    decided = decide_outcome(folded(started), DECLINE)
    assert [e.type for e in decided] == [PaymentFailed.TYPE]
    payment = folded(then(started, decided))
    assert (payment.status, payment.failure_reason) == ("failed", "card_declined")


def test_first_terminal_outcome_wins_a_contradiction_is_an_anomaly(
    started: list[RecordedEvent],
) -> None:
    stream = then(started, decide_outcome(folded(started), SUCCESS))
    anomaly = decide_outcome(folded(stream), DECLINE)
    assert [e.type for e in anomaly] == [PaymentAnomalyRecorded.TYPE]
    assert anomaly[0].data == {
        "payment_id": PAYMENT_ID,
        "kept": "succeeded",
        "ignored": "failed:card_declined",
        "source": "webhook",
        "reason": "contradicts_outcome",
        "charge_id": "ch_1",
    }
    assert anomaly[0].event_id == derived_id(PAYMENT_ID, DECLINE.cause)
    after = folded(then(stream, anomaly))
    assert after.status == "succeeded" and after.version == 3


def test_a_success_after_a_failure_is_an_anomaly_too(started: list[RecordedEvent]) -> None:
    stream = then(started, decide_outcome(folded(started), DECLINE))
    anomaly = decide_outcome(folded(stream), SUCCESS)
    assert [(e.type, e.data["kept"], e.data["ignored"]) for e in anomaly] == [
        (PaymentAnomalyRecorded.TYPE, "failed", "succeeded")
    ]


def test_derived_ids_are_stable_and_distinct() -> None:
    assert derived_id(PAYMENT_ID, "a") == derived_id(PAYMENT_ID, "a")
    assert derived_id(PAYMENT_ID, "a") != derived_id(PAYMENT_ID, "b")
    assert derived_id(PAYMENT_ID, "a") != derived_id(str(uuid.uuid4()), "a")
    first = decide_attempt(folded(record([requested(REQUEST)])), 2, "declined")
    second = decide_attempt(folded(record([requested(REQUEST)])), 2, "declined")
    assert first[0].event_id == second[0].event_id


def test_attempt_errors_are_truncated(started: list[RecordedEvent]) -> None:
    decided = decide_attempt(folded(started), 1, "transient", "x" * 5000)
    assert len(decided[0].data["error"]) == 500


def test_dead_letter_fails_with_processing_error_once(started: list[RecordedEvent]) -> None:
    decided = decide_dead_letter(folded(started), 5, "psp down")
    assert [e.type for e in decided] == [PaymentDeadLettered.TYPE, PaymentFailed.TYPE]
    stream = then(started, decided)
    payment = folded(stream)
    assert (payment.status, payment.failure_reason, payment.dead_lettered) == (
        "failed",
        PROCESSING_ERROR,
        True,
    )
    assert decide_dead_letter(payment, 5, "psp down") == []


def test_dead_letter_after_an_outcome_keeps_the_outcome(started: list[RecordedEvent]) -> None:
    stream = then(started, decide_outcome(folded(started), SUCCESS))
    decided = decide_dead_letter(folded(stream), 5, "late")
    assert [e.type for e in decided] == [PaymentDeadLettered.TYPE]
    assert folded(then(stream, decided)).status == "succeeded"


def test_reopen_only_a_dead_lettered_processing_error(started: list[RecordedEvent]) -> None:
    assert decide_reopen(folded(started)) == []
    declined = then(started, decide_outcome(folded(started), DECLINE))
    assert decide_reopen(folded(declined)) == []
    dead = then(started, decide_dead_letter(folded(started), 5, "psp down"))
    reopened = decide_reopen(folded(dead))
    assert [e.type for e in reopened] == [PaymentReopened.TYPE]
    payment = folded(then(dead, reopened))
    assert (payment.status, payment.failure_reason, payment.epoch) == ("pending", None, 1)
    assert not payment.dead_lettered and not payment.terminal


def test_a_reopened_payment_gets_fresh_ids_for_its_new_epoch(started: list[RecordedEvent]) -> None:
    dead = then(started, decide_dead_letter(folded(started), 5, "psp down"))
    before = decide_attempt(folded(dead), 1, "transient")
    reopened = then(dead, decide_reopen(folded(dead)))
    after = decide_attempt(folded(reopened), 1, "transient")
    assert before[0].event_id != after[0].event_id
    second_dead = decide_dead_letter(folded(reopened), 5, "again")
    assert [e.type for e in second_dead] == [PaymentDeadLettered.TYPE, PaymentFailed.TYPE]


def test_unknown_event_types_change_nothing_but_the_version(
    started: list[RecordedEvent],
) -> None:
    stream = then(started, [NewEvent("PaymentNoteAdded", {"payment_id": PAYMENT_ID})])
    payment = folded(stream)
    assert (payment.status, payment.version) == ("pending", 2)


def test_only_the_payment_s_own_charge_of_its_amount_reconciles(
    started: list[RecordedEvent],
) -> None:
    """A charge the worker recorded, or one under one of the payment's keys, of its amount and
    currency, is the payment's; a charge of another amount never is, whoever made it."""
    stream = then(started, decide_attempt(folded(started), 1, "processing", charge_id="ch_mine"))
    payment = folded(stream)
    assert payment.charges == {"ch_mine"}
    assert payment.reconcile(ChargeFacts("ch_mine", 4990, "BRL")) is None
    assert payment.reconcile(ChargeFacts("ch_mine", 0, "BRL")) == AMOUNT_MISMATCH
    assert payment.reconcile(ChargeFacts("ch_mine", 4990, "USD")) == AMOUNT_MISMATCH
    assert payment.reconcile(ChargeFacts("ch_mine", None, None)) == AMOUNT_MISMATCH
    assert payment.reconcile(ChargeFacts("ch_other", 4990, "BRL")) == UNKNOWN_CHARGE
    assert payment.reconcile(ChargeFacts("ch_other", 4990, "BRL", "someone-else")) == (
        UNKNOWN_CHARGE
    )
    assert payment.reconcile(ChargeFacts("ch_lost", 4990, "BRL", PAYMENT_ID)) is None
    assert payment.reconcile(ChargeFacts("ch_lost", 1, "BRL", PAYMENT_ID)) == AMOUNT_MISMATCH


def test_an_unreconciled_outcome_is_an_anomaly_that_changes_nothing(
    started: list[RecordedEvent],
) -> None:
    forged = Outcome(True, "webhook", "webhook:wh_x", charge_id="ch_x", anomaly=AMOUNT_MISMATCH)
    [anomaly] = decide_outcome(folded(started), forged)
    assert anomaly.type == PaymentAnomalyRecorded.TYPE
    assert anomaly.data["reason"] == AMOUNT_MISMATCH and anomaly.data["charge_id"] == "ch_x"
    assert anomaly.data["kept"] == "pending" and anomaly.data["ignored"] == "succeeded"
    stream = then(started, [anomaly])
    assert folded(stream).status == "pending" and folded(stream).charges == frozenset()
    assert decide_outcome(folded(stream), forged)[0].event_id == anomaly.event_id  # same cause
