"""Migration 6 [workflow]: The statutory case workflow: each channel's regime, the s 13 steps with
their dates, the s 13(2) extension and progress updates, the next deadline stored when it changes
(so lists never compute it per row), referrals, officers-only case keys and notes, the interests
register and the appropriate-authority directory. Discloser content stays in *_ct columns.
"""

NUMBER = 6

STATEMENTS: list[str] = [
    (
        "ALTER TABLE channels ADD COLUMN regime TEXT NOT NULL DEFAULT 'nz' CHECK (regime IN"
        " ('nz', 'eu'))"
    ),
    "ALTER TABLE cases ADD COLUMN due_day TEXT",
    "ALTER TABLE cases ADD COLUMN due_kind TEXT",
    """CREATE TABLE case_steps (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            PRIMARY KEY (case_id, step)
        )""",
    # s 13(2): dealing with it in 20 working days is not practicable. The expected timeframe told to
    # the discloser is ciphertext under the case key; the update rhythm drives the clock.
    """CREATE TABLE case_extensions (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            update_every INTEGER NOT NULL CHECK (update_every BETWEEN 1 AND 60),
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            detail_ct BLOB NOT NULL
        )""",
    """CREATE TABLE progress_updates (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            PRIMARY KEY (case_id, seq)
        )""",
    # A second random key per case, sealed to the officers who read it and never to the discloser:
    # it encrypts internal notes, referral records and the list of excluded officers.
    """CREATE TABLE internal_keys (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            sealed_key BLOB NOT NULL,
            PRIMARY KEY (case_id, account_id)
        )""",
    """CREATE TABLE case_notes (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            day TEXT NOT NULL,
            body_ct BLOB NOT NULL,
            UNIQUE (case_id, seq)
        )""",
    # NULL when the discloser excluded nobody; otherwise ciphertext under the internal key.
    "ALTER TABLE cases ADD COLUMN exclusions_ct BLOB",
    """CREATE TABLE referrals (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            day TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            detail_ct BLOB NOT NULL,
            PRIMARY KEY (case_id, seq)
        )""",
    # The appropriate authorities (s 25, Schedule 2): data an administrator edits, seeded at start.
    """CREATE TABLE authorities (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            covers TEXT NOT NULL,
            source TEXT NOT NULL,
            exclusive_for TEXT CHECK (exclusive_for IN ('intelligence_security',
                'international_relations'))
        )""",
    # Officers' declared interests (conflicts register), shown to fellow officers when triaging.
    """CREATE TABLE interests (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
    "CREATE INDEX cases_by_due ON cases (due_day)",
    "CREATE INDEX interests_by_account ON interests (account_id)",
]
