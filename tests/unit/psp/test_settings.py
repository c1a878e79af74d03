"""The PSP's own settings: defaults, derived addresses, the retry schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from gamestore.psp.settings import PspSettings


def test_defaults_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "PSP_URL",
        "PSP_DB_URL",
        "PSP_WEBHOOK_URL",
        "PSP_WEBHOOK_RETRY_DELAYS",
        "PSP_LATENCY_MS",
    ):
        monkeypatch.delenv(f"GAMESTORE_{name}", raising=False)
    monkeypatch.setenv("GAMESTORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GAMESTORE_PORT", "9100")
    settings = PspSettings()
    assert settings.db_url == f"sqlite:///{tmp_path / 'psp.db'}"
    assert settings.webhook_url == "http://127.0.0.1:9100/webhooks/psp"
    assert settings.listen == ("127.0.0.1", 8004)
    assert settings.retry_delays == (1, 2, 5, 10, 30, 60)
    assert settings.psp_latency_ms == 0


def test_explicit_values_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMESTORE_PSP_URL", "http://0.0.0.0:9004")
    monkeypatch.setenv("GAMESTORE_PSP_WEBHOOK_SECRET", "whsec_c2VjcmV0")
    monkeypatch.setenv("GAMESTORE_PSP_WEBHOOK_RETRY_DELAYS", "0.5,3")
    settings = PspSettings()
    assert settings.listen == ("0.0.0.0", 9004)
    assert settings.webhook_signing_secret() == "whsec_c2VjcmV0"
    assert settings.retry_delays == (0.5, 3.0)


@pytest.mark.parametrize("delays", ["", "1,-2", "soon"])
def test_a_bad_retry_schedule_is_refused(delays: str) -> None:
    with pytest.raises(ValueError):
        _ = PspSettings(psp_webhook_retry_delays=delays).retry_delays
