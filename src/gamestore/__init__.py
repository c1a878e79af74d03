"""GameStore: an event-driven game store."""

__version__ = "0.1.0"
