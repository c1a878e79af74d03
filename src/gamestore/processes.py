"""The process registry: every process ``gamestore up`` starts and ``gamestore serve`` runs.

One explicit table. A process is an ``async def main(settings, stop)`` that runs until the
``stop`` event is set, then returns; ``enabled`` says whether the settings call for it (a
RabbitMQ publisher is pointless when the event store itself is the bus).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from gamestore.platform.config import scheme

if TYPE_CHECKING:
    import asyncio

    from gamestore.platform.config import Settings

ProcessMain = Callable[["Settings", "asyncio.Event"], Awaitable[None]]


def _always(settings: Settings) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One registered process. ``target`` is ``"module:function"``, imported only when run."""

    name: str
    target: str
    enabled: Callable[[Settings], bool] = _always
    port: int | Callable[[Settings], int] | None = None
    ops: str | None = None
    """The name whose URL (``service_url``) gets a listener of its own for ``/healthz``,
    ``/readyz`` and ``/metrics``; None when the process answers them on its service port."""

    def load(self) -> ProcessMain:
        """Import the process's ``main`` (nothing is imported before a process runs)."""
        module_name, _, function = self.target.partition(":")
        if not module_name or not function:
            raise ValueError(f"target of {self.name!r} must be 'module:function': {self.target!r}")
        module = importlib.import_module(module_name)
        return cast(ProcessMain, getattr(module, function))

    def port_for(self, settings: Settings) -> int | None:
        """The TCP port this process listens on under ``settings`` (None: no listener)."""
        return self.port(settings) if callable(self.port) else self.port


def _bus_is_rabbitmq(settings: Settings) -> bool:
    return scheme(settings.bus_url) in ("amqp", "amqps")


def _public_port(settings: Settings) -> int:
    return settings.port


def _port_of(service: str) -> Callable[[Settings], int]:
    """The port ``service`` listens on: the one in ``GAMESTORE_<SERVICE>_URL`` or its default."""

    def port(settings: Settings) -> int:
        from urllib.parse import urlsplit

        from gamestore.platform.config import SERVICE_PORTS, service_url

        return urlsplit(service_url(service)).port or SERVICE_PORTS[service]

    return port


REGISTRY: tuple[ProcessSpec, ...] = (
    ProcessSpec(
        name="bus-publisher",
        target="gamestore.platform.bus.publisher:main",
        enabled=_bus_is_rabbitmq,
        port=_port_of("bus-publisher"),
        ops="bus-publisher",
    ),
    ProcessSpec(name="users", target="gamestore.users.bootstrap:main", port=_port_of("users")),
    ProcessSpec(name="games", target="gamestore.games.bootstrap:main", port=_port_of("games")),
    ProcessSpec(
        name="indexer",
        target="gamestore.search.indexer.bootstrap:main",
        port=_port_of("indexer"),
        ops="indexer",
    ),
    ProcessSpec(name="psp", target="gamestore.psp.server:main", port=_port_of("psp")),
    ProcessSpec(
        name="payments", target="gamestore.payments.bootstrap:main", port=_port_of("payments")
    ),
    ProcessSpec(
        name="payment-worker",
        target="gamestore.payments.bootstrap:worker_main",
        port=_port_of("payment-worker"),
        ops="payment-worker",
    ),
    ProcessSpec(
        name="webhook-function",
        target="gamestore.payments.bootstrap:webhook_function_main",
        port=_port_of("webhook-function"),
        ops="webhook-function",
    ),
    ProcessSpec(
        name="notifier", target="gamestore.notifications.bootstrap:main", port=_port_of("notifier")
    ),
    ProcessSpec(
        name="gateway",
        target="gamestore.gateway.bootstrap:main",
        port=_public_port,
    ),
)
"""Every process, in start order."""

PROCESSES: dict[str, ProcessSpec] = {spec.name: spec for spec in REGISTRY}


class UnknownProcess(KeyError):
    """No process of that name is registered."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        known = ", ".join(PROCESSES) or "none"
        return f"no process named {self.name!r} (known: {known})"


def get_process(name: str) -> ProcessSpec:
    """The registered process called ``name``; :class:`UnknownProcess` otherwise."""
    try:
        return PROCESSES[name]
    except KeyError:
        raise UnknownProcess(name) from None


def enabled_processes(settings: Settings) -> list[ProcessSpec]:
    """The processes these settings call for, in start order."""
    return [spec for spec in REGISTRY if spec.enabled(settings)]


def ops_url(name: str, replica: int | None = None) -> str:
    """Where process ``name`` answers ``/healthz``, ``/readyz`` and ``/metrics``: an HTTP
    service on its own port, the gateway on its ops port (its public one has no metrics), any
    other process on the small listener it runs for that. ``replica``: that replica's (by
    default this process's own replica index)."""
    from gamestore.platform.config import replica_url, service_url

    if name == "gateway":  # its main serves it beside the public port (gateway/bootstrap.py)
        listed = "gateway-ops"
    else:
        spec = PROCESSES.get(name)
        listed = spec.ops if spec is not None and spec.ops else name
    return service_url(listed) if replica is None else replica_url(listed, replica)


def replica_name(name: str, index: int) -> str:
    """How replica ``index`` of process ``name`` is called in output and log files:
    ``games``, then ``games-2``, ``games-3``…"""
    return name if index == 0 else f"{name}-{index + 1}"


def deployment(settings: Settings) -> dict[str, str]:
    """The processes these settings run, and where each answers for itself."""
    return {spec.name: ops_url(spec.name) for spec in enabled_processes(settings)}
