"""Migration 10 [ops]: Retention (portal.operations.retention): each channel's period after a case
is closed, in months (7 years by default; public records rules decide the real value), legal holds
that stop it, and deletion requests awaiting a second officer. A case's closing day is its last
'closed' status record's day.
"""

NUMBER = 10

STATEMENTS: list[str] = [
    (
        "ALTER TABLE channels ADD COLUMN retention_months INTEGER NOT NULL DEFAULT 84 CHECK"
        " (retention_months >= 1)"
    ),
    """CREATE TABLE legal_holds (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL
        ) WITHOUT ROWID""",
    """CREATE TABLE deletion_requests (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
        ) WITHOUT ROWID""",
]
