"""The operations routes as one router, for the process that serves them to mount."""

from __future__ import annotations

from fastapi import APIRouter

from gamestore.operations.dead_letters_api import router as dead_letters_router
from gamestore.operations.events_api import router as events_router

router = APIRouter()
router.include_router(dead_letters_router)
router.include_router(events_router)
