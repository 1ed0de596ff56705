"""The installation file, `installation.json`, on disk: made with fresh secrets by `portal init`,
replaced atomically, changed under a lock between processes; and the data directory's
permissions. What the file's values mean is portal.core.config."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import secrets
from pathlib import Path

from crypto import (
    FAST_TEST_PARAMS,
    PASSPHRASE_PARAMS,
    RECEIPT_VERSION,
    RECEIPT_VERSIONS,
    new_signing_key,
)

INSTALLATION_FILE = "installation.json"


def create_installation(data_dir: Path, *, insecure_fast_kdf: bool = False) -> Path:
    """Write a new installation file with fresh secrets. Refuses to overwrite one."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    path = data_dir / INSTALLATION_FILE
    receipt = FAST_TEST_PARAMS if insecure_fast_kdf else RECEIPT_VERSIONS[RECEIPT_VERSION]
    passphrase = FAST_TEST_PARAMS if insecure_fast_kdf else PASSPHRASE_PARAMS
    document = {
        "secret_key": secrets.token_hex(32),
        "install_salt": secrets.token_hex(16),
        # Only receipt version 2: a new installation has no receipt of version 1 ("receipt_kdf").
        "receipt_kdf_v2": dataclasses.asdict(receipt),
        "passphrase_kdf": dataclasses.asdict(passphrase),
        "signing_key": new_signing_key().hex(),
        "insecure_fast_kdf": insecure_fast_kdf,
    }
    if insecure_fast_kdf:
        # Tests and demos: a no-script ticket is valid at once and the line is never long, so a
        # test client (which runs no script) is served the way a patient browser is.
        document |= {"no_script_wait_seconds": 0, "tickets_per_minute": 60000}
        document |= {"cases_per_day": 100000}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(document, fh, indent=2)
    return path


def loose_permissions(data_dir: Path) -> list[str]:
    """Everything in the data directory that someone other than its owner could read or enter: each
    as 'path (mode 0644)'. Files should be 0600, folders 0700 (SECURITY.md, data directory)."""
    found = []
    for path in [data_dir, *sorted(data_dir.rglob("*"))]:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue  # removed meanwhile
        if mode & 0o077:
            found.append(f"{path} (mode {mode & 0o777:04o})")
    return found


class installation_lock:
    """An exclusive lock on installation.json's changes, between processes (workers, commands)."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / "installation.lock"

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc_info) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def write_private_json(path: Path, document: dict) -> None:
    """Replace the JSON file `path` atomically: a 0600 temporary file beside it, synced, renamed
    into place."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(document, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_installation(data_dir: Path, document: dict) -> None:
    """Replace installation.json atomically."""
    write_private_json(data_dir / INSTALLATION_FILE, document)
