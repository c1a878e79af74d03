"""The ``psp`` process entry point: real uvicorn, its own settings, its own TXT log."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from gamestore.psp import server
from gamestore.psp.wire import api_key, webhook_secret
from tests.integration.psp.support import charge_body, eventually, receiver
from tests.ports import free_port


async def test_main_serves_on_its_own_settings_and_logs_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    async with receiver() as hook:
        _environment(monkeypatch, tmp_path, port, hook.url)
        stop = asyncio.Event()
        running = asyncio.create_task(server.main(object(), stop))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await eventually(lambda: _healthy(client))
            headers = {"Idempotency-Key": "k", "X-Request-ID": "corr-server-1"}
            body = charge_body()
            refused = await client.post("/v1/charges", json=body, headers=headers)
            assert refused.status_code == 401  # no secret API key
            client.headers["Authorization"] = f"Bearer {api_key(tmp_path / 'data')}"
            assert (await client.post("/v1/charges", json=body, headers=headers)).status_code == 200
            assert (await client.post("/v1/charges", json=body, headers=headers)).status_code == 200
            await eventually(lambda: hook.received)
        stop.set()
        await asyncio.wait_for(running, 10)
    for kept in ("psp_webhook_secret", "psp_api_key"):
        assert stat.S_IMODE(os.stat(tmp_path / "data" / "keys" / kept).st_mode) == 0o600
    [received] = hook.received
    Webhook(webhook_secret(tmp_path / "data")).verify(received.body, received.headers)
    assert (tmp_path / "data" / "psp.db").exists()
    lines = (tmp_path / "logs" / "psp.log").read_text().splitlines()
    mine = [line for line in lines if " psp corr=corr-server-1 " in line]
    assert len([line for line in mine if "charge request" in line]) == 2
    assert any("replayed=true" in line and body["payment_id"] in line for line in mine)
    assert any("webhook delivery" in line and "result=delivered" in line for line in mine)
    assert not any("pm_card" in line or "4242" in line for line in lines)


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, port: int, hook: str) -> None:
    """The PSP's own variables; no secret, so it generates and keeps one."""
    for name, value in {
        "DATA_DIR": tmp_path / "data",
        "LOG_DIR": tmp_path / "logs",
        "PSP_URL": f"http://127.0.0.1:{port}",
        "PSP_WEBHOOK_URL": hook,
        "PSP_DB_URL": "",
        "PSP_WEBHOOK_SECRET": "",
        "PSP_API_KEY": "",
    }.items():
        monkeypatch.setenv(f"GAMESTORE_{name}", str(value))


async def _healthy(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False
