"""Bringing an existing single installation into a service as one of its organisations (`portal org
adopt`, issue 29): the data directory that `portal init` made is moved, whole, to
`DIR/organisations/<slug>/` and registered. Nothing in it is rewritten: its database, blobs,
secrets, signing key, accounts, channels and audit chain are the organisation's from then on, and
every case opens for its officers at /o/<slug>/ as it did at the root.

On one file system the move is a rename. Across file systems (or when asked) every file is copied,
each copy's SHA-256 digest checked against its original's, and only then is the original removed.
Either way the audit chain is verified before (the adoption is refused, and nothing moved, if it is
broken) and after, against the head it had before.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from portal.core.context import open_context
from portal.core.installation_file import INSTALLATION_FILE
from portal.core.words import N_, Sentence
from portal.records import audit_verify
from portal.records.audit_head import Head, read_head
from portal.service import operator
from portal.service.registry import (
    SERVICE_FILE,
    Organisation,
    ServiceError,
    register_organisation,
)

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Adopted:
    organisation: Organisation
    copied: bool  # copied, checked and the original removed (else renamed)
    audit_length: int


def _chain(data_dir: Path, expected: Head | None = None) -> audit_verify.Verdict:
    ctx = open_context(data_dir)
    try:
        return audit_verify.verify(ctx, expected)
    finally:
        ctx.db.conn.close()


def _digests(root: Path) -> dict[str, tuple[str, int]]:
    """Every regular file under `root`, by its path relative to it: (SHA-256 hex, bytes)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise ServiceError(Sentence(
                N_(
                    "%(path)s is a symbolic link; move the installation by hand."
                ),
                path=path,
            ))
        if path.is_file():
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
            found[str(path.relative_to(root))] = (digest.hexdigest(), path.stat().st_size)
    return found


def _copy_checked(source: Path, target: Path) -> None:
    """Copy `source` to `target` (not there yet), check every file's digest, then remove
    `source`. A copy that differs is removed and ServiceError raised, the original kept."""
    partial = target.with_name(f".{target.name}.part")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial, symlinks=True)
    os.chmod(partial, 0o700)
    if _digests(partial) != _digests(source):
        shutil.rmtree(partial, ignore_errors=True)
        raise ServiceError(Sentence(
            N_(
                "The copy of %(source)s differs from it; nothing was moved."
            ),
            source=source,
        ))
    os.rename(partial, target)
    shutil.rmtree(source)


def adopt_installation(
    service_dir: Path, slug: str, name: str, source: Path, *, copy: bool = False
) -> Adopted:
    """Make the installation at `source` the service's organisation `slug`. The installation must
    not be served meanwhile (stop `portal serve` first). Audited in the service's chain
    (`organisation_adopt`, its service id). Raises ServiceError, with nothing moved, for a slug or
    name as create_organisation refuses, a `source` that is no installation or is part of the
    service, or an audit chain that does not verify."""
    service_dir, source = Path(service_dir).resolve(), Path(source).resolve()
    if not (source / INSTALLATION_FILE).is_file() or (source / SERVICE_FILE).exists():
        raise ServiceError(Sentence(
            N_(
                "%(source)s is not the data directory of an installation."
            ),
            source=source,
        ))
    if source == service_dir or service_dir in source.parents or source in service_dir.parents:
        raise ServiceError(Sentence(
            N_(
                "%(source)s is part of the service already."
            ),
            source=source,
        ))
    before = _chain(source)
    if not before.intact:
        raise ServiceError(Sentence(
            N_(
                "The audit chain of %(source)s does not verify: %(message)s"
            ),
            source=source,
            message=before.message,
        ))
    head = read_head(source)
    copied = []

    def move(target: Path) -> None:
        if target.exists() and any(target.iterdir()):
            raise ServiceError(Sentence(
                N_(
                    "%(target)s is there already and not empty; nothing was moved."
                ),
                target=target,
            ))
        if target.exists():
            target.rmdir()
        if not copy:
            try:
                os.rename(source, target)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:  # another file system: copy instead
                    raise
        _copy_checked(source, target)
        copied.append(True)

    made = register_organisation(service_dir, slug, name, move)
    target = service_dir / "organisations" / made.slug
    after = _chain(target, head if isinstance(head, Head) else None)
    if not after.intact or after.length != before.length:
        raise ServiceError(
            Sentence(
                N_(
                    "The audit chain of %(target)s does not verify after the move:"
                    " %(message)s"
                ),
                target=target,
                message=after.message,
            )
        )
    operator.record(service_dir, "organisation_adopt", {"organisation": made.id})
    return Adopted(made, bool(copied), after.length)
