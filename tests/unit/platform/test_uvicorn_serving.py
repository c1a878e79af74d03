"""The serving loop the PSP simulator shares with the store knows no product: importing it
loads nothing of the store but itself and its waiting."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED = {"gamestore", "gamestore.platform", "gamestore.platform.uvicorn_serving"}
ALLOWED |= {"gamestore.platform.waiting"}


def test_the_serving_loop_loads_none_of_the_store() -> None:
    script = (
        "import json, sys; import gamestore.platform.uvicorn_serving; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gamestore'))))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True
        ).stdout
    )
    assert set(loaded) <= ALLOWED, sorted(set(loaded) - ALLOWED)
