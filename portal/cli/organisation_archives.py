"""An organisation leaving a service or coming back (issue 29; docs/organisations.md, "Leaving the
service"): `portal org archive-key`, `portal org backup`, `portal org restore`, `portal org
erase`."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.service import SERVICE_OPTION, org
from portal.cli.words import Refused, _, said
from portal.service import registry


@org.command("archive-key")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A new file for the private half: the organisation keeps it, off the service.",
)
def org_archive_key(out: Path) -> None:
    """Make an organisation's archive key, on the organisation's own machine: the private half
    goes into OUT, the public half is printed, for `portal org backup --archive-public-key`."""
    import os

    from crypto import archive

    private, public = archive.new_archive_key()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Refused(_("%(file)s is there already; choose a new file.", file=out))
    with os.fdopen(fd, "w") as fh:
        fh.write(private + "\n")
    click.echo(_("The private half is in %(file)s: keep it off the service; it alone opens"
                 " archives.", file=out))
    click.echo(f"fingerprint: {archive.fingerprint(archive.read_public_key(public))}")
    click.echo(public)


def _key_file(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise Refused(_("%(file)s cannot be read: %(problem)s.", file=path,
                        problem=exc.strerror or exc))


_ARCHIVE_KEY = click.option(
    "--archive-key",
    "key_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The file holding the private half of the organisation's archive key.",
)


@org.command("backup")
@click.argument("slug")
@click.option("--to", "dest", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--archive-public-key",
    "public_key",
    required=True,
    help="The public half of the organisation's archive key (`portal org archive-key`).",
)
@SERVICE_OPTION
def org_backup(slug: str, dest: Path, public_key: str, service_dir: Path) -> None:
    """Write the organisation's archive: its data directory, sealed to its archive key, which
    the service does not hold. Its server may go on serving."""
    from portal.service.archives import back_up

    try:
        made = back_up(service_dir, slug, public_key, dest)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    click.echo(
        _(
            "Archived %(slug)s (%(cases)s case(s), %(files)s file(s)) to %(file)s, sealed to the"
            " archive key %(fingerprint)s.",
            slug=slug, cases=made.cases, files=made.blobs, file=dest,
            fingerprint=made.key_fingerprint,
        )
    )
    click.echo(f"archive sha256: {made.sha256}")


@org.command("restore")
@click.option(
    "--from", "source", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@_ARCHIVE_KEY
@click.option("--slug", default=None, help="Its slug here (default: the one it had).")
@SERVICE_OPTION
def org_restore(source: Path, key_file: Path | None, slug: str | None, service_dir: Path) -> None:
    """Bring an organisation's archive back, on this service or another: checked whole, and
    registered again."""
    from portal.service.archives import restore

    if key_file is None:
        raise Refused(_("An archive opens with its archive key: give --archive-key."))
    try:
        restored = restore(service_dir, source, _key_file(key_file), slug=slug)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    click.echo(
        _(
            "Restored %(slug)s (%(name)s): %(cases)s case(s); the audit chain verifies (length"
            " %(length)s).",
            slug=restored.organisation.slug, name=restored.organisation.name,
            cases=restored.cases, length=restored.audit_length,
        )
    )


@org.command("erase")
@click.argument("slug")
@click.option(
    "--archive",
    "archive_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The organisation's archive (`portal org backup`), checked before anything is erased.",
)
@_ARCHIVE_KEY
@click.option(
    "--disposal-authority",
    default=None,
    help="Instead of an archive: the reference of the disposal authority (Public Records Act"
    " 2005 s 18) under which its records may be destroyed.",
)
@SERVICE_OPTION
@click.option("--yes", is_flag=True, help="Do not ask again.")
def org_erase(
    slug: str,
    archive_path: Path | None,
    key_file: Path | None,
    disposal_authority: str | None,
    service_dir: Path,
    yes: bool,
) -> None:
    """Erase the organisation from the service: every file of its data directory and its place
    in the registry. Only with its checked archive or a disposal authority's reference."""
    from portal.service.erasure import erase

    if not yes:
        click.confirm(_("Erase %(slug)s and everything it holds from this service?", slug=slug),
                      abort=True)
    try:
        erased = erase(
            service_dir,
            slug,
            archive_path=archive_path,
            private_key=_key_file(key_file) if key_file else None,
            disposal_authority=disposal_authority,
        )
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    click.echo(
        _(
            "Erased %(slug)s: %(files)s file(s) removed; the service audit names it %(id)s.",
            slug=slug, files=erased.files, id=erased.id,
        )
    )
