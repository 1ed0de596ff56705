"""Storage: the SQLite database (workflow metadata and ciphertext only) and encrypted blob files."""

from portal.store.db import (
    Database,
    after_commit,
    connect,
    in_transaction,
    open_database,
    transaction,
)
from portal.store.blobs import BlobStore

__all__ = [
    "Database",
    "after_commit",
    "in_transaction",
    "connect",
    "open_database",
    "transaction",
    "BlobStore",
]
