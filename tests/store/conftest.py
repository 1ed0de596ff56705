"""One throwaway PostgreSQL server for every PostgreSQL test of the session (issue 30)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def server():
    from tests.store.postgres_server import PostgresServer

    running = PostgresServer().start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def migrated(server):
    """A function giving the URL of a new database already at the current schema: a copy of one
    migrated once (CREATE DATABASE ... TEMPLATE), a third of the time of migrating each."""
    from portal.store import postgres

    postgres.migrate(server.database("template_migrated"))
    return lambda name: server.database(name, template="template_migrated")
