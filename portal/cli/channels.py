"""Channels and their recovery keys: `channel ...` and `recovery-key new`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal.cli.root import main, open_installation, read_passphrase


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
        raise click.ClickException(str(exc))
    click.echo(f"Channel {created.name!r} added.")


@channel.command("set-recovery")
@click.argument("name")
@click.argument("public_key")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the channel's earlier recovery key (its copies are deleted).",
)
@click.pass_obj
def channel_set_recovery(data_dir: Path, name: str, public_key: str, replace: bool) -> None:
    """Import the public half of the channel's recovery key (from `portal recovery-key new`): every
    new case key of the channel is also sealed to it."""
    from portal.keys.recovery import RecoveryError, set_channel_key

    try:
        waiting = set_channel_key(open_installation(data_dir), name, public_key, replace=replace)
    except RecoveryError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Recovery key of {name.strip()!r} imported: its new cases are sealed to it.")
    if waiting:
        click.echo(
            f"{waiting} earlier case(s) are not yet: an officer who reads them runs "
            f"`portal channel seal-recovery {name.strip()!r} --email EMAIL --passphrase-stdin`."
        )


@channel.command("seal-recovery")
@click.argument("name")
@click.option("--email", required=True, help="An officer who reads the channel's earlier cases.")
@click.option(
    "--passphrase-stdin",
    is_flag=True,
    required=True,
    help="Read that officer's passphrase from standard input.",
)
@click.pass_obj
def channel_seal_recovery(data_dir: Path, name: str, email: str, passphrase_stdin: bool) -> None:
    """Seal the channel's earlier cases, those this officer reads, to its recovery key."""
    from portal.keys.recovery import RecoveryError, seal_existing

    passphrase = read_passphrase()
    try:
        sealed, left = seal_existing(open_installation(data_dir), email, passphrase, name)
    except RecoveryError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"{sealed} case(s) sealed to the recovery key.")
    if left:
        click.echo(
            f"{left} case(s) of the channel this officer cannot read are not yet: another reader"
            " runs this too."
        )


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
        done = recover(ctx, name, email, shares)
    except (RecoveryError, crypto.RecoveryShareError) as exc:
        raise click.ClickException(str(exc))
    finally:
        shares.clear()
    click.echo(
        f"{len(done.granted)} case(s) of {name.strip()!r} re-sealed to {email.strip()}; "
        f"{done.already} they read already were renewed."
    )
    if done.excluded:
        click.echo(
            f"Skipped, because the discloser excluded this officer: {', '.join(done.excluded)}."
        )
    if done.without_copy:
        click.echo(
            f"{done.without_copy} case(s) were never sealed to the recovery key and could not be"
            " recovered."
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
    custodian, and the public half to import with `portal channel set-recovery`. Nothing is written
    anywhere."""
    import crypto

    try:
        shares, public_key = crypto.new_recovery_key(threshold, count)
    except ValueError as exc:
        raise click.UsageError(str(exc))
    click.echo(
        f"Recovery key: any {threshold} of these {count} shares recover it. Give each custodian one"
        " share, on paper; it is shown only now and stored nowhere."
    )
    for number, share in enumerate(shares, start=1):
        click.echo(f"share {number} of {count}: {share}")
    click.echo(f"public key: {public_key.hex()}")


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
        raise click.UsageError("Give either --months or --years.")
    total = months if months is not None else years * 12
    try:
        retention.set_channel_period(open_installation(data_dir), name, total)
    except retention.RetentionError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Closed cases of {name!r} are kept for {total} months after they are closed.")
