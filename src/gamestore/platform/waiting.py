"""Waiting: for an :class:`asyncio.Event` with a time limit, and for the first of several things."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``event``; whether it is set.

    With ``asyncio.timeout``, not ``asyncio.wait_for``: on Python 3.11 ``wait_for`` swallows a
    cancellation that arrives as the event is being set, so a task told to stop would go on."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


async def first_of(
    *waits: asyncio.Future[object] | asyncio.Task[object], timeout: float | None = None
) -> None:
    """Wait until the first of ``waits`` is done (or ``timeout`` passes), then cancel the
    rest. A caller that must keep one of them running passes it wrapped in
    :func:`asyncio.shield`."""
    _, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
