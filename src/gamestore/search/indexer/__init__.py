"""The ``indexer`` process: keeps the search index in step with the catalog and purchases.

It consumes the consumer group ``indexer`` on the bus, a page of events at a time (one index
commit per page; the embedded index pays ~15 ms per commit):

- ``GameCreated`` / ``GameUpdated`` → ``upsert`` of the game's document at the event's stream
  version; ``GameDeleted`` → ``delete`` at its version. The index's version table makes these
  idempotent: a stale or duplicated delivery (RabbitMQ may reorder redeliveries) changes nothing.
- ``PurchaseCompleted`` → one more purchase of ``data.game_id`` (the ``popular`` sort and
  ``/jogos/populares``). Popularity is a counter, not versioned, so the indexer keeps an inbox in
  its OWN database (``settings.database_url("indexer")``): the event id is claimed and the
  purchase counted in ``purchases`` in one transaction, and the index is told inside that
  transaction, before it commits. A redelivery finds the claim and changes nothing.

  The one window left: the process dies after the index committed the increment and before the
  inbox transaction committed. The event is then delivered again, its claim is gone with the
  rolled-back transaction, and the purchase is counted twice in the index (once per such crash,
  for the single event in flight). The other order would lose a purchase instead; a popularity
  ranking prefers the rare extra count. ``purchases`` (committed with the claim) never
  double-counts: it is the exact tally, and ``gamestore reindex`` recounts from the event store.

An event the indexer can never apply (a purchase without a valid ``game_id``, a game document
that does not parse) raises the shared :class:`~gamestore.platform.events.PoisonEvent`; the bus
retries it, then dead-letters it and moves on.

Modules: :mod:`.tables` (its own database), :mod:`.documents` (game event → search document),
:mod:`.handler` (the event handler), :mod:`.bootstrap` (the process's ``main``).
"""
