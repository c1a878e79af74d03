"""Schemathesis, every check, over the public API of the running store — as anonymous, as a
player and as an admin. Thousands of generated requests, valid and invalid by the OpenAPI
document: none may get a 5xx, an undocumented status or media type, a body off its schema, a
valid request refused or an invalid one accepted. The document is the truth.

Bounded for CI (``GAMESTORE_SCHEMATHESIS_EXAMPLES`` per operation and phase, 10; seed
``GAMESTORE_SCHEMATHESIS_SEED``, 1 — set another to explore further). Excluded: deleting a user
(it would delete the account the run uses).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.api import PASSWORD, unique_email
from tests.e2e.conftest import create_admin
from tests.e2e.stack import Stack, running_stack

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = os.environ.get("GAMESTORE_SCHEMATHESIS_EXAMPLES", "10")
SEED = os.environ.get("GAMESTORE_SCHEMATHESIS_SEED", "1")
RUN_DEADLINE = 140  # seconds per run (about 60 s each); pytest's own timeout is 300
# Schemathesis itself crashing in CPython's AST validator (gh-106905, below) is not a finding
# about the store: such a run, with no check failure in it, is run once more.
TOOL_CRASH = "AST constructor recursion depth mismatch"
# The CLI, with room to recurse: on Python 3.11.7, Hypothesis describing a filter's lambda parses
# a large module deep in the stack, and CPython's AST validator (gh-106905) fails there.
CLI = (
    "import sys; sys.setrecursionlimit(20_000); "
    "from schemathesis.cli import schemathesis; schemathesis()"
)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole store, for this module alone (the runs create games, orders, accounts)."""
    with running_stack(tmp_path_factory.mktemp("schemathesis"), saga=True) as stack:
        yield stack


def _token(stack: Stack, who: str) -> str | None:
    if who == "anonymous":
        return None
    if who == "admin":
        return create_admin(stack).access_token
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        email = unique_email("fuzz")
        body = {"name": "Fuzzing Player", "email": email, "password": PASSWORD}
        assert client.post("/users", json=body).status_code == 201
        answer = client.post("/login/auth", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


@pytest.mark.parametrize("who", ["anonymous", "player", "admin"])
def test_the_store_answers_as_its_document_says(fuzzed: Stack, who: str) -> None:
    token = _token(fuzzed, who)
    command = [
        sys.executable, "-c", CLI,
        "--config-file", str(CONFIG),
        "run", f"{fuzzed.gateway_url}/openapi.json",
        "--checks", "all",
        "--max-examples", EXAMPLES,
        "--seed", SEED,
        "--workers", "2",
        "--phases", "examples,coverage,fuzzing",
        "--exclude-operation-id", "delete_user_users__user_id__delete",
        "--suppress-health-check", "all",
        "--warnings", "off",
        "--no-color",
    ]  # fmt: skip
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    for _ in range(2):
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=RUN_DEADLINE,
            check=False,
            cwd=fuzzed.root,  # where it keeps its own files
        )
        crashed = TOOL_CRASH in result.stdout + result.stderr
        if not crashed or re.search(r"- ST\d+ ", result.stdout):
            break
    report = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, report
    assert "No issues found" in result.stdout, report
