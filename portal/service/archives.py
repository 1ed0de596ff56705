"""An organisation leaving a service, or coming back (issue 29; docs/organisations.md, "Leaving the
service"): `portal org backup`, `portal org restore` and `portal org erase`.

An organisation's archive is one file, sealed to the organisation's archive key (crypto.archive:
the organisation makes the key pair on its own machine and gives the service the public half
only), holding a tar of

    organisation.json   slug, name, service id, the day made, the backup's manifest digest
    backup/             a backup of its data directory (portal.operations.backup: the database
                        copied in one read snapshot, its blobs, its installation file, its audit
                        head, each file's digest in the manifest)
    files/...           every other file of its data directory (its sealing page's signed bundle)

So it holds what the data directory holds at rest: ciphertext, the keys' envelopes (the officers'
private keys wrapped under their passphrases, case keys sealed to them) and the workflow
metadata kept in the clear, and no more; the service operator, without the private half, opens
none of it. The archive is written encrypted as it is made (nothing of the tar is on disk in the
clear); the backup it is made from sits, while it is made, in a folder of the service's own
(0700), as the data directory itself does, and is removed after.

Restoring, on this service or another, opens the archive with the private half, checks the
backup as `portal restore` does (every file's digest, the database's integrity, the audit chain
against its recorded head) and registers the organisation again. Erasing removes the data
directory and the registry's entry; the service audit keeps an entry naming the service id only.
Each of the three is audited in the service's chain."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from crypto import archive
from crypto.errors import DecryptionError
from crypto.stream import StreamEncryptor, iter_decrypt
from portal.core.clock import today
from portal.core.installation_file import INSTALLATION_FILE
from portal.core.words import N_, Sentence
from portal.operations import backup
from portal.service import operator
from portal.service.registry import (
    Organisation,
    ServiceError,
    data_dir_of,
    organisation,
    register_organisation,
    remove_organisation,
)

ABOUT = "organisation.json"
BACKUP = "backup"
FILES = "files"
# What the backup holds already, or what is made afresh: not copied again under files/.
_IN_THE_BACKUP = {backup.DATABASE, INSTALLATION_FILE, backup.HEAD, backup.BLOBS}
_NOT_KEPT = (".lock", ".part", "-wal", "-shm", "-journal")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Archived:
    organisation: Organisation
    cases: int
    blobs: int
    sha256: str  # of the archive file: kept off the service, named by `erase --archive`
    key_fingerprint: str  # of the archive key it is sealed to


def work_dir(service_dir: Path) -> Path:
    """A folder of the service's own (0700) for one backup or restore, removed after it."""
    work = Path(service_dir) / f".work-{secrets.token_hex(8)}"
    work.mkdir(mode=0o700)
    return work


