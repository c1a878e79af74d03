"""Standard Webhooks signatures: HMAC-SHA256 over ``id.timestamp.body``, ±5 minutes, checked
against every configured secret, so a secret can be rotated without losing webhooks signed with
the old one while both are listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError
from standardwebhooks import Webhook

from gamestore.payments.psp_wire import WEBHOOK_HEADERS
from gamestore.payments.schemas import PspWebhook
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.i18n import N_

MAX_WEBHOOK_ID = 255


REJECTED = define(
    401, "webhook_signature_invalid", N_("The webhook signature is missing, invalid or expired.")
)
MALFORMED = define(400, "webhook_malformed", N_("The webhook body is not a PSP event."))
TOO_LARGE = define(413, "webhook_too_large", N_("The webhook body is larger than 1 MiB."))


class WebhookRejected(ProblemError):
    """Not signed by the PSP with a secret we hold, or too old/new: 401. ``reason`` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(REJECTED.status, REJECTED.detail, code=REJECTED.code)
        self.reason = reason


class MalformedWebhook(ProblemError):
    """Signed, but not the wire format: 400."""

    def __init__(self, reason: str) -> None:
        super().__init__(MALFORMED.status, MALFORMED.detail, code=MALFORMED.code)
        self.reason = reason


class WebhookVerifier:
    """Checks a webhook against each secret in turn (a bad secret fails at construction)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is needed")
        self._webhooks = [Webhook(secret) for secret in secrets]

    def verify(self, body: bytes, headers: Mapping[str, str]) -> tuple[str, PspWebhook]:
        """The webhook id and the parsed body; :class:`WebhookRejected` or
        :class:`MalformedWebhook`."""
        signed = {name: headers.get(name, "") for name in WEBHOOK_HEADERS}
        if not all(signed.values()):
            raise WebhookRejected("missing webhook headers")
        reasons = [self._check(webhook, body, signed) for webhook in self._webhooks]
        if all(reasons):
            raise WebhookRejected(reasons[0] or "no matching signature")
        webhook_id = signed["webhook-id"]
        if len(webhook_id) > MAX_WEBHOOK_ID:
            raise MalformedWebhook("webhook-id too long")
        try:
            return webhook_id, PspWebhook.model_validate_json(body)
        except ValidationError as error:
            raise MalformedWebhook(f"{error.error_count()} validation errors") from None

    @staticmethod
    def _check(webhook: Webhook, body: bytes, headers: dict[str, str]) -> str:
        """'' when ``webhook``'s secret signed it; else why not (any library error counts:
        it raises ValueError for a signature without a comma, binascii errors for bad base64)."""
        try:
            webhook.verify(body, headers, json_parse=False)
        except Exception as error:
            return f"{type(error).__name__}: {str(error)[:100]}"
        return ""


def rejection(error: WebhookRejected | MalformedWebhook) -> str:
    """The metric label of a refusal: one of a few words, never the library's message."""
    if isinstance(error, MalformedWebhook):
        return "malformed"
    if error.reason == "missing webhook headers":
        return "missing_headers"
    return "timestamp" if "timestamp" in error.reason.lower() else "signature"
