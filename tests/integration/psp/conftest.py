"""PSP settings for one test: its own database and data dir, quick retries and async outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gamestore.psp.settings import PspSettings


def make_settings(tmp_path: Path, **overrides: object) -> PspSettings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "log_dir": tmp_path / "logs",
        "psp_db_url": f"sqlite:///{tmp_path / 'psp.db'}",
        "psp_webhook_url": "http://127.0.0.1:9/webhooks/psp",  # discard port: nobody listens
        "psp_webhook_retry_delays": "0.05,0.1,0.1",
        "psp_async_delay_ms": 150,
        "psp_poll_seconds": 0.02,
        **overrides,
    }
    return PspSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> PspSettings:
    return make_settings(tmp_path)
