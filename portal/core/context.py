"""What a domain function needs from the installation: settings, database and blob store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from portal.core.config import Settings, load_settings
from portal.store import BlobStore, Database, blob_store, open_database


@dataclass
class Context:
    settings: Settings
    db: Database
    blobs: BlobStore


def open_context(data_dir: Path, **overrides) -> Context:
    """Open an installation outside a web request (commands, set-up, tests)."""
    settings = load_settings(data_dir, **overrides)
    db = open_database(settings.database_path, settings.busy_timeout_seconds)
    return Context(settings, db, blob_store(settings.blob_dir))
