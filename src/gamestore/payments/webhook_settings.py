"""The webhook secrets payments verifies the PSP's signatures with, from :class:`Settings`."""

from __future__ import annotations

import base64
import secrets

from gamestore.platform.config import Settings, kept_secret


def configured_secrets(settings: Settings) -> list[str]:
    """``GAMESTORE_PSP_WEBHOOK_SECRETS`` (comma-separated, for rotation), else the PSP's own
    ``GAMESTORE_PSP_WEBHOOK_SECRET``, else the secret kept under ``<data_dir>/keys/``."""
    listed = _text(settings.psp_webhook_secrets)
    found = [part.strip() for part in listed.split(",") if part.strip()]
    single = _text(settings.psp_webhook_secret).strip()
    if found or single:
        return found or [single]
    return [kept_secret(settings.data_dir / "keys" / "psp_webhook_secret", new_webhook_secret)]


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _text(secret: object) -> str:
    value = getattr(secret, "get_secret_value", None)
    return str(value()) if value is not None else ""
