"""The event the notifier publishes, on the stream ``notification-{notification_id}``."""

from __future__ import annotations

from gamestore.platform.events import Event


class NotificationSent(Event):
    """A player was told something: which notification, of which kind, caused by which event.
    The message itself stays in the notifier (it is read through ``GET /notificacoes``)."""

    TYPE = "NotificationSent"
    STREAM = "notification-{notification_id}"
    notification_id: str
    user_id: str
    type: str
    cause_event_id: str
