"""The test fault proxy: a cut looks like a stopped server, a restore like a restarted one."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import POSTGRES_URL, require
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.postgres


async def test_a_cut_refuses_and_resets_then_a_restore_forwards_again() -> None:
    require("PostgreSQL", POSTGRES_URL, 5432)
    async with FaultProxy("127.0.0.1", 5432) as proxy:
        url = proxy.rewrite(POSTGRES_URL)
        conn = await asyncpg.connect(url)
        assert await conn.fetchval("SELECT 1") == 1
        proxy.cut()
        with pytest.raises((asyncpg.exceptions.ConnectionDoesNotExistError, ConnectionError)):
            await conn.fetchval("SELECT 1")
        with pytest.raises(OSError):
            await asyncpg.connect(url, timeout=2)
        await proxy.restored()
        again = await asyncpg.connect(url)
        try:
            assert await again.fetchval("SELECT 2") == 2
        finally:
            await again.close()
