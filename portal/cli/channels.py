"""Channels and their recovery keys: `channel ...` and `recovery-key new`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal.cli.root import main, open_installation, print_progress
from portal.cli.words import Refused, _, ngettext, said
from portal.core.words import N_


@main.group()
def channel() -> None:
    """Channels: where disclosures go, each with its own integrity officers."""


@channel.command("add")
@click.argument("name")
@click.option("--description", default="", help="Shown to disclosers choosing a channel.")
@click.option(
    "--regime",
    type=click.Choice(["nz", "eu"]),
    default="nz",
    show_default=True,
    help=(
        "The statutory clock: nz (20 working days, s 13 of the 2022 Act) or eu (7 days, 3 months)."
    ),
)
@click.pass_obj
def channel_add(data_dir: Path, name: str, description: str, regime: str) -> None:
    from portal.keys.accounts import AccountError
    from portal.keys.channels import add_channel

    try:
        created = add_channel(open_installation(data_dir), name, description, regime)
    except AccountError as exc:
        raise Refused(said(exc))
    click.echo(_("Channel %(name)s added.", name=repr(created.name)))


@channel.command("set-recovery")
@click.argument("name")
@click.argument("public_key")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the channel's earlier recovery key (its copies are deleted once confirmed).",
)
@click.option(
    "--custodians-key",
    "custodians_key",
    default=None,
    metavar="HEX",
    help="The custodians' key `portal recovery-key new` printed: lets a quorum of custodians hand"
    " the channel's roster root on when its holder is gone (`portal roster hand-over`).",
)
@click.pass_obj
def channel_set_recovery(
    data_dir: Path, name: str, public_key: str, replace: bool, custodians_key: str | None
) -> None:
    """Ask for the public half of the channel's recovery key (from `portal recovery-key new`) to be
    the channel's: it waits until an officer of the channel confirms it in the console, after
    comparing its fingerprint with the custodians'. Nothing is sealed to it before."""
    from portal.keys.recovery import RecoveryError
    from portal.keys.recovery_requests import request

    try:
        asked = request(
            open_installation(data_dir),
            name,
            public_key,
            replace=replace,
            custodians_key_text=custodians_key,
        )
    except RecoveryError as exc:
        raise Refused(said(exc))
    click.echo(
        _(
            "Recovery key of %(channel)s asked for; fingerprint: %(fingerprint)s",
            channel=repr(asked.channel_name),
            fingerprint=asked.fingerprint,
        )
    )
    if asked.custodians_key is not None:
        click.echo(
            _(
                "With the custodians' key %(key)s (words %(words)s): once confirmed, the roster"
                " carries it.",
                key=asked.custodians_key.hex(),
                words=asked.custodians_fingerprint,
            )
        )
    click.echo(
        _(
            "Nothing is sealed to it yet: an officer of the channel confirms it in the console (Who"
            " reads your channels, /console/memberships) after comparing this fingerprint with the"
            " one the custodians were given."
        )
    )


SEAL_RECOVERY_MOVED = N_(
    "Sealing earlier cases to a recovery key is done by an officer who reads them, in the console:"
    " Who reads your channels (/console/memberships); the server's command line never takes an"
    " officer's passphrase."
)


