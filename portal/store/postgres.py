"""A PostgreSQL database for the portal's schema (issue 30, first slice: one schema, two engines).

`migrate(url)` brings a PostgreSQL database to the same schema as `portal.store.db.migrate` gives
an SQLite one, from the same numbered migrations translated by `portal.store.dialect`. Each
migration runs in one transaction under a transaction-level advisory lock, so several nodes
starting at once apply each migration exactly once (a lock in the database, not a file on a node).

Needs psycopg 3 (the `postgres` extra). Connection URLs are libpq's (`postgresql://...`, or
`host=/run/postgresql dbname=portal`); docs/deploy.md gives the `sslmode=verify-full` form.
"""

from __future__ import annotations

from portal.store.dialect import POSTGRES_SETUP, postgres_migration
from portal.store.migrations import MIGRATIONS

# pg_advisory_xact_lock's key for schema changes: any fixed 64-bit number, the same on every node.
_MIGRATION_LOCK = 0x706F7274616C  # "portal"


def connect(url: str):
    """A psycopg connection in autocommit mode (transactions are explicit). Raises ImportError when
    psycopg is not installed and psycopg.OperationalError when the server cannot be reached."""
    import psycopg  # only a PostgreSQL installation needs it

    return psycopg.connect(url, autocommit=True)


def applied_migrations(conn) -> set[int]:
    """The numbers of the migrations applied to this database."""
    return {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}


def migrate(url: str) -> list[int]:
    """Apply each migration not yet applied, in number order, each in its own transaction.

    Returns the numbers applied by this call (empty when the schema was already current)."""
    applied: list[int] = []
    with connect(url) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            for statement in POSTGRES_SETUP:
                conn.execute(statement)
        for number, statements in sorted(MIGRATIONS, key=lambda migration: migration[0]):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                if number in applied_migrations(conn):
                    continue  # another node applied it while this one waited for the lock
                for statement in postgres_migration(number, statements):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations (number) VALUES (%s)", (number,))
                applied.append(number)
    return applied
