"""Operations across every service: the event log (``GET /admin/events``) and every dead letter
(the work queue's and each bus consumer group's, ``/admin/dlq``), for admins.

They belong to no one service: the event store and the dead letters are shared ground. The
payments process serves these routes today (it holds the work queue and the bus), at the same
URLs, so the gateway routes ``/admin/dlq`` and ``/admin/events`` to it.
"""
