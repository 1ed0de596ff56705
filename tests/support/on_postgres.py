"""A pytest plugin: run any test module against PostgreSQL (issue 30), e.g.
`pytest -p tests.support.on_postgres tests/casework/test_console_flow.py`.

One throwaway server for the session (tests/store/postgres_server.py); each test gets a fresh
database, copied from one migrated once (a template), and PORTAL_DATABASE_URL naming it, set before
any other fixture makes the installation. Not every module passes yet: docs/deploy.md §9 says what
runs on PostgreSQL so far.
"""

from __future__ import annotations

import itertools

import pytest

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def _postgres_template():
    from portal.store import postgres
    from tests.store.postgres_server import PostgresServer

    server = PostgresServer().start()
    postgres.migrate(server.database("template_portal"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _on_postgres(_postgres_template, monkeypatch):
    name = f"test_{next(_numbers)}"
    monkeypatch.setenv("PORTAL_DATABASE_URL",
                       _postgres_template.database(name, template="template_portal"))
