"""Typed event contracts: what a service publishes, declared once, consumed by importing it.

Each producing service keeps its contracts in its own ``events.py``::

    class GameCreated(Event):
        TYPE = "GameCreated"
        game_id: str
        title: str

    tx.emit(stream, GameCreated(game_id=..., title=...), NO_STREAM)   # the producer
    created = GameCreated.parse(recorded)                                # a consumer

A contract is a frozen pydantic model. Its payload is its own: it never reuses an HTTP schema,
so changing an API response cannot change an event. ``SCHEMA_VERSION`` starts at 1 and is stored
in the payload (as ``schema_version``) only once it is above 1, so version-1 payloads stay as
they always were. When a stored shape changes, bump the version and add an upcaster from the
old one: ``UPCASTERS = {1: lambda data: {**data, "currency": "BRL"}}`` turns a version-1 payload
into a version-2 one before it is validated, so old events in the store keep parsing.

:class:`PoisonEvent` is the one error for an event its consumer can never apply: the bus retries
it, then dead-letters it. Every contract registers itself in :data:`CATALOGUE`, from which
``docs/events.md`` is generated.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from gamestore.platform.eventstore import NewEvent, RecordedEvent

VERSION_KEY = "schema_version"

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class PoisonEvent(ValueError):
    """An event its consumer can never apply (the bus retries it, then dead-letters it)."""


CATALOGUE: dict[str, type[Event]] = {}
"""Every event contract by its type name (``docs/events.md`` lists them)."""


class Event(BaseModel):
    """The base of every event contract."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1
    UPCASTERS: ClassVar[Mapping[int, Upcaster]] = {}
    STREAM: ClassVar[str] = ""  # the stream it is emitted on, for the docs ("game-{id}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" not in cls.__dict__:
            return  # an abstract base of several contracts
        known = CATALOGUE.get(cls.TYPE)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {cls.TYPE!r} is declared twice ({known} and {cls})")
        missing = [v for v in range(1, cls.SCHEMA_VERSION) if v not in cls.UPCASTERS]
        if missing:
            raise TypeError(f"{cls.TYPE} v{cls.SCHEMA_VERSION} has no upcaster from {missing}")
        CATALOGUE[cls.TYPE] = cls

    def payload(self) -> dict[str, Any]:
        """The JSON payload stored in the event's ``data``."""
        data = self.model_dump(mode="json")
        if self.SCHEMA_VERSION > 1:
            data[VERSION_KEY] = self.SCHEMA_VERSION
        return data

    def new_event(
        self, *, event_id: uuid.UUID | None = None, causation_id: str | None = None
    ) -> NewEvent:
        """The envelope to append; give ``event_id`` when it must be derived (idempotency)."""
        if event_id is None:
            return NewEvent(self.TYPE, self.payload(), causation_id=causation_id)
        return NewEvent(self.TYPE, self.payload(), event_id=event_id, causation_id=causation_id)

    @classmethod
    def parse(cls, event: RecordedEvent | Mapping[str, Any]) -> Self:
        """The contract of a stored event (or of its ``data``), upcast to this version;
        :class:`PoisonEvent` when it is of another type or its payload does not fit."""
        if isinstance(event, RecordedEvent):
            if event.type != cls.TYPE:
                raise PoisonEvent(f"{event.type} event where {cls.TYPE} was expected")
            data: Mapping[str, Any] = event.data
        else:
            data = event
        if not isinstance(data, Mapping):
            raise PoisonEvent(f"{cls.TYPE} payload is not an object")
        payload = dict(data)
        version = payload.pop(VERSION_KEY, 1)
        if not isinstance(version, int) or not 1 <= version <= cls.SCHEMA_VERSION:
            raise PoisonEvent(f"{cls.TYPE} payload has an unknown schema version {version!r}")
        for older in range(version, cls.SCHEMA_VERSION):
            payload = cls.UPCASTERS[older](payload)
        try:
            return cls.model_validate(payload)
        except ValidationError as error:
            raise PoisonEvent(f"{cls.TYPE} payload does not fit its contract: {error}") from None


def contract_of(type_name: str) -> type[Event] | None:
    """The contract registered for ``type_name`` (None for an unknown type)."""
    return CATALOGUE.get(type_name)
