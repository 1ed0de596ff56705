"""The people: `officer ...` (add, invite, offboard; rotate-key refuses: it is a console page)
and `admin add`."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.root import main, open_installation, read_passphrase
from portal.cli.words import Refused, _, said
from portal.core.words import N_


def _add_account(
    data_dir: Path, role: str, email: str, name: str, channels: tuple[str, ...]
) -> None:
    from portal.keys.accounts import AccountError
    from portal.keys.provisioning import add_account

    passphrase = read_passphrase()
    try:
        account, totp_secret = add_account(
            open_installation(data_dir),
            email=email,
            name=name,
            role=role,
            passphrase=passphrase,
            channels=list(channels),
        )
    except AccountError as exc:
        raise Refused(said(exc))
    who = f"{account.name} <{account.email}>"
    if role == "officer":
        click.echo(_("Officer %(who)s added.", who=who))
    else:
        click.echo(_("Administrator %(who)s added.", who=who))
    click.echo(f"totp: {totp_secret}")


@main.group()
def officer() -> None:
    """Integrity officers: the only people who can decrypt disclosures."""


@officer.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--channel", "channels", multiple=True, required=True, help="Repeat for several channels."
)
@click.option(
    "--passphrase-stdin",
    is_flag=True,
    required=True,
    help="Read the passphrase from standard input.",
)
@click.pass_obj
def officer_add(
    data_dir: Path, email: str, name: str, channels: tuple[str, ...], passphrase_stdin: bool
) -> None:
    """Create an officer and their key pair (for scripted set-up: you learn their credentials, so
    the officer must choose a new passphrase and second factor at first sign-in; prefer `officer
    invite`).
    """
    _add_account(data_dir, "officer", email, name, channels)


@officer.command("invite")
@click.option("--email", required=True)
@click.option(
    "--name", required=True, help="Display name: unique, shown to disclosers and fellow officers."
)
@click.option(
    "--channel", "channels", multiple=True, required=True, help="Repeat for several channels."
)
@click.option(
    "--base-url",
    envvar="PORTAL_PUBLIC_URL",
    default="",
    help="The portal's public address, to print a whole link (default: $PORTAL_PUBLIC_URL).",
)
@click.pass_obj
def officer_invite(
    data_dir: Path, email: str, name: str, channels: tuple[str, ...], base_url: str
) -> None:
    """Invite an officer: print a one-time enrolment link (72 hours) where they choose their own
    passphrase and second factor. Their channels are joined at once: the server's operator decides.
    """
    from portal.keys.accounts import AccountError
    from portal.keys.invitations import ENROL_PATH, invite

    try:
        token = invite(
            open_installation(data_dir),
            email=email,
            name=name,
            channels=list(channels),
            invited_by=None,
        )
    except AccountError as exc:
        raise Refused(said(exc))
    echo_enrolment_link(f"{name.strip()} <{email.strip()}>", base_url, ENROL_PATH + token)


def echo_enrolment_link(whom: str, base_url: str, path: str) -> None:
    """Print an invitation's link (`path`, from the site's root) and how to send it."""
    click.echo(
        _(
            "Invitation for %(whom)s: the link works once, for 72 hours. Send it by a channel you"
            " trust.",
            whom=whom,
        )
    )
    if not base_url:
        click.echo(_("(Set PORTAL_PUBLIC_URL or --base-url to print the whole address.)"))
    click.echo(f"enrolment link: {base_url.rstrip('/')}{path}")


@officer.command("offboard")
@click.option("--email", required=True)
@click.pass_obj
def officer_offboard(data_dir: Path, email: str) -> None:
    """An officer leaves: delete their copies of every case key, take them off every channel, end
    their sessions and destroy their private key. Refused while a case has no other reader."""
    from portal.keys import access
    from portal.keys.accounts import AccountError, account_id_for

    ctx = open_installation(data_dir)
    try:
        deleted = access.offboard(ctx, account_id_for(ctx, email) or 0)
    except (AccountError, access.LastReader) as exc:
        raise Refused(said(exc))
    click.echo(
        _(
            "%(email)s offboarded: %(deleted)s sealed key copies deleted; the account can no"
            " longer sign in.",
            email=email.strip(),
            deleted=deleted,
        )
    )


ROTATE_KEY_MOVED = N_(
    "Key rotation is done by the officer in the console, on their account page: Replace my keys"
    " (/console/account/keys); the server's command line never takes an officer's passphrase."
)  # said with _() where it is printed


@officer.command(
    "rotate-key",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
def officer_rotate_key() -> None:
    """Moved to the console (Your account > Replace my keys): refuses, exit code 2."""
    click.echo(_(ROTATE_KEY_MOVED), err=True)
    raise SystemExit(2)


@main.group()
def admin() -> None:
    """Administrators: manage channels and officers; they cannot decrypt anything."""


@admin.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--passphrase-stdin",
    is_flag=True,
    required=True,
    help="Read the passphrase from standard input.",
)
@click.pass_obj
def admin_add(data_dir: Path, email: str, name: str, passphrase_stdin: bool) -> None:
    """Create an administrator."""
    _add_account(data_dir, "admin", email, name, ())
