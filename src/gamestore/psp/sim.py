"""Fault injection for tests and operations: outages, latency, and the webhook delivery report.

``POST /v1/_sim/outage {seconds, status?}`` answers every charge with ``status`` (503, with a
``Retry-After`` of what is left of it, 1 to 5 s) until the outage ends (``seconds: 0`` heals);
``POST /v1/_sim/latency {ms}`` delays every charge's answer (after the charge is taken);
``GET /v1/_sim/webhooks`` lists each webhook with its delivery state. These are not part of a
real provider's API; they exist so failure paths can be exercised on purpose.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gamestore.psp.webhooks import webhook_report


@dataclass
class Controls:
    """The simulator's injected faults (in memory: a restart heals an outage)."""

    latency_ms: int = 0
    outage_until: float = 0.0
    outage_status: int = 503

    def outage(self) -> int | None:
        """The status every charge gets now, or None when the PSP is up."""
        return self.outage_status if time.monotonic() < self.outage_until else None

    def retry_after(self) -> int:
        """Whole seconds a client should wait (``Retry-After``): what is left of the outage,
        from 1 to 5 (a long outage is announced a few seconds at a time)."""
        return max(1, min(5, math.ceil(self.outage_until - time.monotonic())))


class OutageRequest(BaseModel):
    seconds: float = Field(ge=0, le=86_400)
    status: int = Field(default=503, ge=500, le=599)


class LatencyRequest(BaseModel):
    ms: int = Field(ge=0, le=600_000)


router = APIRouter(prefix="/v1/_sim", tags=["simulation controls"])


def _controls(request: Request) -> Controls:
    controls: Controls = request.app.state.controls
    return controls


@router.post("/outage")
async def set_outage(body: OutageRequest, request: Request) -> dict[str, Any]:
    """Answer every charge with ``status`` (default 503) for ``seconds``; 0 ends an outage."""
    controls = _controls(request)
    controls.outage_until = time.monotonic() + body.seconds if body.seconds else 0.0
    controls.outage_status = body.status
    return {"seconds": body.seconds, "status": body.status}


@router.post("/latency")
async def set_latency(body: LatencyRequest, request: Request) -> dict[str, Any]:
    """Add ``ms`` milliseconds to every charge (0 removes it)."""
    _controls(request).latency_ms = body.ms
    return {"ms": body.ms}


@router.get("/webhooks")
async def list_webhooks(request: Request) -> dict[str, Any]:
    """Every webhook with ``status`` (pending, delivered, failed), ``attempts`` and last error."""
    rows = await webhook_report(request.app.state.engine)
    return {"data": rows, "total": len(rows)}
