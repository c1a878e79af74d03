"""What the games routes use, installed once on the app by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from gamestore.games.catalog import Catalog
from gamestore.games.covers.service import Covers
from gamestore.games.library import Libraries
from gamestore.games.orders import Orders
from gamestore.platform.idempotency import Idempotency


@dataclass(frozen=True)
class GamesState:
    catalog: Catalog
    covers: Covers
    libraries: Libraries
    orders: Orders
    idempotency: Idempotency
