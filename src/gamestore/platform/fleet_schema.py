"""The JSON Schema of a fleet summary (:func:`gamestore.platform.fleet.summarise`): what
``gamestore status --json`` prints and the admin's ``GET /admin/status`` returns."""

from __future__ import annotations

from typing import Any


def _nullable(kind: str, description: str) -> dict[str, Any]:
    return {"type": [kind, "null"], "description": description}


def _figures(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": {"type": "number", "minimum": 0},
        "description": description,
    }


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these properties, each always present."""
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


PROCESS_SCHEMA = _record(
    {
        "name": {"type": "string", "description": "The process (`gamestore serve <name>`)."},
        "up": {"type": "boolean", "description": "It answered `/healthz`."},
        "alive": _nullable("boolean", "`/healthz` said alive (false: a loop is stuck)."),
        "ready": _nullable("boolean", "`/readyz` said ready."),
        "down": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The dependencies its `/readyz` found down.",
        },
        "state": _nullable("string", "Its state in the supervisor's status file, if any."),
        "restarts": _nullable("integer", "How often the supervisor restarted it."),
        "requests": {"type": "integer", "minimum": 0, "description": "Requests since start."},
        "requests_per_second": _nullable("number", "Requests per second since the last look."),
        "p95_ms": _nullable("number", "95th percentile of request time, since the last look."),
    }
)

FLOWS_SCHEMA = _record(
    {
        "consumer_lag_events": _figures("Events each consumer group has still to handle."),
        "consumer_lag_seconds": _figures("Age of each group's oldest unhandled event."),
        "queue_depth": _figures("Messages waiting in each work queue."),
        "queue_oldest_seconds": _figures("Age of each queue's oldest message."),
        "dead_letters": {"type": "integer", "minimum": 0, "description": "All of them."},
        "outbox_backlog": _figures("Events in each service's outbox."),
        "outbox_lag_seconds": _figures("Age of each outbox's oldest event."),
    }
)

SUMMARY_SCHEMA = _record(
    {"processes": {"type": "array", "items": PROCESS_SCHEMA}, "flows": FLOWS_SCHEMA}
)
