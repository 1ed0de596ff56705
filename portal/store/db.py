"""The database connection: hardened pragmas, numbered migrations, explicit transactions.

Two engines (issue 30): SQLite in the data directory, the default, or PostgreSQL when the
environment gives PORTAL_DATABASE_URL (`database_url`). Then `connect` gives a
portal.store.postgres.Connection, used as the sqlite_utils Database is, and `open_database` brings
that database's schema up to date; the SQLite-only things here are nothing there: the pragmas
(dropped by portal.store.dialect), the file's permissions, and the writers' lock file (PostgreSQL's
writers take an advisory lock in BEGIN, which `yield_to_writers` sees in pg_locks).

sqlite-utils' own insert/update helpers commit through `with conn:`, which would end an outer
transaction half way; multi-step writes therefore run raw statements inside `transaction()`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

from sqlite_utils import Database

from portal.store.faults import classify
from portal.store.migrations import MIGRATIONS

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
    "PRAGMA trusted_schema=OFF",
    "PRAGMA foreign_keys=ON",
    # Statement journals and sorts stay in memory: the server writes nothing beside its database and
    # blobs.
    "PRAGMA temp_store=MEMORY",
)

READ_ONLY_PRAGMAS = PRAGMAS[3:]  # those a read-only connection takes: no journal mode, no writing


def database_url() -> str | None:
    """PORTAL_DATABASE_URL (libpq's form, docs/deploy.md §9) when the installation's database is
    PostgreSQL; None for SQLite in the data directory."""
    return os.environ.get("PORTAL_DATABASE_URL") or None


def connect(path: Path, busy_timeout: float = 10.0) -> Database:
    """Open a connection with the pragmas every connection needs (per request: no schema work).

    A write waits up to `busy_timeout` seconds for the write lock (the `busy_timeout_seconds`
    setting), then raises "database is locked" (portal.store.faults: 503, try again).

    On a full disk a database whose last connection closed cleanly cannot be opened as usual:
    SQLite deleted its -wal and -shm files at that close and cannot make the -shm again. It is
    then opened read-only (`read_only_while_full`), so pages and verdicts that only read still
    work; every write on it raises "database or disk is full", as a write on the full disk
    would.

    With PORTAL_DATABASE_URL set, `path` is unused and the connection is PostgreSQL's."""
    url = database_url()
    if url:
        from portal.store import postgres  # only a PostgreSQL installation needs psycopg

        return postgres.Connection(url, busy_timeout)
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout
    )
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        for pragma in PRAGMAS:
            conn.execute(pragma)
    except sqlite3.Error as exc:
        conn.close()
        if not _cannot_open_for_want_of_space(exc, path):
            raise
        return read_only_while_full(path, busy_timeout)
    return _database(conn, path)


def _database(conn: sqlite3.Connection, path: Path) -> Database:
    db = Database(conn)
    db.__dict__["_portal_writers"] = str(writers_file(path))
    return db


def _cannot_open_for_want_of_space(exc: sqlite3.Error, path: Path) -> bool:
    """Whether `exc`, met opening `path`, is the full disk refusing its -shm file, with nothing in
    a -wal file that a read of the database file alone would miss (a cleanly closed database)."""
    fault = classify(exc)
    if fault is None or fault.kind != "full":
        return False
    try:
        return os.stat(f"{path}-wal").st_size == 0
    except FileNotFoundError:
        return True


class ChangedWhileReadOnly(sqlite3.OperationalError):
    """The database file was written while `read_only_while_full` had it open (space came back and
    another connection wrote): what was read may be torn, so it is not used. A "busy" fault
    (portal.store.faults: locked, try again); a command that only reads may simply read again."""


def _file_state(path: str) -> tuple:
    """What changes when a connection writes the database: the file's inode, size and mtime, and
    the size of its -wal (a writer writes there first, then checkpoints into the file). Not the
    ctime or the -shm: opening a connection (a failed one too) touches those without writing."""
    info = os.stat(path)
    try:
        wal = os.stat(f"{path}-wal").st_size
    except FileNotFoundError:
        wal = 0
    return (info.st_ino, info.st_size, info.st_mtime_ns, wal)


