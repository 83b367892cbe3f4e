"""Opening job stores: gateways that start together on one fresh store apply each migration once,
and a store that never opened refuses work with StoreUnavailable (what shutdown expects), not an
AttributeError that hides why start-up failed."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from store_helpers import opened

from synthmill.gateway.store.database import migrations
from synthmill.gateway.store.job_store import StoreUnavailable, open_store

GATEWAYS = 6


def test_gateways_opening_one_fresh_store_at_once_migrate_it_once(store_url: str) -> None:
    start = threading.Barrier(GATEWAYS)
    errors: list[BaseException] = []

    def gateway() -> None:
        async def open_and_close() -> None:
            store = open_store(store_url, Path("unused"), retry_s=30.0)
            start.wait()
            await store.open()
            await store.close()

        try:
            asyncio.run(open_and_close())
        except BaseException as exc:  # every failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=gateway) for _ in range(GATEWAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    async def applied() -> list[int]:
        store = await opened(store_url)
        try:
            rows = await store.db.run(
                lambda tx: tx.fetch("SELECT version FROM schema_migrations ORDER BY version")
            )
            return [row[0] for row in rows]
        finally:
            await store.close()

    dialect = "postgres" if "postgresql" in store_url else "sqlite"
    assert asyncio.run(applied()) == [version for version, _ in migrations(dialect)]


def test_a_store_that_never_opened_is_unavailable(store_url: str) -> None:
    store = open_store(store_url, Path("unused"), retry_s=1.0)
    with pytest.raises(StoreUnavailable):
        asyncio.run(store.release("gw"))
