"""A PostgreSQL database for the portal (issue 30): its schema, and a connection the portal's code
uses as it uses SQLite's.

`migrate(url)` brings a PostgreSQL database to the same schema as `portal.store.db.migrate` gives
an SQLite one, from the same numbered migrations translated by `portal.store.dialect`. Each
migration runs in one transaction under a transaction-level advisory lock, so several nodes
starting at once apply each migration exactly once (a lock in the database, not a file on a node).

`Connection(url)` (second slice) offers what the code uses of sqlite_utils' Database: `execute`
(a cursor with fetchone, fetchall, iteration and rowcount), `executemany`, `conn` (with `close`,
`commit`, `in_transaction`, `execute`, `executemany`); each statement, written in SQLite's SQL,
is run as `portal.store.dialect.postgres_query` translates it. So that the code's handling of
SQLite's errors holds, psycopg's errors become sqlite3's here, in one place: a unique or foreign
key violation is an sqlite3.IntegrityError, a lock not had within the busy timeout is "database
is locked", a full disk "database or disk is full", a lost server an sqlite3.OperationalError
(portal.store.faults).
A failed statement inside a transaction leaves it aborted, as PostgreSQL does: the code rolls back
on every such error (the one-time tokens' claims raise out of their transaction).

Needs psycopg 3 (the `postgres` extra). Connection URLs are libpq's (`postgresql://...`, or
`host=/run/postgresql dbname=portal`); docs/deploy.md gives the `sslmode=verify-full` form.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

from portal.store.dialect import LOCK_TIMEOUT, POSTGRES_SETUP, postgres_migration, postgres_query
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
            lock_schema(conn)
            set_up(conn)
        already = applied_migrations(conn)
        for number, statements in sorted(MIGRATIONS, key=lambda migration: migration[0]):
            if number in already:
                continue
            with conn.transaction():
                lock_schema(conn)
                if number in applied_migrations(conn):
                    continue  # another node applied it while this one waited for the lock
                apply_migration(conn, number, statements)
                applied.append(number)
    return applied


def lock_schema(conn) -> None:
    """Take the schema's transaction-level advisory lock (every node's), until the transaction
    ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))


def set_up(conn) -> None:
    """What a new database needs before the first migration (dialect.POSTGRES_SETUP)."""
    for statement in POSTGRES_SETUP:
        conn.execute(statement)


def apply_migration(conn, number: int, statements: list[str]) -> None:
    """One migration's statements, translated, and its number recorded, in the caller's
    transaction (`migrate`; `portal migrate-to` applies them all in its one transaction)."""
    for statement in statements:
        if callable(statement):  # a data step (portal.store.migrations), its SQL translated
            statement(lambda sql, params=(): Cursor(conn.execute(postgres_query(sql)[0], params)))
            continue
        for translated in postgres_migration(number, [statement]):
            conn.execute(translated)
    conn.execute("INSERT INTO schema_migrations (number) VALUES (%s)", (number,))


class Cursor:
    """A statement's result, as sqlite3's cursor gives it: fetchone (None when no row is left or
    the statement returns none), fetchall, iteration, rowcount. There is no `lastrowid`: write
    `INSERT ... RETURNING id`, which both engines run."""

    def __init__(self, cursor=None) -> None:
        self._cursor = cursor

    def _rows(self) -> bool:
        return self._cursor is not None and self._cursor.description is not None

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self._rows() else None

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall() if self._rows() else []

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._cursor is not None else -1


def _sqlite_error(exc: Exception) -> Exception | None:
    """The sqlite3 error the portal's code expects for one of psycopg's, or None for a bug (a
    syntax or type error is raised as psycopg gave it)."""
    import psycopg.errors as pg

    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(exc, pg.IntegrityError):
        kind = "UNIQUE" if isinstance(exc, pg.UniqueViolation) else "constraint"
        return sqlite3.IntegrityError(f"{kind} constraint failed ({text})")
    if isinstance(exc, (pg.LockNotAvailable, pg.DeadlockDetected, pg.QueryCanceled,
                        pg.SerializationFailure)):
        return sqlite3.OperationalError(f"database is locked ({text})")
    if isinstance(exc, (pg.DiskFull, pg.OutOfMemory)):
        return sqlite3.OperationalError(f"database or disk is full ({text})")
    if isinstance(exc, pg.UndefinedTable):
        return sqlite3.OperationalError(f"no such table ({text})")
    if isinstance(exc, pg.OperationalError) or type(exc) is pg.InterfaceError:
        return sqlite3.OperationalError(f"database server unavailable ({text})")
    return None


