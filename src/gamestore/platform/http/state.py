"""Route dependencies for the objects a service keeps on ``app.state``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request


def app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency that returns ``request.app.state.<name>``; type it with ``Annotated``.

    It is a coroutine function on purpose: FastAPI runs a plain function dependency in a worker
    thread, which would cost a thread hop per request for one attribute read."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    dependency.__name__ = dependency.__qualname__ = f"app_state_{name}"
    return dependency