class _ReadOnlyWhileFull(sqlite3.Connection):
    """A connection to a database opened read-only because the disk is full: a write raises
    "database or disk is full" (portal.store.faults: full), not "readonly" (a missing file). Every
    statement and every row fetched is checked against the file as it was when opened
    (`_file_state`): once another connection has written it, `ChangedWhileReadOnly` is raised
    instead of handing on rows an `immutable` connection may have read torn."""

    def opened_as(self, path: str) -> None:
        self._path, self._state = path, _file_state(path)

    def check_unchanged(self) -> None:
        if _file_state(self._path) != self._state:
            raise ChangedWhileReadOnly(
                "database is busy: it was written while opened read-only on a full disk"
            )

    def cursor(self, factory=None):
        return super().cursor(factory or _CheckedCursor)

    def execute(self, *args, **kwargs):
        return self.cursor().execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):
        return self.cursor().executemany(*args, **kwargs)

    def executescript(self, *args, **kwargs):
        return self.cursor().executescript(*args, **kwargs)


class _CheckedCursor(sqlite3.Cursor):
    """A cursor of `_ReadOnlyWhileFull`: writes raise "full", and nothing read is handed on (nor a
    "malformed" error taken for damage) unless the file is still as it was opened."""

    def _checked(self, run, *args):
        try:
            result = _as_full(run, *args)
        except sqlite3.DatabaseError:
            self.connection.check_unchanged()  # a changed file explains the error: "busy"
            raise
        self.connection.check_unchanged()
        return result

    def execute(self, *args):
        self._checked(super().execute, *args)
        return self

    def executemany(self, *args):
        self._checked(super().executemany, *args)
        return self

    def executescript(self, *args):
        self._checked(super().executescript, *args)
        return self

    def fetchone(self):
        return self._checked(super().fetchone)

    def fetchmany(self, *args):
        return self._checked(super().fetchmany, *args)

    def fetchall(self):
        return self._checked(super().fetchall)

    def __next__(self):
        return self._checked(super().__next__)


def _as_full(run, *args, **kwargs):
    try:
        return run(*args, **kwargs)
    except sqlite3.OperationalError as exc:
        if not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
            raise
        raise sqlite3.OperationalError(
            "database or disk is full (opened read-only: the disk had no room for its -shm file)"
        ) from exc


