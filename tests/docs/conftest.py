"""Fixtures for the docs snippet tests: servers some snippets need, started only when asked."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPLAY_TESTS = Path(__file__).resolve().parents[1] / "replay"
_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One throwaway PostgreSQL server on 127.0.0.1 (tests/replay/postgres_support.py)."""
    sys.path.insert(0, str(REPLAY_TESTS))
    try:
        from postgres_support import PostgresServer, require_postgres
    finally:
        sys.path.remove(str(REPLAY_TESTS))
    require_postgres()
    server = PostgresServer().start()
    yield server
    server.stop()
    server.cleanup()


@pytest.fixture
def fresh_postgres_url(postgres_server: Any) -> Any:
    """A factory of URLs of new, empty databases: one per snippet run, like one per test."""
    import psycopg

    def new_database() -> str:
        name = f"snippet_{next(_databases)}"
        with psycopg.connect(postgres_server.conninfo, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return f"postgresql://hookseal@127.0.0.1:{postgres_server.port}/{name}"

    return new_database


@pytest.fixture
def pytester_for_snippets(request: pytest.FixtureRequest) -> Any:
    """pytest's own ``pytester``, registered on demand (``pytest_plugins`` is not allowed in
    a conftest below the rootdir's top level)."""
    manager = request.config.pluginmanager
    if not manager.has_plugin("pytester"):
        manager.import_plugin("pytester")
    return request.getfixturevalue("pytester")
