"""Erasing an organisation from a service (`portal org erase`, issue 29): only once an export or a
disposal authority is recorded (Public Records Act 2005 s 18: public records are disposed of only
with the Chief Archivist's authority, or kept elsewhere), and then completely.

The export is the organisation's archive (archives.back_up), shown to open whole with the
organisation's own archive key and to be one this service made of this organisation. Erasing then
takes the data directory out of the service (renamed aside and forgotten by the registry, with
its host names, under the service's lock, so no request reaches it again), destroys its
installation file first (its secrets: the receipts' salt, the audit chain's key, the proofs'
signing key) and then every other file. The service keeps one entry in its audit chain,
`organisation_erase`, naming the service id, the archive's digest or the disposal authority's
reference: not the slug or the name."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from portal.core.context import open_context
from portal.core.installation_file import INSTALLATION_FILE
from portal.core.words import N_, Sentence
from portal.service import operator
from portal.service.archives import file_digest, open_archive, work_dir
from portal.service.registry import ServiceError, organisation, remove_organisation

# A disposal authority's reference as the Chief Archivist gives it (such as "DA 734"): short.
_MOST_REFERENCE = 60


@dataclass(frozen=True)
class Erased:
    id: str
    files: int  # files removed


def _backed_up(service_dir: Path, org_id: str, digest: str) -> bool:
    """Whether the service's audit chain records an archive of `org_id` with this digest."""
    ctx = open_context(operator.ensure_operator_installation(service_dir))
    try:
        rows = ctx.db.execute(
            "SELECT detail FROM audit_log WHERE event = 'organisation_backup'"
        ).fetchall()
    finally:
        ctx.db.conn.close()
    return any(
        json.loads(detail).get("organisation") == org_id
        and json.loads(detail).get("archive") == digest
        for (detail,) in rows
    )


def _check_export(service_dir: Path, org_id: str, archive_path: Path, private_key: str) -> str:
    """The archive's digest, once it is shown to open whole and to be this organisation's."""
    work = work_dir(service_dir)
    try:
        about = open_archive(archive_path, private_key, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    digest = file_digest(archive_path)
    if about.get("id") != org_id or not _backed_up(service_dir, org_id, digest):
        raise ServiceError(
            N_(
                    "That archive is not one this service made of this organisation; nothing"
                    " was erased."
            )
        )
    return digest


def _destroy(folder: Path) -> int:
    """The installation file (its secrets) overwritten and removed first, then everything."""
    count = 0
    secrets_file = folder / INSTALLATION_FILE
    if secrets_file.is_file():
        size = secrets_file.stat().st_size
        with open(secrets_file, "r+b") as fh:
            fh.write(os.urandom(size))
            fh.flush()
            os.fsync(fh.fileno())
        secrets_file.unlink()
        count += 1
    count += sum(1 for path in folder.rglob("*") if path.is_file())
    shutil.rmtree(folder)
    return count


def erase(
    service_dir: Path,
    slug: str,
    *,
    archive_path: Path | None = None,
    private_key: str | None = None,
    disposal_authority: str | None = None,
) -> Erased:
    """Erase organisation `slug` from the service, once its export (`archive_path`, opened with
    `private_key`) or a disposal authority's reference is given. Its server may be serving: the
    dispatcher forgets it at its next request. ServiceError, with nothing erased, for an unknown
    organisation, neither given (or both), an archive that is not whole or not this service's of
    this organisation, or a reference that is empty or longer than 60 characters."""
    service_dir = Path(service_dir)
    member = organisation(service_dir, slug)
    reference = (disposal_authority or "").strip()
    if bool(archive_path) == bool(reference):
        raise ServiceError(
            N_(
                    "Erasing needs the organisation's export (--archive with --archive-key)"
                    " or the reference of a disposal authority (--disposal-authority), one of"
                    " the two."
            )
        )
    detail: dict = {"organisation": member.id}
    if archive_path:
        if not private_key:
            raise ServiceError(N_("The archive is checked with the organisation's archive key."))
        detail["archive"] = _check_export(service_dir, member.id, Path(archive_path), private_key)
    else:
        if len(reference) > _MOST_REFERENCE:
            raise ServiceError(N_("A disposal authority's reference is short, such as DA 734."))
        detail["disposal_authority"] = reference
    aside = service_dir / f".erasing-{secrets.token_hex(8)}"
    remove_organisation(service_dir, slug, lambda data_dir: os.rename(data_dir, aside))
    removed = _destroy(aside)
    operator.record(service_dir, "organisation_erase", detail)
    return Erased(member.id, removed)
