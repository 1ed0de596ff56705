"""Every SQL statement the portal runs, captured with sqlite3's trace callback on each connection the
store layer opens (portal.store.db.connect), and grouped into write transactions. On PostgreSQL,
each statement the store layer's connections run (tests.support.database.statements_run)."""
from __future__ import annotations

import contextlib
import re
import sqlite3
from dataclasses import dataclass, field

import portal.store.db as store_db
from tests.support import database


@dataclass
class Trace:
    statements: list[tuple[int, str]] = field(default_factory=list)  # (connection number, sql)
    parameters: list = field(default_factory=list)  # on PostgreSQL: each statement's, in order

    def sql(self) -> list[str]:
        return [sql for _, sql in self.statements]

    def transactions(self) -> list[list[str]]:
        """The statements of each write transaction (BEGIN IMMEDIATE .. COMMIT), per connection."""
        open_: dict[int, list[str]] = {}
        done: list[list[str]] = []
        for number, sql in self.statements:
            text = sql.strip().upper()
            if text.startswith("BEGIN"):
                open_[number] = []
            elif text in ("COMMIT", "ROLLBACK") and number in open_:
                done.append(open_.pop(number))
            elif number in open_:
                open_[number].append(sql)
        return done


def written_into(transaction: list[str], table: str) -> int:
    """How many statements of the transaction insert into `table` (one row each in the portal)."""
    pattern = re.compile(rf"^\s*INSERT\s+(OR\s+\w+\s+)?INTO\s+{table}\b", re.I)
    return sum(1 for sql in transaction if pattern.match(sql))


@contextlib.contextmanager
def traced():
    """Trace every connection opened meanwhile; yields the Trace."""
    trace = Trace()
    if database.on_postgres():
        with database.statements_run(trace.parameters) as seen:
            trace.statements = seen
            yield trace
        return
    real = sqlite3.connect
    count = [0]

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        count[0] += 1
        number = count[0]
        last = [None]

        def seen(sql: str) -> None:
            # SQLite reports each trigger program run by a statement with the statement's own text
            # again: one statement, however many triggers it fires.
            if sql != last[0]:
                trace.statements.append((number, sql))
            last[0] = sql

        conn.set_trace_callback(seen)
        return conn

    store_db.sqlite3.connect = connect
    try:
        yield trace
    finally:
        store_db.sqlite3.connect = real
