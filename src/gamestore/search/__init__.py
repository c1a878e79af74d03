"""Game search, a subsystem of its own: the index (:mod:`.index`, the ``SearchIndex`` port and
its embedded and Elasticsearch adapters), the ``indexer`` process that writes it from the
catalog's and the purchases' events (:mod:`.indexer`), and the read routes the games app mounts
(:mod:`.api`: ``/jogos/busca``, ``populares``, ``recomendados``)."""
