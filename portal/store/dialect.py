"""The one place where SQL differs between the two engines (issue 30): SQLite, the embedded default,
and PostgreSQL for a service that outgrows one machine.

Migrations are written once, in SQLite's SQL. `postgres_statements(number, statement)` gives the
PostgreSQL statements for one of them:

- types: SQLite's INTEGER is 64 bits, so it becomes BIGINT; BLOB becomes BYTEA; an `INTEGER PRIMARY
  KEY` (SQLite's row id) becomes an identity column that still takes an explicit value;
- `COLLATE NOCASE` becomes the ICU collation `nocase`, made once by `POSTGRES_SETUP`
  (case-insensitive equality, so a UNIQUE e-mail address is still unique whatever its case);
- `WITHOUT ROWID` is dropped: every PostgreSQL table is a heap;
- triggers are written again in PL/pgSQL, by name (`portal.store.postgres_triggers`);
- statements that only give SQLite rows a random row id (migrations 30 and 34) have no counterpart:
  PostgreSQL keeps no row id to randomise, and the order its heap and row versions (`ctid`, `xmin`)
  keep is said in SECURITY.md, "What PostgreSQL adds to what is visible";
- statements that rewrite rows already there (`INSERT`, `UPDATE`, `DELETE`) in migrations up to
  `LAST_SQLITE_ONLY_MIGRATION` are skipped: no PostgreSQL database is older than that migration, so
  they have nothing to rewrite. A later migration's rewrites must run on both engines, and
  tests/store/test_postgres_schema.py applies every migration to both.

The portal's own statements (issue 30, second slice) are written once too, in SQLite's SQL, and
`postgres_query(statement)` gives what PostgreSQL runs for one of them (cached per statement text):

- `?` placeholders become psycopg's `%s` (and a literal `%` is doubled);
- `BEGIN IMMEDIATE` (SQLite's one writer at a time) becomes `BEGIN` and a transaction-level
  advisory lock every writer takes (`WRITERS_LOCK`): writes stay one at a time, across every node
  on the database, as the code written for SQLite expects (a read, then a write made from it);
- `PRAGMA ...` is nothing: PostgreSQL has no per-connection file settings (journal, `secure_delete`,
  checkpoints, cache size); what stands for them is said in SECURITY.md and docs/deploy.md §9;
- `INSERT OR IGNORE` becomes `INSERT ... ON CONFLICT DO NOTHING`;
- `x IS ?` and `x IS NOT ?` become `IS NOT DISTINCT FROM` and `IS DISTINCT FROM`;
- `json_each(?)` (a JSON array given as one parameter) becomes `json_array_elements_text`;
- `IN ()` and `NOT IN ()` (an empty list) become `= ANY ('{}')` and `<> ALL ('{}')`;
- a negative LIMIT (SQLite's "no limit") is none on PostgreSQL too;
- a subquery in FROM or JOIN without an alias is given one (`subquery_1`, ...);
- `INDEXED BY name` and `NOT INDEXED` (SQLite's index hints) are dropped;
- `rowid` is a real column on PostgreSQL, only in the tables in `ROWID_TABLES` whose rows the code
  names or orders by it (an identity column the translated CREATE TABLE adds).

What has no mechanical counterpart raises NoTranslation: `INSERT OR REPLACE` (write `INSERT ... ON
CONFLICT (key) DO UPDATE SET ...`, which both engines run), `sqlite_master`, and the cursor's
`lastrowid` (write `INSERT ... RETURNING id`) is refused by the connection itself.

Nothing here imports psycopg: the translation is text, tested against a real server.
"""

from __future__ import annotations

import functools
import re

from portal.store.postgres_triggers import TRIGGERS

# The newest migration written before PostgreSQL was supported: every PostgreSQL database starts at
# or after it, so its data rewrites concern SQLite databases made by older versions only.
LAST_SQLITE_ONLY_MIGRATION = 37

# Run once on a new PostgreSQL database, before the first migration.
POSTGRES_SETUP: tuple[str, ...] = (
    "CREATE COLLATION IF NOT EXISTS nocase "
    "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
    "CREATE TABLE IF NOT EXISTS schema_migrations (number BIGINT PRIMARY KEY)",
)

