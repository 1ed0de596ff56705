"""Storage: the SQLite database (workflow metadata and ciphertext only) and encrypted blob files."""
from portal.store.db import Database, connect, open_database, transaction
from portal.store.blobs import BlobStore

__all__ = ["Database", "connect", "open_database", "transaction", "BlobStore"]
