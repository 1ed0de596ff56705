"""A channel moved between organisations of a service (issue 29; docs/organisations.md, "Moving a
channel"): `portal org move-ask` and `portal org move-channel`."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.service import SERVICE_OPTION, org
from portal.cli.words import Refused, _, said
from portal.service.registry import ServiceError


@org.command("move-ask")
@click.argument("from_slug")
@click.argument("channel")
@click.option("--to", "to_slug", required=True, help="The receiving organisation's slug.")
@click.option("--into", required=True, help="The receiving organisation's channel.")
@click.option(
    "--officer",
    "emails",
    multiple=True,
    required=True,
    help="A confirmed officer of the receiving channel who will read the cases (repeat).",
)
@SERVICE_OPTION
def org_move_ask(
    from_slug: str, channel: str, to_slug: str, into: str, emails: tuple[str, ...],
    service_dir: Path,
) -> None:
    """Ask for CHANNEL of FROM_SLUG and its cases to move into a channel of another organisation.
    Prints the move's id and each receiving officer's key fingerprint; nothing moves until both
    organisations' officers confirm and `portal org move-channel` runs."""
    from portal.service.channel_moves import ask

    try:
        asked = ask(service_dir, from_slug, channel, to_slug, into, list(emails))
    except ServiceError as exc:
        raise Refused(said(exc))
    click.echo(_("move %(id)s asked", id=asked.move_id))
    for who, fingerprint in asked.officers:
        click.echo(_("%(who)s: fingerprint %(fingerprint)s", who=who, fingerprint=fingerprint))


@org.command("move-channel")
@click.argument("from_slug")
@click.option("--to", "to_slug", required=True, help="The receiving organisation's slug.")
@SERVICE_OPTION
def org_move_channel(from_slug: str, to_slug: str, service_dir: Path) -> None:
    """Move the channel asked to move from FROM_SLUG, once both organisations' officers
    confirmed: each case is copied whole under its own id, then removed from FROM_SLUG. Run it
    again after an interruption: it finishes what was left."""
    from portal.service.channel_moves import move

    try:
        moved = move(service_dir, from_slug, to_slug)
    except ServiceError as exc:
        raise Refused(said(exc))
    click.echo(_("move %(id)s done: %(n)s case(s) moved", id=moved.move_id, n=moved.cases))
