"""Migration 2 [enrol]: Officers own their keys: enrolment links, forced first-sign-in change,
recovery codes, a TOTP replay guard, unambiguous display names and memberships that wait for a
reader's consent.
"""

NUMBER = 2

STATEMENTS: list[str] = [
    "ALTER TABLE accounts ADD COLUMN name_key TEXT",
    # Set for accounts made by `officer add`: whoever ran it knows the passphrase and TOTP secret.
    "ALTER TABLE accounts ADD COLUMN must_change_credentials INTEGER NOT NULL DEFAULT 0",
    "UPDATE accounts SET must_change_credentials = 1 WHERE role = 'officer'",
    "ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE accounts ADD COLUMN pending_totp_secret TEXT",
    "CREATE UNIQUE INDEX accounts_by_name_key ON accounts (name_key) WHERE name_key IS NOT NULL",
    (
        "ALTER TABLE channel_officers ADD COLUMN state TEXT NOT NULL DEFAULT 'confirmed' "
        "CHECK (state IN ('pending', 'confirmed'))"
    ),
    (
        "ALTER TABLE channel_officers ADD COLUMN requested_by INTEGER REFERENCES"
        " accounts(id) ON DELETE SET NULL"
    ),
    # Only the token's hash is kept; invited_by NULL means the server's operator (the command line).
    """CREATE TABLE invitations (
            token_hash TEXT PRIMARY KEY,
            email TEXT NOT NULL COLLATE NOCASE,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            channel_ids TEXT NOT NULL,
            invited_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            expires_at INTEGER NOT NULL,
            used INTEGER NOT NULL DEFAULT 0
        )""",
    # A used recovery code is deleted, so each works once.
    """CREATE TABLE recovery_codes (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            code_hash TEXT NOT NULL,
            PRIMARY KEY (account_id, code_hash)
        )""",
    # Who asked for, confirmed, refused or made each membership: shown to the channel's officers.
    """CREATE TABLE membership_events (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT NOT NULL,
            day TEXT NOT NULL
        )""",
    """CREATE TABLE membership_events_seen (
            event_id INTEGER NOT NULL REFERENCES membership_events(id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            PRIMARY KEY (event_id, account_id)
        )""",
]
