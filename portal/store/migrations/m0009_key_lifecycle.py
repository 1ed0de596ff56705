"""Migration 9 [keys]: Key lifecycle: each channel's recovery public key and the copies of every
case's keys sealed to it (the private half never reaches the server); offboarded accounts; key
rotations in progress (the new key pair wrapped under the same passphrase, so an interrupted
rotation resumes and every sealed copy opens with the old key or the new one); the last notification
digest sent to each officer.
"""

NUMBER = 9

STATEMENTS: list[str] = [
    "ALTER TABLE channels ADD COLUMN recovery_public_key BLOB",
    """CREATE TABLE recovery_copies (
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            key_table TEXT NOT NULL CHECK (key_table IN ('case_keys', 'internal_keys',
                'identity_keys')),
            sealed_key BLOB NOT NULL,
            PRIMARY KEY (case_id, key_table)
        )""",
    "ALTER TABLE accounts ADD COLUMN offboarded_day TEXT",
    """CREATE TABLE key_rotations (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            new_public_key BLOB NOT NULL,
            new_wrapped_private_key BLOB NOT NULL
        )""",
    """CREATE TABLE notification_digests (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            slot TEXT NOT NULL,
            fingerprint TEXT NOT NULL
        )""",
]