def _other_files(data_dir: Path) -> list[str]:
    """The data directory's files that the backup does not hold, relative to it."""
    found = []
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if relative.parts[0] in _IN_THE_BACKUP or path.name.endswith(_NOT_KEPT):
            continue
        if path.is_symlink():
            raise ServiceError(Sentence(
                N_(
                    "%(path)s is a symbolic link; an archive holds files only."
                ),
                path=path,
            ))
        if path.is_file():
            found.append(relative.as_posix())
    return found


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A member without the service's user names and ids."""
    return info.replace(uid=0, gid=0, uname="", gname="", deep=False)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def back_up(service_dir: Path, slug: str, public_key: str, dest: Path) -> Archived:
    """Write organisation `slug`'s archive to `dest` (a new file), sealed to `public_key` (the
    document crypto.archive.new_archive_key made; its public half). Its server may go on serving.
    Audited in the service's chain (`organisation_backup`: the service id, the archive's digest,
    the key's fingerprint). ServiceError for an unknown organisation, a key that is no archive
    key, a `dest` that exists, or a PostgreSQL installation (BackupError's message)."""
    service_dir, dest = Path(service_dir), Path(dest)
    member = organisation(service_dir, slug)
    try:
        recipient = archive.read_public_key(public_key)
    except ValueError as exc:
        raise ServiceError(str(exc))
    if dest.exists():
        raise ServiceError(Sentence(
            N_(
                "%(dest)s is there already; an archive goes into a new file."
            ),
            dest=dest,
        ))
    data_dir = data_dir_of(service_dir, slug)
    work = work_dir(service_dir)
    partial = dest.with_name(f".{dest.name}.part")
    try:
        try:
            summary = backup.make_backup(data_dir, work / BACKUP)
        except backup.BackupError as exc:
            raise ServiceError(exc.args[0])  # a Sentence: said in the operator's language
        about = {
            "slug": member.slug,
            "name": member.name,
            "id": member.id,
            "made": today("Pacific/Auckland"),
            "manifest_sha256": summary.manifest_sha256,
        }
        key, start, ad = archive.start_archive(recipient)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(start)
            with StreamEncryptor(key, out, ad) as sealed:
                with tarfile.open(fileobj=sealed, mode="w|") as tar:
                    text = json.dumps(about, indent=2).encode()
                    info = tarfile.TarInfo(ABOUT)
                    info.size, info.mode = len(text), 0o600
                    tar.addfile(info, io.BytesIO(text))
                    tar.add(work / BACKUP, arcname=BACKUP, filter=_plain)
                    for relative in _other_files(data_dir):
                        tar.add(data_dir / relative, f"{FILES}/{relative}", filter=_plain)
            out.flush()
            os.fsync(out.fileno())
        os.rename(partial, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        partial.unlink(missing_ok=True)
    made = Archived(
        member, summary.cases, summary.blobs, file_digest(dest), archive.fingerprint(recipient)
    )
    operator.record(
        service_dir,
        "organisation_backup",
        {"organisation": member.id, "archive": made.sha256, "key": made.key_fingerprint},
    )
    return made


class _Plaintext(io.RawIOBase):
    """The authenticated chunks of iter_decrypt as a file to read (tarfile's stream mode)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._left = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n

    def finish(self) -> None:
        """Read to the stream's end: DecryptionError unless it is whole (its final chunk)."""
        for _ in self._chunks:
            pass


def _member_path(name: str) -> bool:
    parts = Path(name).parts
    return (
        bool(parts)
        and not Path(name).is_absolute()
        and ".." not in parts
        and (name == ABOUT or parts[0] in (BACKUP, FILES))
    )


def open_archive(source: Path, private_key: str, into: Path) -> dict:
    """Open the archive `source` with `private_key` (the private half's document) into the empty
    folder `into`; return its organisation.json. ServiceError for a key that is no archive key,
    or an archive that is not one, sealed to another key, altered or cut short (nothing of it is
    trusted then: the caller removes `into`)."""
    try:
        private = archive.read_private_key(private_key)
    except ValueError as exc:
        raise ServiceError(str(exc))
    try:
        with open(source, "rb") as fh:
            key, ad = archive.open_archive(private, fh)
            plain = _Plaintext(iter_decrypt(key, fh, ad))
            with tarfile.open(fileobj=plain, mode="r|") as tar:
                for member in tar:
                    if not (member.isfile() or member.isdir()) or not _member_path(member.name):
                        raise ServiceError(Sentence(
                            N_(
                                "The archive holds %(name)s, not its own."
                            ),
                            name=repr(member.name),
                        ))
                    tar.extract(member, into, filter="data")
            plain.finish()
        return json.loads((into / ABOUT).read_text())
    except (DecryptionError, tarfile.TarError) as exc:
        raise ServiceError(Sentence(
            N_(
                "The archive cannot be opened with this key: %(exc)s"
            ),
            exc=exc,
        ))
    except (OSError, ValueError, KeyError) as exc:
        raise ServiceError(Sentence(N_("The archive is not whole: %(exc)s"), exc=exc))


@dataclass(frozen=True)
class Restored:
    organisation: Organisation
    cases: int
    audit_length: int


def restore(
    service_dir: Path, source: Path, private_key: str, *, slug: str | None = None
) -> Restored:
    """Register the organisation in archive `source` again (as `slug`, else the slug it had),
    its data directory restored and checked as `portal restore` checks one. Audited in the
    service's chain (`organisation_restore`: its new service id and the archive's digest).
    ServiceError for an archive or key open_archive refuses, a backup that does not check, or a
    slug as create_organisation refuses."""
    service_dir = Path(service_dir)
    work = work_dir(service_dir)
    try:
        about = open_archive(source, private_key, work)
        restored = []

        def make(data_dir: Path) -> None:
            try:
                restored.append(
                    backup.restore(work / BACKUP, data_dir, about.get("manifest_sha256"))
                )
                for path in sorted((work / FILES).rglob("*")) if (work / FILES).is_dir() else []:
                    target = data_dir / path.relative_to(work / FILES)
                    if path.is_dir():
                        target.mkdir(mode=0o700, exist_ok=True)
                    else:
                        shutil.copyfile(path, target)
                        os.chmod(target, 0o600)
            except backup.BackupError as exc:
                shutil.rmtree(data_dir, ignore_errors=True)
                raise ServiceError(exc.args[0])
            except BaseException:
                shutil.rmtree(data_dir, ignore_errors=True)
                raise

        made = register_organisation(service_dir, slug or about["slug"], about["name"], make)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    digest = file_digest(source)
    detail = {"organisation": made.id, "archive": digest}
    operator.record(service_dir, "organisation_restore", detail)
    return Restored(made, restored[0].cases, restored[0].audit_length)
