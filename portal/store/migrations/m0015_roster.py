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
    """CREATE TABLE roster_seen (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            channel_id INTEGER NOT NULL REFERENCES channels(id),
            root BLOB NOT NULL,
            head BLOB NOT NULL,
            PRIMARY KEY (account_id, channel_id)
        ) WITHOUT ROWID""",
]