# Tables whose rows the portal's code names or orders by SQLite's implicit row id: on PostgreSQL
# each gets a column of that name (an identity, in insertion order).
ROWID_TABLES = ("invitations", "original_files")

# pg_advisory_xact_lock's key for the writers' lock (BEGIN IMMEDIATE): the same on every node.
WRITERS_LOCK = 0x777269746572  # "writer"
# Whether another connection holds or waits for that lock (pg_locks gives a bigint key's high and
# low 32 bits as classid and objid, objsubid 1): what yield_to_writers asks between batches.
WRITERS_ELSEWHERE = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
    f" AND classid::bigint = {WRITERS_LOCK >> 32} AND objid::bigint = {WRITERS_LOCK & 0xFFFFFFFF}"
    " AND pid <> pg_backend_pid())"
)

_TRIGGER_NAME = re.compile(r"^\s*CREATE\s+TRIGGER\s+(\w+)", re.IGNORECASE)
_RANDOM_ROW_ID = re.compile(r"\bSET\s+rowid\s*=", re.IGNORECASE)
_REWRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\)\s*WITHOUT\s+ROWID\s*$", re.IGNORECASE), ")"),
    (
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\b", re.IGNORECASE),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    # Types only: the migrations write types in capitals and names in lower case ("blob" is a
    # column's name).
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bCOLLATE\s+NOCASE\b", re.IGNORECASE), "COLLATE nocase"),
)


_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)

# Tables PostgreSQL keeps UNLOGGED: in no WAL (so no archive or replica holds them), emptied after a
# crash. Only state nodes share for a moment (portal.store.shared_state): a ticket line, counts of
# the minute.
UNLOGGED_TABLES = ("shared_state",)

# State nodes share (portal.store.shared_state), in psycopg's placeholders: a row made if absent,
# then read and rewritten under its row lock, in one transaction.
SHARED_STATE_MAKE = "INSERT INTO shared_state (name, value) VALUES (%s, '') ON CONFLICT DO NOTHING"
SHARED_STATE_READ = "SELECT value FROM shared_state WHERE name = %s FOR UPDATE"
SHARED_STATE_WRITE = "UPDATE shared_state SET value = %s WHERE name = %s"

# Locks every node sees (portal.store.shared_state): session-level advisory locks, released by
# their connection's end (a node killed releases its own).
ADVISORY_LOCK = "SELECT pg_advisory_lock(%s)"
ADVISORY_TRY_LOCK = "SELECT pg_try_advisory_lock(%s)"

# The ciphertext blobs in the database (portal.store.database_blobs, migration 48), in psycopg's
# placeholders with parameters bound by the server (binary, not quoted into the text).
BLOB_MAKE = "INSERT INTO stored_blobs (name, day) VALUES (%s, %s)"
BLOB_CHUNK = "INSERT INTO blob_chunks (name, seq, data) VALUES (%s, %s, %s)"
BLOB_FINISH = "UPDATE stored_blobs SET finished = 1, size = %s, day = %s WHERE name = %s"
BLOB_DAY = "UPDATE stored_blobs SET day = %s WHERE name = %s"
BLOB_SIZE = "SELECT size FROM stored_blobs WHERE name = %s AND finished = 1"
BLOB_READ = "SELECT data FROM blob_chunks WHERE name = %s AND seq = %s"
BLOB_DELETE = "DELETE FROM stored_blobs WHERE name = %s"
BLOB_UNFINISHED = "SELECT name FROM stored_blobs WHERE finished = 0"
BLOB_UNREFERENCED = "SELECT name FROM stored_blobs WHERE day < %s AND NOT (name = ANY (%s))"
ADVISORY_UNLOCK = "SELECT pg_advisory_unlock(%s)"

# A backup (portal.operations.backup_postgres): one read snapshot, exported so that pg_dump copies
# exactly what its facts (audit head, counts) were read from; a restore only into a database with
# no table of its own yet.
SNAPSHOT_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
SNAPSHOT_EXPORT = "SELECT pg_export_snapshot()"
SCHEMA_VERSION = "SELECT coalesce(max(number), 0) FROM schema_migrations"
FINISHED_BLOBS = "SELECT count(*) FROM stored_blobs WHERE finished = 1"
OWN_TABLES = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"

