"""Storage: the database, SQLite or PostgreSQL (workflow metadata and ciphertext only), and
encrypted blob files."""

from portal.store.blobs import BlobStore, blob_store
from portal.store.db import (
    ChangedWhileReadOnly,
    Database,
    after_commit,
    connect,
    in_transaction,
    open_database,
    transaction,
)
from portal.store.waits import put_off_briefly, without_waiting_for_the_disk

__all__ = [
    "Database",
    "after_commit",
    "in_transaction",
    "connect",
    "open_database",
    "put_off_briefly",
    "without_waiting_for_the_disk",
    "transaction",
    "BlobStore",
    "blob_store",
]