@contextlib.contextmanager
def as_sqlite_errors() -> Iterator[None]:
    """psycopg's errors raised in the block as the sqlite3 errors `_sqlite_error` maps them to, for
    the portal's own uses of a raw psycopg connection (shared state, blobs): the same fault pages
    (a 503 to try again, a full disk) as for every other statement."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        mapped = _sqlite_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


def _plain(params: Sequence[Any] | None) -> tuple:
    # SQLite stores True as 1 in an INTEGER column; PostgreSQL would refuse a boolean there.
    return tuple(int(v) if isinstance(v, bool) else v for v in (params or ()))


@functools.cache
def _whole_or_float():
    """A loader for PostgreSQL's numeric (what SUM and AVG give): an int when whole, as SQLite
    gives, else a float, never a Decimal."""
    from psycopg.types.numeric import NumericLoader

    class WholeOrFloat(NumericLoader):
        def load(self, data):
            value: Decimal = super().load(data)
            if value.is_finite() and value == value.to_integral_value():
                return int(value)
            return float(value)

    return WholeOrFloat


class Connection:
    """One connection to the portal's PostgreSQL database, used as portal.store.db's sqlite_utils
    Database is (`portal.store.db.connect` gives it when PORTAL_DATABASE_URL is set). `conn` is the
    object itself: the code's `db.conn.close()` and `db.conn.in_transaction` work on both."""

    def __init__(self, url: str, busy_timeout: float = 10.0) -> None:
        self._url = url
        self._opened = None
        # The busy timeout: how long a statement waits for a lock (the writers' lock above all).
        self.lock_timeout_ms = int(busy_timeout * 1000)

    @property
    def _pg(self):
        """The psycopg connection, opened at the first statement, as SQLite opens its file: a
        server that cannot be reached is met where the request first needs the database, after a
        streamed form's text was read (portal.web.fault_pages gives it back), not before."""
        if self._opened is None:
            import psycopg

            try:
                # Parameters bound client-side, as literals psycopg quotes and escapes: PostgreSQL
                # then types them from their context as SQLite takes them, where server-side ones
                # must be typed alone (a `? IS NULL`, a number column compared with a string).
                opened = psycopg.connect(self._url, autocommit=True,
                                         cursor_factory=psycopg.ClientCursor)
                opened.adapters.register_loader("numeric", _whole_or_float())
                opened.execute(LOCK_TIMEOUT.format(milliseconds=self.lock_timeout_ms))
            except psycopg.Error as exc:
                raise _sqlite_error(exc) or exc from exc
            self._opened = opened
        return self._opened

    @property
    def conn(self) -> "Connection":
        return self

    @property
    def raw(self):
        """The psycopg connection underneath, for what has no SQLite counterpart (COPY, in
        portal.store.copy_to_postgres): statements in PostgreSQL's SQL, errors as psycopg's."""
        return self._pg

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self._opened is None:
            return False
        return self._pg.info.transaction_status != TransactionStatus.IDLE

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> Cursor:
        """Run one statement written in SQLite's SQL; its result."""
        import psycopg

        cursor = None
        translation = postgres_query(statement)
        try:
            for translated in translation:
                cursor = self._pg.execute(translated, _plain(params) if "%s" in translated else ())
        except psycopg.Error as exc:
            if translation[0] == "BEGIN" and len(translation) > 1:
                # The writers' lock not had: no transaction began, as with SQLite's BEGIN.
                self._pg.execute("ROLLBACK")
            mapped = _sqlite_error(exc)
            if mapped is None:
                raise
            raise mapped from exc
        return Cursor(cursor)

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        """The statement once for each row of parameters."""
        cursor = Cursor()
        for row in rows:
            cursor = self.execute(statement, row)
        return cursor

    def commit(self) -> None:
        """As sqlite3's: end an open transaction, else nothing (statements outside transaction()
        are committed each by itself, on both engines)."""
        if self.in_transaction:
            self.execute("COMMIT")

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()
