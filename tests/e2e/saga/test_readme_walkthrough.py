"""README's "Try it" runs as written: its shell block, pasted into bash against a running store
with the demo catalog, registers, logs in, searches, buys and finds the game in the library."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.e2e.stack import Stack

README = Path(__file__).resolve().parents[3] / "README.md"
MARKER = "<!-- walkthrough:"
WITCHER = "The Witcher 3: Wild Hunt"


def walkthrough() -> str:
    """The ```sh block right after the walkthrough marker."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    found = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert found, "README: no sh block after the walkthrough marker"
    return found.group(1)


@pytest.fixture(scope="module")
def demo_catalog(saga_stack: Stack) -> Stack:
    seeded = saga_stack.cli("seed", "--games", "20", timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=saga_stack.gateway_url, timeout=10) as http:
        while not http.get("/jogos/busca", params={"q": "witcer"}).json()["items"]:
            assert time.monotonic() < deadline, "the demo catalog was not searchable in 30 s"
            time.sleep(0.2)
    return saga_stack


def test_the_readme_walkthrough_runs_as_written(demo_catalog: Stack) -> None:
    if shutil.which("jq") is None:
        if REQUIRE_SERVICES:
            pytest.fail("jq is not installed and GAMESTORE_REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip("jq is not installed (apt-get install jq)")
    env = {**os.environ, "STORE": demo_catalog.gateway_url}
    script = "set -euo pipefail\n" + walkthrough()
    ran = subprocess.run(
        ["bash", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, f"stdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    out = ran.stdout
    assert f'"title": "{WITCHER}"' in out  # the typo-tolerant search
    assert re.search(r"order [0-9a-f-]{36}: completed", out), out
    assert f'"{WITCHER}"' in out.split("completed", 1)[1]  # in the library
    last = json.loads(out[out.rindex("{") :])  # the error, in the language asked for
    assert last["status"] == 409
    assert last["code"] == "email_taken"
    assert "already" in last["detail"]
