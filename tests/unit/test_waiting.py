"""Waiting for an event with a time limit, and being told to stop meanwhile."""

from __future__ import annotations

import asyncio

import pytest

from gamestore.platform.waiting import wait_event


async def test_it_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 10) is True


async def test_a_cancellation_that_comes_as_the_event_is_set_stops_the_waiter() -> None:
    """A loop that waits for wake-ups must end when cancelled, even if a wake-up came in the
    same turn of the event loop (``asyncio.wait_for`` on Python 3.11 returns normally then)."""
    wake = asyncio.Event()
    waiting = asyncio.Event()

    async def wake_up_loop() -> None:
        while True:
            waiting.set()
            await wait_event(wake, 10)
            wake.clear()

    task = asyncio.create_task(wake_up_loop())
    await waiting.wait()
    wake.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
