"""Backups and restore: a consistent copy of an installation taken while it serves, and its checked
return into an empty data directory (docs/deploy.md, "Backups").

A backup is a folder:

    manifest.json      written last: format, day made, schema version, audit head, and for every
    other
                       file its size and SHA-256 digest (a backup without it did not finish)
    portal.db          the database, copied with SQLite's online backup API (one read snapshot, no
    WAL)
    installation.json  the installation's secrets and settings: the receipt salt, the audit-chain
    key
    audit-head.json    the audit chain's length and latest link in that snapshot
    blobs/*.blob       every blob file the snapshot refers to

It holds only what the data directory holds at rest: workflow metadata in the clear, discloser
content as ciphertext that only the officers' own keys (wrapped under their passphrases) and
receipts open. It is taken under the installation's maintenance lock, which retention's deletion
also takes, so no blob the snapshot refers to is removed while it is copied. Blobs of disclosures
that arrive after the snapshot are not copied; those disclosures are not in the snapshot either.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from portal.core.clock import today
from portal.core.config import load_settings
from portal.core.installation_file import INSTALLATION_FILE, write_private_json
from portal.core.words import N_, Sentence
from portal.operations import backup_postgres
from portal.store.blobs import BLOB_SUFFIX
from portal.store.db import connect, database_url
from portal.store.maintenance import maintenance_lock

MANIFEST = "manifest.json"
FORMAT = 1
DATABASE = "portal.db"
HEAD = "audit-head.json"
BLOBS = "blobs"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says what is wrong, in plain words."""


@dataclass(frozen=True)
class Summary:
    cases: int
    blobs: int
    audit_length: int
    manifest_sha256: str = (
        ""  # the manifest's digest: kept off the server, `restore --expect` checks it
    )


