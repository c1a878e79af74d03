"""A service's typed state on its app, and the route dependency that hands it out.

Each service declares one frozen dataclass of what its routes use, puts it on the app once,
and its routes ask for it by type::

    @dataclass(frozen=True)
    class UsersState:
        accounts: Accounts
        sessions: Sessions

    install(app, UsersState(accounts, sessions))                    # bootstrap.py
    UsersDep = Annotated[UsersState, Depends(state_of(UsersState))]   # api.py

A route that names a state its app never installed fails loudly on first use, not with an
``AttributeError`` deep in a handler; mypy checks every attribute a route reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request

S = TypeVar("S")


def install(app: FastAPI, state: object) -> None:
    """Keep ``state`` on ``app``, found by its type (one state object per type)."""
    states: dict[type[Any], object] = app.state._state.setdefault("typed", {})
    states[type(state)] = state


def installed(app: FastAPI, kind: type[S]) -> S:
    """The ``kind`` state installed on ``app``; LookupError if there is none."""
    states: dict[type[Any], Any] = app.state._state.get("typed", {})
    try:
        found: S = states[kind]
    except KeyError:
        raise LookupError(f"{app.title} has no {kind.__name__} installed") from None
    return found


def state_of(kind: type[S]) -> Callable[[Request], Awaitable[S]]:
    """A route dependency that returns the app's ``kind`` state.

    It is a coroutine function on purpose: FastAPI runs a plain function dependency in a worker
    thread, which would cost a thread hop per request for one attribute read."""

    async def dependency(request: Request) -> S:
        return installed(request.app, kind)

    dependency.__name__ = dependency.__qualname__ = f"state_of_{kind.__name__}"
    return dependency
