"""Migration 14 [keys]: recovery keys wait for an officer, and a rotation takes a new passphrase.

`recovery_requests`: a channel's recovery key asked for on the command line, pending until an
officer of the channel confirms it (portal.keys.recovery_requests); one per channel, with the
custodians' Ed25519 public key derived from the same secret (`custodians_key`, NULL when the
operator gave none), which the roster's recovery statement carries so that the custodians may
hand its root on. In
`key_rotations`, `old_wrapped_private_key` is the officer's old private key wrapped under the NEW
passphrase (so the rotation resumes from that passphrase alone; NULL for a rotation begun before
this migration, under the same passphrase), and `cases_done_through` is the last case id whose
copies were re-sealed (the rotation goes case by case, in id order).
"""

NUMBER = 14

STATEMENTS: list[str] = [
    """CREATE TABLE recovery_requests (
            channel_id INTEGER PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
            public_key BLOB NOT NULL,
            custodians_key BLOB,
            replaces INTEGER NOT NULL CHECK (replaces IN (0, 1)),
            requested_day TEXT NOT NULL
        )""",
    "ALTER TABLE key_rotations ADD COLUMN old_wrapped_private_key BLOB",
    "ALTER TABLE key_rotations ADD COLUMN cases_done_through TEXT",
]
