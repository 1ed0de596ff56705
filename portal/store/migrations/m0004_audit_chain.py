"""Migration 4 [guard]: The audit chain; workflow records bound to their case (binding = 2: the
record's values are in the associated data of its ciphertext, 0: made before, readable but
unverified); sessions with an absolute end.
"""

NUMBER = 4

STATEMENTS: list[str] = [
    """CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            actor INTEGER,
            subject INTEGER,
            channel_id INTEGER,
            case_ref TEXT,
            detail TEXT NOT NULL DEFAULT '{}',
            link TEXT NOT NULL
        )""",
    "CREATE INDEX audit_by_case ON audit_log (case_ref)",
    "CREATE INDEX audit_by_actor ON audit_log (actor)",
    "CREATE INDEX audit_by_subject ON audit_log (subject)",
    "ALTER TABLE status_events ADD COLUMN binding INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE messages ADD COLUMN binding INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0",
]
