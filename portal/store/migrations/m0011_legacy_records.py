"""Migration 11 [guard]: The workflow records written before record binding (schema 4), as they
stand now: only these may stay unbound. An unbound record missing here was written (or downgraded)
outside the portal.
"""

NUMBER = 11

STATEMENTS: list[str] = [
    """CREATE TABLE legacy_records (
            kind TEXT NOT NULL CHECK (kind IN ('status', 'message')),
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            record TEXT NOT NULL,
            PRIMARY KEY (kind, case_id, record)
        ) WITHOUT ROWID""",
    (
        "INSERT INTO legacy_records SELECT 'status', case_id, CAST(seq AS TEXT) FROM"
        " status_events WHERE binding != 2"
    ),
    "INSERT INTO legacy_records SELECT 'message', case_id, id FROM messages WHERE binding != 2",
]
