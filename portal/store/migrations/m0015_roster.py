"""Migration 15 [keys]: each channel's signed roster (portal.keys.roster; SECURITY.md, "Signed
roster"), and what each officer last saw of it, so a changed root or roster is flagged at sign-in.
"""

NUMBER = 15

STATEMENTS: list[str] = [
    # body: the canonical statement (crypto.roster); signatures: 96-byte records,
    # signer || signature.
    """CREATE TABLE roster_statements (
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            seq INTEGER NOT NULL,
            body BLOB NOT NULL,
            signatures BLOB NOT NULL,
            PRIMARY KEY (channel_id, seq)
        ) WITHOUT ROWID""",
    # A hand-over of a channel's root being signed by a quorum of its readers: the statement and the
    # signatures gathered so far (portal.keys.roster_work).
    """CREATE TABLE roster_handovers (
            channel_id INTEGER PRIMARY KEY REFERENCES channels(id),
            officer_id INTEGER NOT NULL,
            body BLOB NOT NULL,
            signatures BLOB NOT NULL
        ) WITHOUT ROWID""",
    """CREATE TABLE roster_seen (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            root BLOB NOT NULL,
            head BLOB NOT NULL,
            PRIMARY KEY (account_id, channel_id)
        ) WITHOUT ROWID""",
]