@channel.command(
    "seal-recovery",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
def channel_seal_recovery() -> None:
    """Moved to the console (Who reads your channels): refuses, exit code 2."""
    click.echo(_(SEAL_RECOVERY_MOVED), err=True)
    raise SystemExit(2)


@channel.command("recover")
@click.argument("name")
@click.option(
    "--to",
    "email",
    required=True,
    help="A confirmed officer of the channel, who will read its cases.",
)
@click.pass_obj
def channel_recover(data_dir: Path, name: str, email: str) -> None:
    """Read the custodians' recovery shares, one a line, on standard input, and re-seal the
    channel's cases to the officer (skipping cases whose discloser excluded them). The shares are
    forgotten at once.
    """
    import crypto
    from portal.keys.recovery import RecoveryError, recover

    ctx = open_installation(data_dir)
    shares = [line for line in sys.stdin.read().splitlines() if line.strip()]
    try:
        done = recover(ctx, name, email, shares, report=print_progress)
    except (RecoveryError, crypto.RecoveryShareError) as exc:
        raise Refused(said(exc))
    finally:
        shares.clear()
    if done.granted_before:
        click.echo(
            _(
                "Carried on an interrupted recovery: %(cases)s re-sealed by the earlier run.",
                cases=ngettext("%(num)d case", "%(num)d cases", done.granted_before),
            )
        )
    click.echo(
        _(
            "%(cases)s of %(channel)s re-sealed to %(email)s; %(already)s they read already were"
            " renewed.",
            cases=ngettext("%(num)d case", "%(num)d cases", len(done.granted)),
            channel=repr(name.strip()),
            email=email.strip(),
            already=done.already,
        )
    )
    if done.excluded:
        click.echo(
            _(
                "Skipped, because the discloser excluded this officer: %(refs)s.",
                refs=", ".join(done.excluded),
            )
        )
    if done.without_copy:
        click.echo(
            _(
                "%(cases)s never sealed to the recovery key and could not be recovered.",
                cases=ngettext("%(num)d case", "%(num)d cases", done.without_copy),
            )
        )


@main.group("recovery-key")
def recovery_key() -> None:
    """A channel's recovery key, made offline and kept only as shares by custodians."""


@recovery_key.command("new")
@click.option(
    "--threshold", default=3, show_default=True, type=int, help="Shares needed to recover."
)
@click.option(
    "--shares", "count", default=5, show_default=True, type=int, help="Shares made (at most 16)."
)
def recovery_key_new(threshold: int, count: int) -> None:
    """Make a recovery key pair on this (offline) machine: print the SLIP-39 shares, one per
    custodian, the public half to import with `portal channel set-recovery`, and the custodians'
    signing key derived from the same secret (for its --custodians-key). Nothing is written
    anywhere."""
    import crypto
    from crypto import roster as signed

    try:
        shares, public_key = crypto.new_recovery_key(threshold, count)
    except ValueError as exc:
        raise click.UsageError(said(exc))
    secret = crypto.recovery_private_key(shares[:threshold])  # joined in memory, as recovery does
    try:
        custodians = signed.custodians_signing_public(secret)
    finally:
        del secret
    click.echo(
        _(
            "Recovery key: any %(threshold)s of these %(count)s shares recover it. Give each"
            " custodian one share, on paper; it is shown only now and stored nowhere.",
            threshold=threshold,
            count=count,
        )
    )
    for number, share in enumerate(shares, start=1):
        click.echo(f"share {number} of {count}: {share}")
    click.echo(f"public key: {public_key.hex()}")
    click.echo(
        f"fingerprint: {crypto.key_fingerprint(public_key)} "
        + _(
            "(give it to each custodian with their share: the officer who confirms the key in the"
            " console compares it with them)"
        )
    )
    click.echo(f"custodians key: {custodians.hex()}")
    click.echo(
        _(
            "(words %(words)s: the custodians' signing key, derived from the same shares; give it"
            " to `portal channel set-recovery` with --custodians-key so that a quorum of custodians"
            " may hand the channel's roster root on when its holder is gone)",
            words=crypto.key_fingerprint(custodians),
        )
    )


@channel.command("retention")
@click.argument("name")
@click.option(
    "--months",
    type=click.IntRange(min=1, max=1200),
    default=None,
    help="Months to keep a case after it is closed (at most 1200).",
)
@click.option(
    "--years", type=click.IntRange(min=1, max=100), default=None, help="The same in whole years."
)
@click.pass_obj
def channel_retention(data_dir: Path, name: str, months: int | None, years: int | None) -> None:
    """Set how long the channel's cases are kept after they are closed (default 7 years).
    Audited."""
    from portal.operations import retention

    if (months is None) == (years is None):
        raise click.UsageError(_("Give either --months or --years."))
    total = months if months is not None else years * 12
    try:
        retention.set_channel_period(open_installation(data_dir), name, total)
    except retention.RetentionError as exc:
        raise Refused(said(exc))
    click.echo(
        _(
            "Closed cases of %(channel)s are kept for %(months)s months after they are closed.",
            channel=repr(name),
            months=total,
        )
    )
