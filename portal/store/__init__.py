"""Storage: the database, SQLite or PostgreSQL (workflow metadata and ciphertext only), and
encrypted blob files."""

from portal.store.blobs import BlobStore
from portal.store.db import (
    ChangedWhileReadOnly,
    Database,
    after_commit,
    connect,
    in_transaction,
    open_database,
    transaction,
)

__all__ = [
    "Database",
    "after_commit",
    "in_transaction",
    "connect",
    "open_database",
    "transaction",
    "BlobStore",
]
