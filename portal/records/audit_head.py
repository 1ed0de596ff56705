"""The audit chain's head kept outside the database: `audit-head.json` in the data directory (the
chain's length and latest link), written after each commit and read back by `portal audit head` and
`portal audit verify`, so a cut-off tail or a rebuilt chain is found. With PORTAL_WITNESS_DIR set
(several nodes on one PostgreSQL database, docs/deploy.md §9) each head is also kept by the witness
(portal.store.witness), which holds every node's heads: `read_witnessed`.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from portal.core.words import N_, Sentence
from portal.store import witness

HEAD_FILE = "audit-head.json"
_LOCK_FILE = "audit-head.lock"


@dataclass(frozen=True)
class Head:
    length: int
    link: str  # hex

    def line(self) -> str:
        """How `portal audit head` prints it, and how `portal audit verify --expect` reads it
        back."""
        return f"length {self.length} head {self.link}"

    @classmethod
    def parse(cls, text: str) -> "Head":
        match = re.fullmatch(r"\s*length\s+(\d+)\s+head\s+([0-9a-f]{64})\s*", text)
        if not match:
            raise ValueError("expected a line like: length 42 head 3fa9... (64 hex digits)")
        return cls(int(match.group(1)), match.group(2))


def write_head(data_dir: Path, length: int, link: str) -> None:
    """Write the head file atomically; never move it backwards (another worker may have committed
    later). Then the witness's, if one is kept (portal.store.witness; OSError if it cannot be
    written)."""
    lock_fd = os.open(data_dir / _LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        current = read_head(data_dir)
        if isinstance(current, Head) and current.length >= length:
            return
        tmp = data_dir / (HEAD_FILE + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"length": length, "head": link}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, data_dir / HEAD_FILE)
    finally:
        os.close(lock_fd)
    witness.record("audit", length, {"length": length, "head": link})


def read_head(data_dir: Path) -> Head | None | str:
    """The head file's contents; None if there is none; a message (str) if it cannot be read."""
    path = data_dir / HEAD_FILE
    try:
        document = json.loads(path.read_text())
        head = Head(int(document["length"]), str(document["head"]))
        Head.parse(head.line())
        return head
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Sentence(
            N_("the head file %(name)s cannot be read (%(why)s)"),
            name=path.name,
            why=type(exc).__name__,
        )


def read_witnessed() -> Head | None | str:
    """The longest head the witness holds (every node's); None without a witness, or before the
    first; a message (str) if it cannot be read."""
    try:
        document = witness.latest("audit")
    except witness.WitnessError as exc:
        return str(exc)
    if document is None:
        return None
    try:
        head = Head(int(document["length"]), str(document["head"]))
        Head.parse(head.line())
        return head
    except (ValueError, KeyError, TypeError) as exc:
        return f"the witness's audit head cannot be read ({type(exc).__name__})"