# `portal migrate-to` (portal.store.copy_to_postgres), in its one transaction: the tables' own
# triggers off while rows are copied as they are, rows sent with COPY, each identity's sequence
# moved past the largest id copied.
PUBLIC_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
DISABLE_TRIGGERS = "ALTER TABLE {table} DISABLE TRIGGER USER"
ENABLE_TRIGGERS = "ALTER TABLE {table} ENABLE TRIGGER USER"
TRUNCATE = "TRUNCATE {tables}"
COPY_IN = "COPY {table} ({columns}) FROM STDIN"
COPY_CHUNKS = "COPY blob_chunks (name, seq, data) FROM STDIN"
IDENTITY_COLUMNS = (
    "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = 'public' AND is_identity = 'YES' ORDER BY table_name, column_name"
)
ADVANCE_IDENTITY = (
    "SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({column}), 0) + 1, false)"
    " FROM {table}"
)

# The flood's own small writes (portal.store.waits): their commit does not wait for the WAL to
# reach the disk; lost by a crash of the server at most, never a case (a later commit's flush
# covers them). Housekeeping waits briefly for a lock (milliseconds).
NO_WAIT_FOR_DISK = "SET synchronous_commit = off"
WAIT_FOR_DISK_AGAIN = "RESET synchronous_commit"
LOCK_TIMEOUT = "SET lock_timeout = {milliseconds}"


class NoTranslation(ValueError):
    """A migration statement this module does not know how to give PostgreSQL (a new trigger with
    no PL/pgSQL counterpart in portal.store.postgres_triggers): add one there."""


def postgres_statements(number: int, statement: str) -> list[str]:
    """The PostgreSQL statements for one migration statement: none, one, or a trigger's function and
    trigger. Raises NoTranslation for a trigger that has no PL/pgSQL counterpart."""
    trigger = _TRIGGER_NAME.match(statement)
    if trigger:
        name = trigger.group(1)
        if name.startswith("random_rowid_"):
            return []
        if name not in TRIGGERS:
            raise NoTranslation(f"migration {number}: no PostgreSQL trigger for {name}")
        return list(TRIGGERS[name])
    if _RANDOM_ROW_ID.search(statement):
        return []
    if number <= LAST_SQLITE_ONLY_MIGRATION and _REWRITE.match(statement):
        return []
    for pattern, replacement in _REPLACEMENTS:
        statement = pattern.sub(replacement, statement)
    table = _CREATE_TABLE.match(statement)
    if table and table.group(1) in UNLOGGED_TABLES:
        statement = re.sub(r"^(\s*)CREATE\s+TABLE\b", r"\1CREATE UNLOGGED TABLE", statement,
                           count=1, flags=re.IGNORECASE)
    if table and table.group(1) in ROWID_TABLES:
        statement = statement.rstrip().removesuffix(")") + (
            ",\n            rowid BIGINT GENERATED ALWAYS AS IDENTITY\n        )"
        )
    return [statement]


def postgres_migration(number: int, statements: list[str]) -> list[str]:
    """Every PostgreSQL statement of one migration, in order."""
    return [
        translated
        for statement in statements
        if isinstance(statement, str)  # a data step runs as it is (postgres.apply_migration)
        for translated in postgres_statements(number, statement)
    ]


_LITERAL = re.compile(r"('(?:[^']|'')*')")
_BEGIN_IMMEDIATE = re.compile(r"^\s*BEGIN\s+IMMEDIATE\s*;?\s*$", re.IGNORECASE)
_PRAGMA = re.compile(r"^\s*PRAGMA\b", re.IGNORECASE)
_INSERT_OR_IGNORE = re.compile(r"^(\s*)INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_UNTRANSLATABLE = (
    (re.compile(r"\bINSERT\s+OR\s+REPLACE\b", re.IGNORECASE),
     "INSERT OR REPLACE: write INSERT ... ON CONFLICT (key) DO UPDATE SET ..."),
    (re.compile(r"\bREPLACE\s+INTO\b", re.IGNORECASE),
     "REPLACE INTO: write INSERT ... ON CONFLICT (key) DO UPDATE SET ..."),
    (re.compile(r"\bsqlite_master\b", re.IGNORECASE),
     "sqlite_master: ask the engine's own catalogue"),
)
_QUERY_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bIS\s+NOT\s+%s", re.IGNORECASE), "IS DISTINCT FROM %s"),
    (re.compile(r"\bIS\s+%s", re.IGNORECASE), "IS NOT DISTINCT FROM %s"),
    (re.compile(r"\bjson_each\(\s*%s\s*\)", re.IGNORECASE), "json_array_elements_text(%s::json)"),
    # An empty list, which SQLite takes and PostgreSQL's grammar does not: the same answers.
    (re.compile(r"\bNOT\s+IN\s*\(\s*\)", re.IGNORECASE), "<> ALL ('{}')"),
    (re.compile(r"\bIN\s*\(\s*\)", re.IGNORECASE), "= ANY ('{}')"),
    # A negative LIMIT is SQLite's "no limit"; PostgreSQL's is NULL (or ALL).
    (re.compile(r"\bLIMIT\s+%s", re.IGNORECASE), "LIMIT NULLIF(GREATEST(%s, -1), -1)"),
    (re.compile(r"\bLIMIT\s+-\s*1\b", re.IGNORECASE), "LIMIT ALL"),
    # SQLite's index hints: PostgreSQL's planner takes none (tests/store/test_query_plans.py).
    (re.compile(r"\s+(?:INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b", re.IGNORECASE), ""),
)


