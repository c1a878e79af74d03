"""The API gateway: the only public entry point (routing, tokens, rate limits, one OpenAPI)."""
