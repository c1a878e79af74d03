"""Game search, a subsystem of its own: the index (:mod:`.index`, the ``SearchIndex`` port and
its embedded and Elasticsearch adapters) and the ``indexer`` process that writes it from the
catalog's and the purchases' events (:mod:`.indexer`, which reads them through the games
service's contracts). The games app serves the read routes (``games/search_api.py``): they join
the index with the catalog, so they belong to the service that owns the catalog."""
