"""Many organisations on one installation (issue 29; docs/organisations.md): `portal service init
DIR`, `portal service serve DIR`, `portal service notify DIR`, `portal service host`, `portal
service operator add`, and `portal org create`, `portal org adopt`, `portal org list`, `portal org
invite`, `portal org host` (an organisation leaving or coming back: organisation_archives.py)."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.root import insecure_fast_kdf_option, main, read_passphrase
from portal.cli.words import Refused, _, said
from portal.service import registry

SERVICE_OPTION = click.option(
    "--service",
    "service_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The service directory (made by `portal service init`).",
)


@main.group()
def service() -> None:
    """A service directory holding many organisations, each with its own data directory."""


@service.command("init")
@click.argument("service_dir", type=click.Path(file_okay=False, path_type=Path))
@insecure_fast_kdf_option
def service_init(service_dir: Path, insecure_fast_kdf: bool) -> None:
    """Make an empty service directory."""
    try:
        registry.create_service(service_dir, insecure_fast_kdf=insecure_fast_kdf)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    click.echo(_("Initialised the service directory %(dir)s.", dir=service_dir))


@service.command("serve")
@click.argument("service_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=int)
def service_serve(service_dir: Path, host: str, port: int, workers: int) -> None:
    """Serve every organisation under /o/<slug>/ and the operator's pages under /service/, with
    gunicorn as `portal serve` runs it."""
    from portal.cli.installation import ready_to_serve
    from portal.service.serving import organisation_dirs, serve
    from portal.web.server import port_taken

    problem = port_taken(host, port)
    if problem:
        raise Refused(_("%(problem)s Choose another with --port.", problem=problem))
    try:
        served = organisation_dirs(service_dir)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    for data_dir in served:
        ready_to_serve(data_dir)
    serve(service_dir, host, port, workers=workers)


@service.command("notify")
@click.argument("service_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--parent-pid",
    type=int,
    default=None,
    help="Stop when this process is no longer our parent (default: the parent at start).",
)
def service_notify(service_dir: Path, parent_pid: int | None) -> None:
    """Keep each organisation's notifier running (`portal notify --keep-running`, for those with
    an SMTP server set), an organisation made meanwhile's within seconds. `portal service serve`
    starts it by itself."""
    import os

    from portal.service.notifiers import keep_running

    try:
        registry.organisations(service_dir)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    keep_running(service_dir, parent_pid or os.getppid())


@service.command("host")
@click.argument("hostname")
@SERVICE_OPTION
def service_host(hostname: str, service_dir: Path) -> None:
    """Name a host name of the service's own (where /o/<slug>/ and /service/ are served). Once one
    is named, any host that is neither the service's nor an organisation's is answered as an
    unknown organisation is."""
    try:
        name = registry.set_service_host(service_dir, hostname)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    click.echo(_("The service is served at %(name)s.", name=name))


@service.group("operator")
def service_operator() -> None:
    """The service operator's accounts: they see counts per organisation, never a case."""


@service_operator.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@SERVICE_OPTION
@click.option(
    "--passphrase-stdin",
    is_flag=True,
    required=True,
    help="Read the passphrase from standard input.",
)
def service_operator_add(email: str, name: str, service_dir: Path, passphrase_stdin: bool) -> None:
    """Make a service operator's account (passphrase and second factor, as any account); they sign
    in at /service/."""
    from portal.keys.accounts import AccountError
    from portal.service.operator import add_operator

    try:
        registry.organisations(service_dir)  # a service directory, or a plain refusal
        account, totp_secret = add_operator(
            service_dir, email=email, name=name, passphrase=read_passphrase()
        )
    except (registry.ServiceError, AccountError) as exc:
        raise Refused(said(exc))
    who = f"{account.name} <{account.email}>"
    click.echo(_("Service operator %(who)s added.", who=who))
    click.echo(f"totp: {totp_secret}")


@main.group()
def org() -> None:
    """The organisations of a service directory."""


@org.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's name, as people know it.")
@SERVICE_OPTION
@insecure_fast_kdf_option
def org_create(slug: str, name: str, service_dir: Path, insecure_fast_kdf: bool) -> None:
    """Register an organisation and make its own data directory (as `portal init` does)."""
    try:
        made = registry.create_organisation(
            service_dir, slug, name, insecure_fast_kdf=insecure_fast_kdf
        )
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    where = registry.data_dir_of(service_dir, made.slug)
    click.echo(
        _(
            "Made the organisation %(slug)s (%(name)s); its data directory is %(dir)s.",
            slug=made.slug,
            name=made.name,
            dir=where,
        )
    )


