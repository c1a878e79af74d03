"""first_of: the first done ends the wait; the rest are cancelled and finished, never left
running; a shielded one goes on."""

from __future__ import annotations

import asyncio

from gamestore.platform.waiting import first_of


async def test_the_first_done_ends_the_wait_and_the_rest_are_cancelled() -> None:
    quick = asyncio.ensure_future(asyncio.sleep(0, "quick"))
    slow = asyncio.ensure_future(asyncio.sleep(60))
    await first_of(quick, slow)
    assert quick.result() == "quick"
    assert slow.cancelled()


async def test_a_timeout_ends_the_wait_and_cancels_them_all() -> None:
    slow = asyncio.ensure_future(asyncio.sleep(60))
    await first_of(slow, timeout=0.01)
    assert slow.cancelled()


async def test_a_cancelled_wait_finishes_its_clean_up_before_the_caller_goes_on() -> None:
    cleaned: list[str] = []

    async def waiting() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0)
            cleaned.append("done")

    await first_of(asyncio.ensure_future(asyncio.sleep(0)), asyncio.ensure_future(waiting()))
    assert cleaned == ["done"]


async def test_cancelling_the_caller_cancels_every_wait() -> None:
    slow = asyncio.ensure_future(asyncio.sleep(60))
    caller = asyncio.ensure_future(first_of(slow))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.gather(caller, return_exceptions=True)
    assert slow.cancelled()


async def test_a_shielded_wait_goes_on() -> None:
    server = asyncio.ensure_future(asyncio.sleep(0.05, "served"))
    stop = asyncio.Event()
    stop.set()
    await first_of(asyncio.shield(server), asyncio.ensure_future(stop.wait()))
    assert await server == "served"


async def test_an_error_stays_on_its_task() -> None:
    async def failing() -> None:
        raise RuntimeError("boom")

    failed = asyncio.ensure_future(failing())
    await first_of(failed, asyncio.ensure_future(asyncio.sleep(60)))
    assert isinstance(failed.exception(), RuntimeError)
