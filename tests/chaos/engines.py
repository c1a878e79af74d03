"""Stopping and starting the machine's real engines, always restored afterwards.

Every fault is a context manager whose exit brings the engine back and waits until it answers
again, whatever happened inside (an assertion, a timeout, Ctrl-C): a failed chaos case never
leaves PostgreSQL or RabbitMQ down for the tests after it, or for the next run.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ENGINE_TIMEOUT = 90.0


def _run(*argv: str, timeout: float = 120.0) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=timeout)


def answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


def wait_until_answers(port: int, timeout: float = ENGINE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not answers(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers on port {port} after {timeout:.0f} s")
        time.sleep(0.2)


class PostgreSQL:
    """The local cluster, driven by ``pg_ctlcluster`` (Debian's wrapper)."""

    PORT = 5432

    @staticmethod
    def _cluster(action: str) -> None:
        version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
        _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action)

    @classmethod
    def start(cls) -> None:
        if not answers(cls.PORT):
            cls._cluster("start")
        wait_until_answers(cls.PORT)

    @classmethod
    def restart(cls) -> None:
        try:
            cls._cluster("restart")
        finally:
            cls.start()

    @classmethod
    @contextlib.contextmanager
    def stopped(cls) -> Iterator[None]:
        """PostgreSQL down (fast shutdown: sessions are terminated) for the block."""
        try:
            cls._cluster("stop")
            yield
        finally:
            cls.start()


class RabbitMQ:
    """The local broker's application, stopped and started with ``rabbitmqctl``."""

    PORT = 5672

    @classmethod
    def start(cls) -> None:
        if not answers(cls.PORT):
            try:
                _run("rabbitmqctl", "-q", "start_app")
            except subprocess.CalledProcessError:  # the node itself is down, not only the app
                _run("rabbitmq-server", "-detached")
        wait_until_answers(cls.PORT)

    @classmethod
    @contextlib.contextmanager
    def stopped(cls) -> Iterator[None]:
        """``stop_app`` for the block: connections are closed, the node keeps running."""
        try:
            _run("rabbitmqctl", "-q", "stop_app")
            yield
        finally:
            cls.start()


def ensure_engines_up() -> None:
    """Start whichever engine a previous (interrupted) run left down."""
    PostgreSQL.start()
    RabbitMQ.start()