def read_only_while_full(path: Path, busy_timeout: float = 10.0) -> Database:
    """The database file opened read-only and `immutable` (SQLite then takes no locks and makes
    no -shm), for a disk too full to open it otherwise (`connect`). Only for a database with no
    -wal content. Reads see the database file as it is; every write raises "database or disk is
    full". Short-lived, like every connection: the next is opened as usual once there is room.

    `mode=ro` alone is not enough: SQLite opens a WAL database read-only only if its -shm can be
    made, which a full disk refuses. And `immutable` is a promise that nobody writes the file, true
    only while the disk stays full: once space comes back another connection may write and
    checkpoint under this one, and an immutable reader then gets torn pages ("malformed") or stale
    rows. So every statement and row is checked against the file's state at opening (its inode,
    size and mtime, and the size of its -wal, which a writer fills before it touches the file):
    after a
    write it raises `ChangedWhileReadOnly` ("busy": a 503 that says try again; `audit verify`
    reads again) rather than hand on a torn read."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                           timeout=busy_timeout, factory=_ReadOnlyWhileFull)  # fmt: skip
    conn.opened_as(str(path))
    for pragma in READ_ONLY_PRAGMAS:
        conn.execute(pragma)
    return _database(conn, path)


def writers_file(path: Path) -> Path:
    """The database's writers' lock: an empty file in memory (/dev/shm), named by the database's
    path, that holds nothing but an advisory lock. Each write transaction holds a shared lock on it
    from before BEGIN IMMEDIATE until COMMIT, so a long operation can see, between two of its
    batches, that writers are waiting behind it and let them go first (`yield_to_writers`):
    SQLite's busy handler is not fair, and a writer sleeping in it would otherwise find the next
    batch holding the write lock, batch after batch."""
    shm = Path("/dev/shm")
    place = shm if shm.is_dir() else Path(os.environ.get("TMPDIR", "/tmp"))
    name = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return place / f"portal-{name}-writers.lock"

# How long a long operation waits at most, between two batches, for the writers waiting behind it.
YIELD_SECONDS = 1.0
# How long no writer must have been waiting before a long operation that yielded carries on.
QUIET_SECONDS = 0.025
_YIELD_POLL_SECONDS = 0.001


def _writers_file(db: Database) -> int | None:
    path = db.__dict__.get("_portal_writers")
    if path is None:
        return None
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:  # no place for it (a read-only /dev/shm): writes go on, only unannounced
        return None


def yield_to_writers(db: Database, longest: float | None = None) -> bool:
    """Between two batches of a long operation (never inside a transaction): let the writers
    waiting behind the last batch go in before the next one. Returns at once when no other
    connection is waiting for or holding the write lock; else waits until none has been for
    QUIET_SECONDS (a disclosure writes in a few transactions with a little work between them: all
    of them go in, not just the first), at most `longest` seconds (default YIELD_SECONDS) in all.
    Returns whether any writer was waiting. On PostgreSQL the write lock is the writers' advisory
    lock, seen in pg_locks (portal.store.dialect.WRITERS_ELSEWHERE) from any node."""
    if database_url():
        from portal.store.dialect import WRITERS_ELSEWHERE

        return _yield_while(lambda: db.raw.execute(WRITERS_ELSEWHERE).fetchone()[0], longest)
    fd = _writers_file(db)
    if fd is None:
        return False

    def held() -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True

    try:
        return _yield_while(held, longest)
    finally:
        os.close(fd)


def _yield_while(writers: Callable[[], bool], longest: float | None) -> bool:
    started = time.monotonic()
    end = started + (YIELD_SECONDS if longest is None else longest)
    waited, quiet_since = False, started
    while True:
        now = time.monotonic()
        if not writers():
            if not waited or now - quiet_since >= QUIET_SECONDS:
                return waited
        else:
            waited, quiet_since = True, now
        if now >= end:
            return waited
        time.sleep(_YIELD_POLL_SECONDS)


def open_database(path: Path, busy_timeout: float = 10.0) -> Database:
    """Connect and bring the schema up to date: once at start-up, or for a command."""
    url = database_url()
    if url:
        from portal.store import postgres

        postgres.migrate(url)
        return connect(path, busy_timeout)
    db = connect(path, busy_timeout)
    # Owner only: SQLite creates its -wal and -shm files with the database file's permissions.
    os.chmod(path, 0o600)
    # Opened read-only on a full disk: a migration still to apply raises "full" (it cannot be).
    migrate(db)
    return db


def schema_version(db: Database) -> int:
    """The highest migration applied (also kept in SQLite's user_version)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def applied_migrations(db: Database) -> set[int]:
    """The numbers of the migrations applied. Numbers are assigned per piece of work and may land
    out of order, so each applied number is recorded; a database from before this record existed had
    every migration up to its user_version applied, in order."""
    if db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone():
        return {row[0] for row in db.execute("SELECT number FROM schema_migrations")}
    return {number for number, _ in MIGRATIONS if number <= schema_version(db)}


def migrate(db: Database) -> None:
    """Apply each numbered migration not yet applied, each in its own transaction, in number order
    whatever order they were appended or landed in."""
    for number, statements in sorted(MIGRATIONS, key=lambda migration: migration[0]):
        if number in applied_migrations(db):
            continue
        with transaction(db):
            # Re-check inside the write lock: another worker may have migrated meanwhile.
            done = applied_migrations(db)
            if number in done:
                continue
            for statement in statements:
                if callable(statement):  # a data step (portal.store.migrations)
                    statement(db.execute)
                else:
                    db.execute(statement)
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY)")
            db.execute(
                "INSERT OR IGNORE INTO schema_migrations (number) VALUES "
                + ", ".join("(?)" for _ in done | {number}),
                sorted(done | {number}),
            )
            db.execute(f"PRAGMA user_version={max(int(number), schema_version(db))}")


def in_transaction(db: Database) -> bool:
    return db.conn.in_transaction


def after_commit(db: Database, callback: Callable[[], None], *, key: str | None = None) -> None:
    """Run `callback` once the current transaction() commits (never if it rolls back).

    For state kept outside the database that must not run ahead of it (the audit chain's head file).
    A callback given a `key` replaces an earlier one of the same key in this transaction: only the
    latest runs (one head write per transaction, however many entries).
    """
    callbacks = db.__dict__.setdefault("_portal_after_commit", {})
    callbacks[key if key is not None else object()] = callback


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One atomic write: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on any exception. Announced to
    long operations while it waits for the write lock and holds it (`yield_to_writers`)."""
    fd = _writers_file(db)
    try:
        if fd is not None:
            # Shared: writers never wait for each other here; a long operation's check holds the
            # exclusive lock only for an instant, and never while it holds the write lock.
            fcntl.flock(fd, fcntl.LOCK_SH)
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.__dict__.pop("_portal_after_commit", None)
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        if fd is not None:
            os.close(fd)  # the shared lock goes with it
    for callback in db.__dict__.pop("_portal_after_commit", {}).values():
        callback()
