"""The supervisor's look at a process's ``/healthz``: a process whose loop is stuck is alive
to the OS but useless, and only a restart cures it (Kubernetes' liveness probe does the same).

:func:`watch` asks every ``interval`` seconds; ``strikes`` answers of 503 in a row mean stuck.
No answer at all (not listening yet, or busy) is not a strike: a process that cannot answer is
either starting or will be seen exiting by the supervisor itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from gamestore.platform.waiting import wait_event


@dataclass(frozen=True, slots=True)
class LivenessProbe:
    """How often ``/healthz`` is asked, how long an answer may take, how many 503 in a row
    mean the process is stuck."""

    interval: float = 5.0
    timeout: float = 2.0
    strikes: int = 3


async def watch(
    url: str,
    stuck: Callable[[str], None],
    stop: asyncio.Event,
    probe: LivenessProbe = LivenessProbe(),
) -> None:
    """Ask ``url``/healthz until ``stop``; call ``stuck`` with what it said once it answered
    503 ``probe.strikes`` times in a row, then stop watching."""
    timeout = aiohttp.ClientTimeout(total=probe.timeout)
    strikes = 0
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not await wait_event(stop, probe.interval):
            status, said = await _ask(session, f"{url}/healthz")
            if status == 503:
                strikes += 1
            elif status is not None:
                strikes = 0
            if strikes >= probe.strikes:
                return stuck(said)


async def _ask(session: aiohttp.ClientSession, url: str) -> tuple[int | None, str]:
    """The status of the answer (None: no answer) and, for a 503, what it said."""
    try:
        async with session.get(url) as response:
            if response.status != 503:
                return response.status, ""
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None, ""
    loops = body.get("loops", {}) if isinstance(body, dict) else {}
    stalled = [name for name, loop in loops.items() if loop.get("state") == "stalled"]
    return 503, f"stalled: {', '.join(stalled)}" if stalled else "/healthz answered 503"
