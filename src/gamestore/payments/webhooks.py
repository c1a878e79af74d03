"""``POST /webhooks/psp``: the PSP's signed webhooks, verified, deduplicated and stored
(``payments.webhook_inbox``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gamestore.payments.state import PaymentsDep
from gamestore.platform.http.openapi import problems

router = APIRouter()


@router.post("/webhooks/psp", status_code=204, tags=["webhooks"], responses=problems(400, 401, 413))
async def psp_webhook(request: Request, state: PaymentsDep) -> Response:
    """Where the PSP reports charge outcomes (Standard Webhooks signature, no token).

    204 once the webhook is stored (a duplicate `webhook-id` too); 401 for a missing, invalid or
    rotated-out signature or a timestamp more than 5 minutes off; 400 for a signed body that is
    not a PSP event; 413 over 1 MiB."""
    await state.webhooks.accept(await request.body(), request.headers)
    return Response(status_code=204)
