"""Migration 3 [abuse]: Sign-in budgets (portal.guard.sign_in_budget): failures per bucket in a
window stored rounded to the window, a pause rounded up to the minute; devices that signed in
before, by a hash of their cookie, with the day; each case's discloser usage. Old throttle rows held
their window's start to the second: dropped.
"""

NUMBER = 3

STATEMENTS: list[str] = [
    """CREATE TABLE sign_in_budgets (
            bucket TEXT PRIMARY KEY,
            window_start INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            paused_until INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
    """CREATE TABLE sign_in_devices (
            token_hash TEXT NOT NULL,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            PRIMARY KEY (token_hash, account_id)
        ) WITHOUT ROWID""",
    # What a case's discloser has sent over its life, against the per-case quota officers see.
    """CREATE TABLE case_quota (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            messages INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
    "DELETE FROM throttle",
]