_SUBQUERY = re.compile(r"\b(?:FROM|JOIN)\s*\(\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_ALIASED = re.compile(
    r"\s*(?!(?:WHERE|ORDER|GROUP|HAVING|LIMIT|OFFSET|UNION|EXCEPT|INTERSECT|JOIN|LEFT|RIGHT"
    r"|INNER|CROSS|FULL|ON|WINDOW)\b)(?:AS\b|[A-Za-z_])",
    re.IGNORECASE,
)


def _closing(statement: str, opening: int) -> int:
    """The index of the parenthesis that closes the one at `opening` (string literals skipped)."""
    depth, quoted = 0, False
    for index in range(opening, len(statement)):
        char = statement[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise NoTranslation(f"unbalanced parentheses: {statement[:80]!r}")


def _alias_subqueries(statement: str) -> str:
    """Give each subquery in FROM or JOIN that has no alias one (SQLite needs none; PostgreSQL
    before 16 does)."""
    found = _SUBQUERY.search(statement)
    number = 0
    while found:
        end = _closing(statement, statement.index("(", found.start()))
        if not _ALIASED.match(statement, end + 1):
            number += 1
            statement = f"{statement[:end + 1]} AS subquery_{number}{statement[end + 1:]}"
        found = _SUBQUERY.search(statement, found.end())
    return statement


@functools.lru_cache(maxsize=4096)
def postgres_query(statement: str) -> tuple[str, ...]:
    """What PostgreSQL runs for one of the portal's statements, written in SQLite's SQL with `?`
    placeholders: none (a PRAGMA), one, or two (BEGIN IMMEDIATE: BEGIN and the writers' lock). The
    placeholders are psycopg's `%s` in the same order, so the parameters pass unchanged. Raises
    NoTranslation for SQL with no mechanical counterpart (see the module's docstring)."""
    for pattern, why in _UNTRANSLATABLE:
        if pattern.search(statement):
            raise NoTranslation(f"no PostgreSQL for {why}: {statement[:80]!r}")
    if _PRAGMA.match(statement):
        return ()
    if _BEGIN_IMMEDIATE.match(statement):
        return ("BEGIN", f"SELECT pg_advisory_xact_lock({WRITERS_LOCK})")
    parts = _LITERAL.split(statement)
    # Odd parts are string literals: a ? there is text, and psycopg wants every % doubled.
    statement = "".join(
        part.replace("%", "%%") if index % 2 else part.replace("%", "%%").replace("?", "%s")
        for index, part in enumerate(parts)
    )
    for pattern, replacement in _QUERY_REPLACEMENTS:
        statement = pattern.sub(replacement, statement)
    statement = _alias_subqueries(statement)
    if _INSERT_OR_IGNORE.match(statement):
        statement = _INSERT_OR_IGNORE.sub(r"\1INSERT INTO", statement, count=1)
        returning = _RETURNING.search(statement)
        if returning:
            at = returning.start()
            statement = statement[:at] + "ON CONFLICT DO NOTHING " + statement[at:]
        else:
            statement = statement.rstrip().removesuffix(";") + " ON CONFLICT DO NOTHING"
    return (statement,)
