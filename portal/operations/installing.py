"""Making an installation's data directory, as `portal init` does and as a service makes each of its
organisations' (portal.service.registry)."""

from __future__ import annotations

from pathlib import Path

from portal.casework.referrals import seed_directory
from portal.core.context import open_context
from portal.core.installation_file import create_installation


def make_installation(data_dir: Path, *, insecure_fast_kdf: bool = False) -> None:
    """An installation's data directory: its secrets
    (core.installation_file.create_installation), its database and the shipped directory of
    appropriate authorities (referrals.seed_directory)."""
    create_installation(data_dir, insecure_fast_kdf=insecure_fast_kdf)
    ctx = open_context(data_dir)
    try:
        seed_directory(ctx)
    finally:
        ctx.db.conn.close()
