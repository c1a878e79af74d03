"""The ``indexer`` process: keeps the search index in step with the catalog and purchases."""
