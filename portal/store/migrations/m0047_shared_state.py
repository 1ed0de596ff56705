"""Migration 47 [issue 30]: state several `portal serve` nodes share when the database is
PostgreSQL, which one machine keeps in memory when it is SQLite (portal.store.shared_state): the
ticket line of each form and the per-minute counts that set the proofs' difficulty.

`name` is a keyed hash (a subkey of the installation's secret key) of what the row holds, and
`value` is sealed (XSalsa20-Poly1305) under another subkey: the database server learns neither the
minute a count is for nor the turns of the line. On PostgreSQL the table is UNLOGGED
(portal.store.dialect): its rows are in no WAL, no WAL archive and no replica, and are emptied
after a crash. The table is never used on SQLite."""

NUMBER = 47

STATEMENTS: list[str] = [
    """CREATE TABLE shared_state (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID""",
]
