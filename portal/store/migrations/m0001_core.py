"""Migration 1: the first schema: channels, accounts and their channels, cases with their fields,
keys, messages, attachments and status events, sessions, throttle.
"""

NUMBER = 1

STATEMENTS: list[str] = [
    """CREATE TABLE channels (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT ''
        )""",
    """CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('officer', 'admin')),
            public_key BLOB NOT NULL,
            wrapped_private_key BLOB NOT NULL,
            totp_secret TEXT NOT NULL,
            created_day TEXT NOT NULL
        )""",
    """CREATE TABLE channel_officers (
            channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            PRIMARY KEY (channel_id, account_id)
        )""",
    """CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            status TEXT NOT NULL,
            received_day TEXT NOT NULL,
            receipt_lookup TEXT NOT NULL UNIQUE,
            discloser_public_key BLOB NOT NULL,
            assigned_to INTEGER REFERENCES accounts(id) ON DELETE SET NULL
        )""",
    """CREATE TABLE case_fields (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value_ct BLOB NOT NULL,
            PRIMARY KEY (case_id, name)
        )""",
    # One sealed copy of the case key per reader: 'account:<id>', 'discloser' or 'recovery'.
    """CREATE TABLE case_keys (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
            sealed_key BLOB NOT NULL,
            PRIMARY KEY (case_id, recipient)
        )""",
    """CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            author TEXT NOT NULL CHECK (author IN ('discloser', 'officer')),
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            day TEXT NOT NULL,
            body_ct BLOB NOT NULL,
            UNIQUE (case_id, seq)
        )""",
    # message_id is NULL for attachments sent with the disclosure itself.
    """CREATE TABLE attachments (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            message_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            blob TEXT NOT NULL UNIQUE,
            meta_ct BLOB NOT NULL
        )""",
    """CREATE TABLE status_events (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            reason_ct BLOB,
            PRIMARY KEY (case_id, seq)
        )""",
    # Server halves of sessions that hold keys; the cookie holds the other half.
    """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('officer', 'discloser')),
            subject TEXT NOT NULL,
            server_half BLOB NOT NULL,
            expires_at INTEGER NOT NULL
        )""",
    """CREATE TABLE throttle (
            bucket TEXT PRIMARY KEY,
            window_start INTEGER NOT NULL,
            count INTEGER NOT NULL
        )""",
    "CREATE INDEX cases_by_channel ON cases (channel_id, received_day)",
    "CREATE INDEX case_keys_by_account ON case_keys (account_id)",
    "CREATE INDEX sessions_by_expiry ON sessions (expires_at)",
]
