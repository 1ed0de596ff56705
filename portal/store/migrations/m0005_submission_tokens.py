"""Migration 5 [input]: One-time submission tokens (portal.guard.submissions): only a hash and a
day, kept 60 days.
"""

NUMBER = 5

STATEMENTS: list[str] = [
    """CREATE TABLE submission_tokens (
            token_hash TEXT PRIMARY KEY,
            day TEXT NOT NULL
        ) WITHOUT ROWID""",
    "CREATE INDEX submission_tokens_by_day ON submission_tokens (day)",
]
