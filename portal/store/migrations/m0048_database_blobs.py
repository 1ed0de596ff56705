"""Migration 48 [issue 30]: the ciphertext blobs in the database, for an installation on PostgreSQL
(portal.store.database_blobs); SQLite installations keep them as files in the data directory.

A blob is its row in `stored_blobs` (its random name, `finished` once its last byte is written,
and the day it was written: no finer time) and its ciphertext cut into `blob_chunks` of at most
CHUNK_BYTES, numbered from 0. Chunks are written as the bytes arrive and read one at a time, so a
blob is never whole in memory. Nothing here is plaintext: each chunk is part of a secretstream
blob sealed under the case's key."""

NUMBER = 48

STATEMENTS: list[str] = [
    """CREATE TABLE stored_blobs (
            name TEXT PRIMARY KEY,
            day INTEGER NOT NULL,
            finished INTEGER NOT NULL DEFAULT 0,
            size INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
    """CREATE TABLE blob_chunks (
            name TEXT NOT NULL REFERENCES stored_blobs (name) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (name, seq)
        ) WITHOUT ROWID""",
]
