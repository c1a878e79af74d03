"""What the operations routes read, installed by the process that serves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from gamestore.platform.dlq import DeadLetters
from gamestore.platform.eventstore import EventStore
from gamestore.platform.http.state import state_of


@dataclass(frozen=True)
class OperationsState:
    """The dead letters of the work queue and the bus, and the event store to browse."""

    dead_letters: DeadLetters
    store: EventStore


OperationsDep = Annotated[OperationsState, Depends(state_of(OperationsState))]
