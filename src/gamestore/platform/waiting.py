"""Waiting: for an :class:`asyncio.Event` with a time limit, and for the first of several things."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``event``; whether it is set.

    With ``asyncio.timeout``, not ``asyncio.wait_for``: on Python 3.11 ``wait_for`` swallows a
    cancellation that arrives as the event is being set, so a task told to stop would go on."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


async def first_of(
    *waits: asyncio.Future[Any] | asyncio.Task[Any], timeout: float | None = None
) -> None:
    """Wait until the first of ``waits`` is done (or ``timeout`` passes), then cancel them all
    and let them finish, also when the caller is cancelled: a wait's own clean-up (a waiter
    count, a connection) is done before the caller goes on, and none is left running. Their
    results and errors stay on them for the caller to look at. A caller that must keep one
    running (a server, a child process) passes it wrapped in :func:`asyncio.shield`."""
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


async def first_set(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Wait until one of ``events`` is set (or ``timeout`` passes)."""
    await first_of(*(asyncio.ensure_future(event.wait()) for event in events), timeout=timeout)
