"""`portal service init DIR`, `portal org create SLUG --name NAME --service DIR`, `portal org list
--service DIR`: many organisations on one installation (issue 29, first slice;
docs/organisations.md)."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.root import main
from portal.service import registry

_FAST = click.option(
    "--insecure-fast-kdf",
    is_flag=True,
    hidden=True,
    help="For automated tests only: cheap key derivation. Never use for real disclosures.",
)
_SERVICE = click.option(
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
@_FAST
def service_init(service_dir: Path, insecure_fast_kdf: bool) -> None:
    """Make an empty service directory."""
    try:
        registry.create_service(service_dir, insecure_fast_kdf=insecure_fast_kdf)
    except registry.ServiceError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Initialised the service directory {service_dir}.")


@main.group()
def org() -> None:
    """The organisations of a service directory."""


@org.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's name, as people know it.")
@_SERVICE
@_FAST
def org_create(slug: str, name: str, service_dir: Path, insecure_fast_kdf: bool) -> None:
    """Register an organisation and make its own data directory (as `portal init` does)."""
    try:
        made = registry.create_organisation(
            service_dir, slug, name, insecure_fast_kdf=insecure_fast_kdf
        )
    except registry.ServiceError as exc:
        raise click.ClickException(str(exc))
    where = registry.data_dir_of(service_dir, made.slug)
    click.echo(f"Made the organisation {made.slug} ({made.name}); its data directory is {where}.")


@org.command("list")
@_SERVICE
def org_list(service_dir: Path) -> None:
    """Print each organisation's slug and name, one a line (no counts)."""
    try:
        found = registry.organisations(service_dir)
    except registry.ServiceError as exc:
        raise click.ClickException(str(exc))
    for entry in found:
        click.echo(f"{entry.slug}\t{entry.name}")
