"""A witness of the chains' heads outside the database and outside any one node (issue 30): where
several nodes share one PostgreSQL database, a head file in each node's data directory holds only
what that node committed, so a tail cut from the database after another node's commits would go
unseen. PORTAL_WITNESS_DIR (the same for every node) names a directory on storage neither the
database server nor one node's disk holds: an object-store bucket with object lock mounted
write-once (mountpoint-s3 writes only new objects), or another host's export.

Every head is a new file, never rewritten: `KIND/LENGTH.DIGEST.json` (the length zero-padded so
names sort; the digest of its content), made with O_EXCL and fsynced. Nodes never contend (a head
of the same length and content is already there: nothing to do), nothing is ever moved backwards,
and under object lock not even the portal's own user can take one back. The head is the longest
there; two different heads of one length (two chains, one of them rewritten) are reported, not
chosen between.

Without PORTAL_WITNESS_DIR (SQLite's one machine, the default) nothing is written here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


class WitnessError(Exception):
    """The witness cannot be read as one: the message says what is wrong, in plain words."""


def witness_dir() -> Path | None:
    """PORTAL_WITNESS_DIR, or None when no witness is kept."""
    place = os.environ.get("PORTAL_WITNESS_DIR")
    return Path(place) if place else None


def record(kind: str, length: int, document: dict) -> None:
    """Keep `document` as the head of length `length` of the chain `kind` (an "audit" or
    "roster-CHANNEL"), if a witness is kept. Raises OSError when the witness cannot be written."""
    root = witness_dir()
    if root is None:
        return
    text = json.dumps(document, sort_keys=True).encode()
    folder = root / kind
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{length:020d}.{hashlib.sha256(text).hexdigest()[:32]}.json"
    try:
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another node witnessed the same head
    with os.fdopen(fd, "wb") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def latest(kind: str) -> dict | None:
    """The longest head witnessed for `kind`: its document, or None (no witness kept, or nothing
    witnessed yet). Raises WitnessError for an unreadable head or two different heads of the
    longest length."""
    root = witness_dir()
    if root is None or not (root / kind).is_dir():
        return None
    names = sorted(name for name in os.listdir(root / kind) if name.endswith(".json"))
    if not names:
        return None
    longest = [name for name in names if name.split(".")[0] == names[-1].split(".")[0]]
    if len(longest) > 1:
        raise WitnessError(f"the witness holds {len(longest)} different heads of length "
                           f"{int(names[-1].split('.')[0])} for {kind}: a chain was rewritten")
    try:
        return json.loads((root / kind / names[-1]).read_text())
    except (OSError, ValueError) as exc:
        raise WitnessError(f"the witness's head {names[-1]} cannot be read "
                           f"({type(exc).__name__})") from None


def kinds(prefix: str) -> list[str]:
    """The chains witnessed whose kind starts with `prefix` (none without a witness)."""
    root = witness_dir()
    if root is None or not root.is_dir():
        return []
    return sorted(name for name in os.listdir(root) if name.startswith(prefix))
