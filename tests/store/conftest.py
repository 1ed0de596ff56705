"""One throwaway PostgreSQL server for every PostgreSQL test of the session (issue 30)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def server():
    from tests.store.postgres_server import PostgresServer

    running = PostgresServer().start()
    yield running
    running.stop()
