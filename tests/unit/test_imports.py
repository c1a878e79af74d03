"""Which part of the store may import which: the layering the layout promises, checked on every
import statement in ``src/gamestore`` (those inside functions and ``TYPE_CHECKING`` included).

- ``platform`` is the bottom layer: it imports no service.
- A service imports the platform, the migrations runner, itself, and of another service only
  its published event contracts (``<service>.events``) — plus the ports listed in ``PORTS``.
- The gateway knows the services only by their URLs (and the process registry, for status).
- The PSP simulator plays another company: it imports nothing of the store but the two
  product-free pieces in ``SIMULATOR_MAY_USE``, and nothing of the store imports it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
SERVICES = {"users", "games", "payments", "notifications", "search", "operations"}
PORTS = {
    # the games app serves search results: it reads the index through the search port
    ("games", "gamestore.search.index"),
    # the payments process serves the operations routes (composition root only)
    ("payments.bootstrap", "gamestore.operations"),
}
SIMULATOR_MAY_USE = {
    "gamestore.migrations",  # its database's schema history runs with the store's others
    "gamestore.platform.uvicorn_serving",  # "uvicorn until a stop event": asyncio and uvicorn
}


def imports() -> Iterator[tuple[str, str]]:
    """(importing module, imported module) for every ``gamestore`` import in the sources."""
    for path in (SRC / "gamestore").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            yield from ((module, name) for name in names if name.split(".")[0] == "gamestore")


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def allowed_port(importer: str, imported: str) -> bool:
    local = importer.removeprefix("gamestore.")
    return any(
        (local == who or local.startswith(f"{who}.") or part(importer) == who)
        and (imported == port or imported.startswith(f"{port}."))
        for who, port in PORTS
    )


def test_the_sources_are_read() -> None:
    found = list(imports())
    assert len(found) > 500
    assert ("gamestore.games.saga", "gamestore.payments.events") in found


def test_the_platform_imports_no_service() -> None:
    wrong = [(a, b) for a, b in imports() if part(a) == "platform" and part(b) in SERVICES]
    assert wrong == []


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_knows_another_only_by_its_event_contracts(service: str) -> None:
    wrong = [
        (a, b)
        for a, b in imports()
        if part(a) == service
        and part(b) in SERVICES - {service}
        and not b.endswith(".events")
        and not allowed_port(a, b)
    ]
    assert wrong == []


def test_the_gateway_knows_no_service_code() -> None:
    wrong = [(a, b) for a, b in imports() if part(a) == "gateway" and part(b) in SERVICES]
    assert wrong == []


def test_the_simulator_and_the_store_import_nothing_of_each_other() -> None:
    found = list(imports())
    into = [(a, b) for a, b in found if part(b) == "psp" and part(a) != "psp"]
    out = [
        (a, b)
        for a, b in found
        if part(a) == "psp" and part(b) != "psp" and b not in SIMULATOR_MAY_USE
    ]
    assert (into, out) == ([], [])


def test_the_product_free_pieces_the_simulator_uses_stay_product_free() -> None:
    """What the simulator may use imports nothing of the store's services or HTTP stack."""
    for piece in SIMULATOR_MAY_USE - {"gamestore.migrations"}:
        used = [b for a, b in imports() if a == piece]
        assert [b for b in used if b != "gamestore.platform.waiting"] == [], piece