@org.command("adopt")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's name, as people know it.")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The data directory of a single installation (made by `portal init`); stop its server"
    " first.",
)
@SERVICE_OPTION
@click.option(
    "--copy",
    is_flag=True,
    help="Copy every file, check each copy's digest, then remove the original (chosen by itself"
    " when the data directory is on another file system).",
)
def org_adopt(slug: str, name: str, source: Path, service_dir: Path, copy: bool) -> None:
    """Make an existing single installation an organisation of the service: its data directory is
    moved, whole, to the service's organisations/SLUG, its audit chain verified before and after.
    Every case stays readable by its officers, at /o/SLUG/."""
    from portal.service.adoption import adopt_installation

    try:
        adopted = adopt_installation(service_dir, slug, name, source, copy=copy)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    adopted_words = (
        _(
            "Adopted %(slug)s (%(name)s): its data directory was copied, checked file by file, and"
            " removed from %(source)s to %(dir)s; the audit chain verifies (length %(length)s)."
        )
        if adopted.copied
        else _(
            "Adopted %(slug)s (%(name)s): its data directory was moved from %(source)s to %(dir)s;"
            " the audit chain verifies (length %(length)s)."
        )
    )
    where = registry.data_dir_of(service_dir, adopted.organisation.slug)
    click.echo(
        adopted_words
        % {
            "slug": adopted.organisation.slug,
            "name": adopted.organisation.name,
            "source": source,
            "dir": where,
            "length": adopted.audit_length,
        }
    )
    click.echo(
        _(
            "Serve it with `portal service serve`, at /o/%(slug)s/ (or its own host name: `portal"
            " org host`), and stop serving the old address.",
            slug=adopted.organisation.slug,
        )
    )


@org.command("list")
@SERVICE_OPTION
def org_list(service_dir: Path) -> None:
    """Print each organisation's slug and name, one a line (no counts)."""
    try:
        found = registry.organisations(service_dir)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    for entry in found:
        click.echo(f"{entry.slug}\t{entry.name}")


@org.command("invite")
@click.argument("slug")
@click.option("--role", required=True, type=click.Choice(["admin", "officer"]))
@click.option("--email", required=True)
@click.option(
    "--name", required=True, help="Display name: unique in the organisation, shown to others."
)
@click.option(
    "--channel",
    "channels",
    multiple=True,
    help="An officer's channel, one that has no officer yet (repeat for several).",
)
@SERVICE_OPTION
@click.option(
    "--base-url",
    envvar="PORTAL_PUBLIC_URL",
    default="",
    help="The service's public address, to print a whole link (default: $PORTAL_PUBLIC_URL).",
)
def org_invite(
    slug: str,
    role: str,
    email: str,
    name: str,
    channels: tuple[str, ...],
    service_dir: Path,
    base_url: str,
) -> None:
    """Invite an organisation's first administrator, or the first officer of its channels: print a
    one-time link (72 hours) where they choose their own passphrase and second factor."""
    from portal.cli.accounts import echo_enrolment_link
    from portal.keys.accounts import AccountError
    from portal.keys.invitations import ENROL_PATH
    from portal.service.dispatch import PREFIX
    from portal.service.invitations import invite_member

    if role == "admin" and channels:
        raise Refused(_("An administrator joins no channel: leave out --channel."))
    try:
        token = invite_member(
            service_dir, slug, role=role, email=email, name=name, channels=list(channels)
        )
    except (registry.ServiceError, AccountError) as exc:
        raise Refused(said(exc))
    whom = (
        _("%(who)s (admin of %(slug)s)") if role == "admin" else _("%(who)s (officer of %(slug)s)")
    ) % {"who": f"{name.strip()} <{email.strip()}>", "slug": slug}
    known = registry.routing(service_dir)
    if slug in known.host_only:  # not at /o/<slug>/: the link is at its own host name
        host = min(name for name, member in known.hosts.items() if member == slug)
        echo_enrolment_link(whom, f"https://{host}", f"{ENROL_PATH}{token}")
    else:
        echo_enrolment_link(whom, base_url, f"{PREFIX}{slug}{ENROL_PATH}{token}")


@org.command("host")
@click.argument("slug")
@click.argument("hostname")
@click.option(
    "--only",
    is_flag=True,
    help="Serve the organisation at its host names only: /o/SLUG/ then answers as an unknown"
    " organisation does.",
)
@SERVICE_OPTION
def org_host(slug: str, hostname: str, only: bool, service_dir: Path) -> None:
    """Serve an organisation at its own host name (such as pd.north.govt.nz) as well as at
    /o/SLUG/: point the name at this server and add it to nginx's server_name (docs/deploy.md)."""
    try:
        name = registry.set_host(service_dir, slug, hostname, only=only)
    except registry.ServiceError as exc:
        raise Refused(said(exc))
    if only:
        click.echo(_("%(slug)s is served at https://%(name)s/ only.", slug=slug, name=name))
    else:
        click.echo(
            _(
                "%(slug)s is served at https://%(name)s/ as well as at /o/%(slug)s/.",
                slug=slug,
                name=name,
            )
        )
