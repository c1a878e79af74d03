"""The PSP's own settings (it is an outside system: it does not read our Settings class)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

from gamestore.psp.wire import api_key, webhook_secret


class PspSettings(BaseSettings):
    """Environment variables with the ``GAMESTORE_`` prefix, e.g. ``GAMESTORE_PSP_LATENCY_MS``."""

    model_config = SettingsConfigDict(env_prefix="GAMESTORE_", extra="ignore")

    data_dir: Path = Path("data")
    log_dir: Path = Path("logs")
    log_level: str = "INFO"
    console_log_level: str = "INFO"  # what also goes to stderr
    port: int = 8000  # the public gateway's port: where webhooks go by default
    psp_url: str = "http://127.0.0.1:8004"
    psp_db_url: str | None = None
    psp_latency_ms: int = 0
    psp_async_delay_ms: int = 500
    psp_webhook_url: str | None = None
    psp_webhook_secret: str | None = None
    psp_api_key: str | None = None
    psp_webhook_retry_delays: str = "1,2,5,10,30,60"
    psp_webhook_max_attempts: int = 100
    psp_webhook_timeout_seconds: float = 10.0
    psp_poll_seconds: float = 0.1

    @property
    def db_url(self) -> str:
        return self.psp_db_url or f"sqlite:///{self.data_dir / 'psp.db'}"

    @property
    def webhook_url(self) -> str:
        return self.psp_webhook_url or f"http://127.0.0.1:{self.port}/webhooks/psp"

    @property
    def retry_delays(self) -> tuple[float, ...]:
        """Seconds to wait after the 1st, 2nd… failed delivery; the last one repeats."""
        delays = tuple(float(part) for part in self.psp_webhook_retry_delays.split(",") if part)
        if not delays or any(delay < 0 for delay in delays):
            raise ValueError("GAMESTORE_PSP_WEBHOOK_RETRY_DELAYS: comma-separated seconds >= 0")
        return delays

    @property
    def listen(self) -> tuple[str, int]:
        """Host and port to serve on, from ``GAMESTORE_PSP_URL``."""
        parts = urlsplit(self.psp_url)
        return parts.hostname or "127.0.0.1", parts.port or 8004

    def webhook_signing_secret(self) -> str:
        """``GAMESTORE_PSP_WEBHOOK_SECRET``, else the one kept under ``<data_dir>/keys/``."""
        return self.psp_webhook_secret or webhook_secret(self.data_dir)

    def secret_api_key(self) -> str:
        """``GAMESTORE_PSP_API_KEY``, else the one kept under ``<data_dir>/keys/``: every
        ``/v1`` call must send it as ``Authorization: Bearer <key>``."""
        return self.psp_api_key or api_key(self.data_dir)
