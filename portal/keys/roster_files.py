"""The two files of the signed roster kept outside the database (SECURITY.md, "Signed roster").

- The roots file (`Settings.roster_roots_path`): each channel's pinned root, the Ed25519 public key
  of the officer whose statement starts the channel's chain. In production it is a file the serving
  user can read but not write (docs/deploy.md, "Roster roots"); the portal adds a channel's root
  itself only where it may write the file (a demo, a test), and never changes one it holds.
- The head file (`roster-head.json` in the data directory): each channel's chain length, the hash of
  its last statement and the root it was verified from, written after every commit that adds a
  statement, like the audit head. A chain shorter than its head, or different at the head, was cut
  or rewritten in the database. With PORTAL_WITNESS_DIR each head is also kept by the witness
  (portal.store.witness), which holds every node's.

Both are JSON objects keyed by the channel's id (a decimal string) with hex values.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from portal.core.installation_file import write_private_json
from portal.store import witness

HEAD_FILE = "roster-head.json"
_LOCK_FILE = "roster-head.lock"
_WITNESS_PREFIX = "roster-"  # the witness's chain of channel N is roster-N
_HEX32 = re.compile(r"[0-9a-f]{64}")


class RosterFileError(Exception):
    """A roots or head file exists but cannot be read as one; the message names it."""


@dataclass(frozen=True)
class Head:
    length: int
    head: bytes  # 32 bytes: the hash of the last statement
    root: bytes  # 32 bytes: the pinned root the chain was verified from


def _hex32(value: object, path: Path) -> bytes:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise RosterFileError(f"{path.name} holds a value that is not a 32-byte key in hex")
    return bytes.fromhex(value)


def _read_json(path: Path) -> dict:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise RosterFileError(f"{path.name} cannot be read ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise RosterFileError(f"{path.name} is not a JSON object")
    return document


def read_roots(path: Path) -> dict[int, bytes]:
    """Channel id -> pinned root (32 bytes). An absent file pins nothing. Raises RosterFileError."""
    roots = {}
    for channel, root in _read_json(path).items():
        if not (isinstance(channel, str) and channel.isascii() and channel.isdigit()):
            raise RosterFileError(f"{path.name} holds a key that is not a channel's id")
        roots[int(channel)] = _hex32(root, path)
    return roots


def roots_document(roots: dict[int, bytes]) -> str:
    """The roots file's text for these roots (channel id -> root), as the portal writes it."""
    return json.dumps({str(c): r.hex() for c, r in sorted(roots.items())}, indent=1) + "\n"


def pin_root(path: Path, channel_id: int, root: bytes) -> bool:
    """Add `channel_id`'s root if the file has none for it and the portal may write the file.

    True if the file now pins `root` for the channel; False if it could not be written (a
    read-only roots file: the operator pins it, docs/deploy.md) or pins another root already."""
    lock = path.with_name(path.name + ".lock")
    try:
        lock_fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        try:
            return read_roots(path).get(channel_id) == root
        except RosterFileError:
            return False
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        document = _read_json(path)
        pinned = read_roots(path)
        if channel_id in pinned:
            return pinned[channel_id] == root
        document[str(channel_id)] = root.hex()
        try:
            write_private_json(path, document)
        except OSError:
            return False
        return True
    finally:
        os.close(lock_fd)


def read_heads(data_dir: Path) -> dict[int, Head]:
    """Channel id -> the head written after the last commit: this node's head file's, or the
    witness's where it is longer (PORTAL_WITNESS_DIR: every node's, portal.store.witness). Raises
    RosterFileError."""
    path = data_dir / HEAD_FILE
    heads = _heads(_read_json(path), path)
    for kind in witness.kinds(_WITNESS_PREFIX):
        try:
            witnessed = _heads({kind.removeprefix(_WITNESS_PREFIX): witness.latest(kind)},
                               Path(kind))
        except witness.WitnessError as exc:
            raise RosterFileError(str(exc)) from None
        for channel, head in witnessed.items():
            if channel not in heads or head.length > heads[channel].length:
                heads[channel] = head
    return heads


def _heads(document: dict, path: Path) -> dict[int, Head]:
    heads = {}
    for channel, value in document.items():
        length = value.get("length") if isinstance(value, dict) else None
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise RosterFileError(f"{path.name} holds an entry that is not a head")
        if not (isinstance(channel, str) and channel.isascii() and channel.isdigit()):
            raise RosterFileError(f"{path.name} holds a key that is not a channel's id")
        heads[int(channel)] = Head(
            value["length"], _hex32(value.get("head"), path), _hex32(value.get("root"), path)
        )
    return heads


def write_head(data_dir: Path, channel_id: int, head: Head) -> None:
    """Record a channel's head atomically; never move it backwards for the same root (another
    worker may have committed a later statement)."""
    lock_fd = os.open(data_dir / _LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        path = data_dir / HEAD_FILE
        document = _read_json(path)
        current = read_heads(data_dir).get(channel_id)
        if current is not None and current.root == head.root and current.length >= head.length:
            return
        document[str(channel_id)] = {
            "length": head.length,
            "head": head.head.hex(),
            "root": head.root.hex(),
        }
        write_private_json(path, document)
    finally:
        os.close(lock_fd)
    witness.record(f"{_WITNESS_PREFIX}{channel_id}", head.length, {
        "length": head.length, "head": head.head.hex(), "root": head.root.hex()})
