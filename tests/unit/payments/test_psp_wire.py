"""Our model of the PSP's API and the simulator's agree on the wire: two companies' code, one
HTTP contract. (The store imports nothing of the simulator; a test may read both.)"""

from __future__ import annotations

from typing import Any

from gamestore.payments import psp_wire as ours
from gamestore.psp import wire as theirs


def schema(model: type[Any]) -> dict[str, Any]:
    found: dict[str, Any] = model.model_json_schema()
    found.pop("description", None)
    found.pop("title", None)
    return found


def test_the_charge_request_we_send_is_the_one_the_psp_accepts() -> None:
    assert schema(ours.ChargeRequest) == schema(theirs.ChargeRequest)


def test_the_header_names_are_the_psps() -> None:
    assert (ours.IDEMPOTENCY_KEY, ours.IDEMPOTENT_REPLAYED, ours.REQUEST_ID) == (
        theirs.IDEMPOTENCY_KEY,
        theirs.IDEMPOTENT_REPLAYED,
        theirs.REQUEST_ID,
    )
    assert ours.WEBHOOK_HEADERS == (
        theirs.WEBHOOK_ID,
        theirs.WEBHOOK_TIMESTAMP,
        theirs.WEBHOOK_SIGNATURE,
    )