def _empty_folder(path: Path, refusal: str) -> None:
    # `refusal`: the sentence (N_) saying that `path` (%(path)s) is not empty.
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(Sentence(refusal, path=str(path)))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _copy(source: Path, target: Path) -> tuple[str, int]:
    """Copy one file (owner-only, its modification time kept: blob times are blurred to the day,
    and the access time is set to the same, not to when an officer or this copy last read it;
    SECURITY.md, "What the data around a disclosure reveals"); return its SHA-256 (hex) and size
    as read while copying."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    stat = source.stat()
    os.utime(target, (stat.st_mtime, stat.st_mtime))
    return digest.hexdigest(), size


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _snapshot_facts(db_path: Path) -> tuple[list[str], dict, int, int]:
    """(blob names, audit head, schema version, case count) of a database copy, opened read-only."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
    try:
        # Attachments' blobs and the originals kept for disclosers (portal.records.original_files).
        blobs = [
            row[0]
            for row in conn.execute(
                "SELECT blob FROM attachments UNION SELECT blob FROM original_files ORDER BY blob"
            )
        ]
        last = conn.execute("SELECT seq, link FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        cases = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    finally:
        conn.close()
    head = {"length": last[0], "head": last[1]} if last else {"length": 0, "head": "0" * 64}
    return blobs, head, version, cases


def make_backup(data_dir: Path, dest: Path) -> Summary:
    """Copy the installation in `data_dir` into the new or empty folder `dest` while it may be
    serving (a PostgreSQL installation's: portal.operations.backup_postgres). Raises BackupError if
    `dest` is not empty or a referenced blob file is missing; OSError or sqlite3.Error for a
    fault (portal.store.faults). Whatever it raises, `dest` is left as it was: a folder it made is
    removed, an empty one emptied again, so the same command can simply be run again. A full disk
    under `data_dir` is no obstacle: the database is read as every read-only command reads it
    (portal.store.connect)."""
    settings = load_settings(data_dir)
    existed = dest.exists()
    _empty_folder(dest, N_("%(path)s is not empty: a backup goes into a new or empty folder."))
    try:
        if database_url():
            return _dump_installation(settings, data_dir, dest)
        return _copy_installation(settings, data_dir, dest)
    except BaseException:
        if existed:
            for made in dest.iterdir():
                shutil.rmtree(made) if made.is_dir() else made.unlink()
        else:
            shutil.rmtree(dest)
        raise


def _copy_installation(settings, data_dir: Path, dest: Path) -> Summary:
    (dest / BLOBS).mkdir(mode=0o700)
    files: dict[str, dict] = {}
    with maintenance_lock(data_dir):
        # The fallback of a full disk (read-only, portal.store.db.read_only_while_full) included.
        source = connect(settings.database_path, busy_timeout=30).conn
        target = sqlite3.connect(str(dest / DATABASE))
        try:
            # pages=-1: the whole database in one step, so one read snapshot, consistent with
            # itself.
            source.backup(target, pages=-1)
            if hasattr(source, "check_unchanged"):
                source.check_unchanged()  # not written under the read-only fallback meanwhile
        finally:
            target.close()
            source.close()
        os.chmod(dest / DATABASE, 0o600)
        blob_names, head, version, cases = _snapshot_facts(dest / DATABASE)
        for name in blob_names:
            relative = f"{BLOBS}/{name}{BLOB_SUFFIX}"
            source_path = settings.blob_dir / f"{name}{BLOB_SUFFIX}"
            if not source_path.exists():
                raise BackupError(Sentence(N_(
                    "The database refers to %(file)s, which is missing from %(folder)s;"
                    " the installation itself is damaged."), file=relative, folder=str(data_dir)))
            files[relative] = dict(zip(("sha256", "bytes"), _copy(source_path, dest / relative)))
    files[INSTALLATION_FILE] = dict(
        zip(("sha256", "bytes"), _copy(data_dir / INSTALLATION_FILE, dest / INSTALLATION_FILE))
    )
    write_private_json(dest / HEAD, head)
    for name in (DATABASE, HEAD):
        files[name] = dict(zip(("sha256", "bytes"), _digest(dest / name)))
    _fsync_dir(dest / BLOBS)
    manifest = {
        "format": FORMAT,
        "made": today(settings.timezone),
        "schema_version": version,
        "cases": cases,
        "audit_head": head,
        "files": dict(sorted(files.items())),
    }
    write_private_json(dest / MANIFEST, manifest)  # last: its presence says the backup is whole
    _fsync_dir(dest)
    return Summary(cases, len(blob_names), head["length"], _digest(dest / MANIFEST)[0])


@contextlib.contextmanager
def _pg_tools() -> Iterator[None]:
    try:
        yield
    except backup_postgres.DumpError as exc:
        raise BackupError(str(exc)) from exc


def _dump_installation(settings, data_dir: Path, dest: Path) -> Summary:
    """A PostgreSQL installation's backup (portal.operations.backup_postgres): the dump, the
    installation's file and the audit head of the dump's snapshot."""
    with _pg_tools():
        facts = backup_postgres.dump(data_dir, dest)
    files = {backup_postgres.DUMP: dict(zip(("sha256", "bytes"),
                                            _digest(dest / backup_postgres.DUMP)))}
    files[INSTALLATION_FILE] = dict(
        zip(("sha256", "bytes"), _copy(data_dir / INSTALLATION_FILE, dest / INSTALLATION_FILE)))
    write_private_json(dest / HEAD, facts["audit_head"])
    files[HEAD] = dict(zip(("sha256", "bytes"), _digest(dest / HEAD)))
    manifest = {"format": FORMAT, "engine": backup_postgres.ENGINE,
                "made": today(settings.timezone), **facts, "files": dict(sorted(files.items()))}
    write_private_json(dest / MANIFEST, manifest)  # last: its presence says the backup is whole
    _fsync_dir(dest)
    return Summary(facts["cases"], facts["blobs"], facts["audit_head"]["length"],
                   _digest(dest / MANIFEST)[0])


def check_backup(src: Path, expect: str | None = None) -> dict:
    """Check a backup folder without changing it; return its manifest. Raises BackupError naming the
    first thing wrong: a manifest whose SHA-256 is not `expect` (the digest printed when the backup
    was made: anything edited and re-digested since), no manifest (incomplete), a file missing, of
    the wrong size or digest, a file the manifest does not list, a damaged database, or a blob the
    database needs that is not there."""
    if not src.is_dir():
        raise BackupError(Sentence(N_("%(path)s is not a backup folder."), path=str(src)))
    if (
        expect is not None
        and (src / MANIFEST).is_file()
        and not hmac.compare_digest(_digest(src / MANIFEST)[0], expect.strip().lower())
    ):
        raise BackupError(N_(
            "The backup's manifest does not match the digest you gave: the backup was changed"
            " after it was made. Do not restore it."))
    try:
        manifest = json.loads((src / MANIFEST).read_text())
        files = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(files, dict):
            raise ValueError("unknown format")
    except FileNotFoundError:
        raise BackupError(Sentence(N_(
            "The backup in %(path)s is incomplete: it has no %(manifest)s (the backup did not"
            " finish)."), path=str(src), manifest=MANIFEST))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(Sentence(N_("The backup's %(manifest)s cannot be read (%(why)s)."),
                                   manifest=MANIFEST, why=str(exc)))
    on_postgres = manifest.get("engine") == backup_postgres.ENGINE
    for required in (backup_postgres.DUMP if on_postgres else DATABASE, INSTALLATION_FILE, HEAD):
        if required not in files:
            raise BackupError(Sentence(N_(
                "The backup is incomplete: its manifest does not list %(file)s."), file=required))
    for relative, expected in files.items():
        if not isinstance(expected, dict):
            raise BackupError(Sentence(N_(
                "The backup's %(manifest)s cannot be read (the entry for '%(file)s' is not a size"
                " and digest)."), manifest=MANIFEST, file=relative))
        path = src / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise BackupError(Sentence(N_(
                "The manifest names '%(file)s', which is not a file inside the backup."),
                file=relative))
        if not path.is_file():
            raise BackupError(Sentence(N_("The backup is incomplete: %(file)s is missing."),
                                       file=relative))
        digest, size = _digest(path)
        if size != expected.get("bytes") or digest != expected.get("sha256"):
            raise BackupError(Sentence(N_(
                "The backup is damaged: %(file)s does not match its digest in the manifest"
                " (%(size)s bytes, manifest says %(listed)s)."),
                file=relative, size=size, listed=expected.get("bytes")))
    listed = set(files)
    for path in sorted(src.rglob("*")):
        relative = path.relative_to(src).as_posix()
        if path.is_file() and relative != MANIFEST and relative not in listed:
            raise BackupError(Sentence(N_(
                "The backup holds %(file)s, which its manifest does not list."), file=relative))
    if on_postgres:  # its blobs are in the dump; its head was read from the dump's snapshot
        with _pg_tools():
            backup_postgres.check_dump(src)
        return manifest
    conn = sqlite3.connect(f"file:{src / DATABASE}?mode=ro&immutable=1", uri=True)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        verdict = str(exc)
    finally:
        conn.close()
    if verdict != "ok":
        raise BackupError(Sentence(N_("The backup's database is damaged: %(verdict)s."),
                                   verdict=verdict))
    blob_names, head, _, _ = _snapshot_facts(src / DATABASE)
    for name in blob_names:
        if f"{BLOBS}/{name}{BLOB_SUFFIX}" not in listed:
            raise BackupError(Sentence(N_(
                "The backup is incomplete: the database needs %(file)s, which it does not"
                " hold."), file=f"{BLOBS}/{name}{BLOB_SUFFIX}"))
    if head != manifest.get("audit_head"):
        raise BackupError(N_("The backup's audit head does not match its database."))
    return manifest


def restore(src: Path, data_dir: Path, expect: str | None = None) -> Summary:
    """Restore the backup in `src` into `data_dir`, which must be new or empty. Everything is
    checked first (check_backup), the copies are checked again as they are written, and the restored
    audit chain must verify against the head the backup recorded; on any failure nothing is left
    behind in `data_dir`. `expect`: the manifest digest printed when the backup was made. Raises
    BackupError. A PostgreSQL installation's backup goes into the empty database
    PORTAL_DATABASE_URL names (portal.operations.backup_postgres), and an SQLite one's never
    into PostgreSQL (that is a migration, not a restore)."""
    manifest = check_backup(src, expect)
    on_postgres = manifest.get("engine") == backup_postgres.ENGINE
    if database_url() and not on_postgres:
        raise BackupError(N_("This backup is of an SQLite installation; unset PORTAL_DATABASE_URL"
                             " to restore it into a data directory of its own."))
    _empty_folder(data_dir, N_("%(path)s is not empty: a restore goes into a new or empty folder."))
    try:
        if on_postgres:
            with _pg_tools():
                backup_postgres.restore_database(src)
        (data_dir / BLOBS).mkdir(mode=0o700)
        for relative, expected in manifest["files"].items():
            if relative == backup_postgres.DUMP:
                continue  # restored into the database above
            if _copy(src / relative, data_dir / relative) != (
                expected["sha256"],
                expected["bytes"],
            ):
                raise BackupError(Sentence(N_(
                    "%(file)s changed while it was being restored; try again."), file=relative))
        _fsync_dir(data_dir / BLOBS)
        _fsync_dir(data_dir)
        return _verify_restored(data_dir, manifest)
    except BaseException:
        for path in data_dir.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        raise


def _verify_restored(data_dir: Path, manifest: dict) -> Summary:
    from portal.core.context import open_context
    from portal.records import audit_head, audit_verify

    ctx = open_context(data_dir)
    try:
        head = manifest["audit_head"]
        verdict = audit_verify.verify(
            ctx, audit_head.Head(head["length"], head["head"]) if head["length"] else None
        )
        if not verdict.intact:
            raise BackupError(Sentence(N_("The backup's audit chain does not verify: %(why)s"),
                                       why=verdict.message))
        cases = ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    finally:
        ctx.db.conn.close()
    blobs = manifest.get("blobs")
    if blobs is None:
        blobs = sum(1 for name in manifest["files"] if name.startswith(BLOBS + "/"))
    return Summary(cases, blobs, head["length"])
