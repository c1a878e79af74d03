"""Shared building blocks (the seed's orange components): config, logs, event store, bus, queue."""
