"""The `portal` command: the operator's tool (see docs/interface.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click


@click.group()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $PORTAL_DATA_DIR, else ./instance).",
)
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """Operate a protected-disclosure portal installation."""
    ctx.obj = data_dir or Path(os.environ.get("PORTAL_DATA_DIR", "instance"))
    # Whatever this command creates in the data directory is readable by its owner only.
    os.umask(0o077)


def _open(data_dir: Path):
    """The installation's context for a command; a clear message if the directory is not set up."""
    from portal.core.config import NotInitialised
    from portal.core.context import open_context

    try:
        return open_context(data_dir)
    except NotInitialised as exc:
        raise click.ClickException(str(exc))


def _read_passphrase() -> str:
    line = sys.stdin.readline()
    passphrase = line.rstrip("\r\n")
    if not passphrase:
        raise click.UsageError("Give the passphrase on standard input (one line).")
    return passphrase


@main.command()
@click.option(
    "--insecure-fast-kdf",
    is_flag=True,
    hidden=True,
    help="For automated tests only: cheap key derivation. Never use for real disclosures.",
)
@click.pass_obj
def init(data_dir: Path, insecure_fast_kdf: bool) -> None:
    """Create the data directory, database and installation secrets."""
    from portal.core.config import INSTALLATION_FILE, create_installation

    if (data_dir / INSTALLATION_FILE).exists():
        raise click.ClickException(f"{data_dir} is already initialised; refusing to overwrite it.")
    create_installation(data_dir, insecure_fast_kdf=insecure_fast_kdf)
    from portal.casework.referrals import seed_directory

    ctx = _open(data_dir)
    seed_directory(ctx)
    ctx.db.conn.close()
    click.echo(f"Initialised {data_dir}.")


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
        created = add_channel(_open(data_dir), name, description, regime)
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
    new case
    key of the channel is also sealed to it."""
    from portal.keys.recovery import RecoveryError, set_channel_key

    try:
        waiting = set_channel_key(_open(data_dir), name, public_key, replace=replace)
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

    passphrase = _read_passphrase()
    try:
        sealed, left = seal_existing(_open(data_dir), email, passphrase, name)
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
    channel's cases
    to the officer (skipping cases whose discloser excluded them). The shares are forgotten at once.
    """
    import crypto
    from portal.keys.recovery import RecoveryError, recover

    ctx = _open(data_dir)
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
    custodian, and
    the public half to import with `portal channel set-recovery`. Nothing is written anywhere."""
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
        retention.set_channel_period(_open(data_dir), name, total)
    except retention.RetentionError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Closed cases of {name!r} are kept for {total} months after they are closed.")


def _add_account(
    data_dir: Path, role: str, email: str, name: str, channels: tuple[str, ...]
) -> None:
    from portal.keys.accounts import AccountError
    from portal.keys.provisioning import add_account

    passphrase = _read_passphrase()
    try:
        account, totp_secret = add_account(
            _open(data_dir),
            email=email,
            name=name,
            role=role,
            passphrase=passphrase,
            channels=list(channels),
        )
    except AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"{role.capitalize()} {account.name} <{account.email}> added.")
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
    the
    officer must choose a new passphrase and second factor at first sign-in; prefer `officer
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
            _open(data_dir), email=email, name=name, channels=list(channels), invited_by=None
        )
    except AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(
        f"Invitation for {name.strip()} <{email.strip()}>: the link works once, for 72 hours. "
        "Send it by a channel you trust."
    )
    if not base_url:
        click.echo("(Set PORTAL_PUBLIC_URL or --base-url to print the whole address.)")
    click.echo(f"enrolment link: {base_url.rstrip('/')}{ENROL_PATH}{token}")


@officer.command("offboard")
@click.option("--email", required=True)
@click.pass_obj
def officer_offboard(data_dir: Path, email: str) -> None:
    """An officer leaves: delete their copies of every case key, take them off every channel, end
    their
    sessions and destroy their private key. Refused while a case has no other reader."""
    from portal.keys import access
    from portal.keys.accounts import AccountError, account_id_for

    ctx = _open(data_dir)
    try:
        deleted = access.offboard(ctx, account_id_for(ctx, email) or 0)
    except (AccountError, access.LastReader) as exc:
        raise click.ClickException(str(exc))
    click.echo(
        f"{email.strip()} offboarded: {deleted} sealed key copies deleted; the account can no"
        " longer sign in."
    )


@officer.command("rotate-key")
@click.option("--email", required=True)
@click.option(
    "--passphrase-stdin",
    is_flag=True,
    required=True,
    help="Read the officer's passphrase from standard input.",
)
@click.option(
    "--batch-size",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Sealed copies re-sealed per transaction.",
)
@click.option(
    "--batch-pause",
    default=0.0,
    type=click.FloatRange(0, 60),
    help="Seconds to wait between batches.",
)
@click.pass_obj
def officer_rotate_key(
    data_dir: Path, email: str, passphrase_stdin: bool, batch_size: int, batch_pause: float
) -> None:
    """Give the officer a new key pair and re-seal every case key they hold to it, in batches. If
    interrupted,
    run it again: it carries on. The officer's sessions end; they sign in again with the same
    passphrase.
    """
    from portal.keys.credentials import LoginFailed
    from portal.keys.rotation import rotate

    passphrase = _read_passphrase()
    try:
        done = rotate(
            _open(data_dir), email, passphrase, batch_size=batch_size, pause_seconds=batch_pause
        )
    except LoginFailed:
        raise click.ClickException("That email address and passphrase do not match an officer.")
    click.echo(
        f"Key pair of {email.strip()}"
        f" replaced{' (an interrupted rotation carried on)' if done.resumed else ''}:"
        f" {done.resealed} sealed copies re-sealed. Sign in again."
    )


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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_obj
def serve(data_dir: Path, host: str, port: int, workers: int) -> None:
    """Serve the portal with gunicorn (gthread workers that read request heads in their main loop),
    and,
    while an SMTP server is set, `portal notify --every-hour` beside it."""
    from portal.records import case_attachments
    from portal.core.config import loose_permissions
    from portal.web.server import port_taken
    from portal.web.server import serve as run_server

    problem = port_taken(host, port)
    if problem:
        raise click.ClickException(f"{problem} Choose another with --port.")
    ctx = _open(data_dir)
    loose = loose_permissions(data_dir)
    if loose:
        click.echo(
            "WARNING: these files in the data directory can be read by other users of this machine;"
            " make them readable by the owner only (chmod 600 for files, 700 for folders):",
            err=True,
        )
        for line in loose:
            click.echo(f"  {line}", err=True)
    removed = ctx.blobs.sweep(case_attachments.referenced_blobs(ctx))
    if removed:
        click.echo(f"Removed {removed} unfinished or orphaned blob file(s).")
    ctx.db.conn.close()
    run_server(data_dir, host, port, workers=workers)


@main.group(invoke_without_command=True)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The port `make run` will serve on.",
)
@click.pass_context
def demo(click_ctx: click.Context, port: int) -> None:
    """Set up a demo installation once, then print its accounts (for `make run`)."""
    if click_ctx.invoked_subcommand is not None:
        return
    from portal.operations import demo as demo_setup
    from portal.web.server import port_taken

    # Before anything is printed: a taken port is one plain line, not gunicorn's retries.
    problem = port_taken("127.0.0.1", port)
    if problem:
        raise click.ClickException(
            f"{problem} Choose another, for example `make run PORT={port + 1}`."
        )
    for line in demo_setup.ensure_demo(click_ctx.obj, port):
        click.echo(line)


@demo.command("code")
@click.pass_obj
def demo_code(data_dir: Path) -> None:
    """Print each demo account's current six-digit code (each works once; a new one every 30 s)."""
    from portal.operations import demo as demo_setup

    codes = demo_setup.current_codes(data_dir)
    if not codes:
        raise click.ClickException(
            f"No demo set-up credentials are kept in {data_dir}: "
            "the demo accounts have chosen their own, or this is not a demo."
        )
    for entry in codes:
        click.echo(
            f"{entry.role} {entry.email}: {entry.code}  (for {entry.seconds_left} more seconds)"
        )


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def backup(data_dir: Path, dest: Path) -> None:
    """Copy the installation into DEST (a new or empty folder) while it serves: database, blobs,
    audit head and a manifest of digests. Ciphertext only; keep it as safely as the server."""
    from portal.operations.backup import BackupError, make_backup

    _open(data_dir).db.conn.close()
    try:
        summary = make_backup(data_dir, dest)
    except BackupError as exc:
        raise click.ClickException(str(exc))
    except OSError as exc:
        raise click.ClickException(
            f"The backup could not be written to {dest}: {exc.strerror or exc}."
        )
    click.echo(
        f"Backed up {summary.cases} case(s) and {summary.blobs} file(s) to {dest} "
        f"(audit chain length {summary.audit_length})."
    )
    click.echo(f"manifest sha256: {summary.manifest_sha256}")
    click.echo(
        "Keep that line where the server cannot write; `portal restore SRC --expect DIGEST` refuses"
        " a backup changed since."
    )


@main.command()
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--expect",
    metavar="DIGEST",
    default=None,
    help="The manifest sha256 `portal backup` printed: refuse a backup changed since it was made.",
)
@click.pass_obj
def restore(data_dir: Path, src: Path, expect: str | None) -> None:
    """Restore the backup in SRC into the data directory, which must be new or empty. A damaged,
    incomplete or (with --expect) changed backup is refused, naming what is wrong, and nothing is
    left behind.
    """
    from portal.operations.backup import BackupError, restore as restore_backup

    try:
        summary = restore_backup(src, data_dir, expect)
    except BackupError as exc:
        raise click.ClickException(str(exc))
    except OSError as exc:
        raise click.ClickException(
            f"The backup could not be restored into {data_dir}: {exc.strerror or exc}. "
            "Create the folder first, owned by the user the portal runs as."
        )
    click.echo(
        f"Restored {summary.cases} case(s) and {summary.blobs} file(s) into {data_dir}; "
        f"the audit chain verifies (length {summary.audit_length})."
    )


@main.group()
def workdays() -> None:
    """Working-day arithmetic for the statutory clock."""


@workdays.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("start")
@click.argument("n")
@click.option(
    "--calendar",
    "calendar_name",
    default="legislation",
    type=click.Choice(["legislation", "oia", "calendar"]),
    show_default=True,
)
def workdays_add(start: str, n: str, calendar_name: str) -> None:
    """Print the date N working days after START (START itself not counted)."""
    import re

    from portal.core import workdays as wd

    # ignore_unknown_options lets a negative N ("-3") reach the check below instead of being
    # reported as an unknown option.
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", start):
            raise ValueError(start)
        start_date = dt.date.fromisoformat(start)
    except ValueError:
        raise click.UsageError(f"START must be a date written YYYY-MM-DD, not {start!r}.")
    if re.fullmatch(r"-[0-9]+", n):
        raise click.UsageError(f"N must not be negative, not {n!r}.")
    if not re.fullmatch(r"\+?[0-9]+", n):
        raise click.UsageError(f"N must be a whole number, not {n!r}.")
    count = int(n)
    try:
        result = wd.add_working_days(start_date, count, calendar_name)
    except ValueError as exc:  # UnknownYear, or a result beyond the year 9999
        raise click.UsageError(str(exc))
    click.echo(result.isoformat())


@main.group()
def setting() -> None:
    """Installation settings kept in installation.json (each change is audited)."""


@setting.command("set")
@click.argument("name")
@click.argument("value")
@click.pass_obj
def setting_set(data_dir: Path, name: str, value: str) -> None:
    """Set NAME (security_contact, onion_address, officer_session_seconds,
    discloser_session_seconds; for notifications
    smtp_host, smtp_port, smtp_starttls (yes/no), smtp_username, smtp_password, smtp_from,
    public_url) to VALUE.
    """
    from portal.records import audit as audit_log
    from portal.core.config import change_setting

    ctx = _open(data_dir)
    try:
        change_setting(data_dir, name, value)
    except ValueError as exc:
        raise click.UsageError(str(exc))
    audit_log.record(ctx, "settings_change", actor=None, detail={"setting": name})
    click.echo(f"{name} set. Restart `portal serve` for it to take effect.")


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("head")
@click.pass_obj
def audit_head(data_dir: Path) -> None:
    """Print the chain's length and latest link, for keeping where the server cannot write."""
    from portal.records import audit_head

    _open(data_dir).db.conn.close()
    head = audit_head.read_head(data_dir)
    if isinstance(head, str):
        raise click.ClickException(head)
    click.echo((head or audit_head.Head(0, "0" * 64)).line())


@audit.command("verify")
@click.option(
    "--expect",
    "expected",
    default=None,
    metavar="LINE",
    help=(
        "A head printed earlier by `portal audit head`, kept elsewhere: the chain must contain it."
    ),
)
@click.pass_obj
def audit_verify(data_dir: Path, expected: str | None) -> None:
    """Exit 0 if the audit chain is intact; otherwise exit 1 naming the first broken entry."""
    from portal.records import audit_head, audit_verify

    try:
        expected_head = audit_head.Head.parse(expected) if expected is not None else None
    except ValueError as exc:
        raise click.UsageError(f"--expect: {exc}")
    ctx = _open(data_dir)
    verdict = audit_verify.verify(ctx, expected_head)
    ctx.db.conn.close()
    if not verdict.intact:
        click.echo(f"TAMPERED: {verdict.message}", err=True)
        sys.exit(1)
    click.echo(verdict.message)


@main.command()
@click.option(
    "--every-hour",
    is_flag=True,
    help=(
        "Keep running and send at the start of every hour; stop when the process that started "
        "this one ends. `portal serve` starts it by itself while an SMTP server is set."
    ),
)
@click.option(
    "--parent-pid",
    type=int,
    default=None,
    help=(
        "With --every-hour: stop when this process is no longer our parent (default: the parent "
        "at start). `portal serve` passes its own, so a server killed before this one started "
        "leaves nothing behind."
    ),
)
@click.pass_obj
def notify(data_dir: Path, every_hour: bool, parent_pid: int | None) -> None:
    """Send each officer with something new waiting one digest for this hour (now, or with
    --every-hour at
    the start of each hour). The mail names no case, category or channel."""
    if not every_hour:
        click.echo(_send_digests(data_dir))
        return
    import time

    from portal.core.clock import now_utc
    from portal.operations.notifications import seconds_to_next_sending_time

    # The test configuration may shorten the hour (PORTAL_NOTIFY_PERIOD_SECONDS); the shipped one
    # does not.
    period = int(os.environ.get("PORTAL_NOTIFY_PERIOD_SECONDS", "3600"))
    parent = parent_pid or os.getppid()
    while True:
        wake = time.monotonic() + seconds_to_next_sending_time(now_utc(), period)
        while (left := wake - time.monotonic()) > 0:
            if os.getppid() != parent:  # the server that started us is gone
                return
            time.sleep(min(left, 2))
        try:
            click.echo(f"portal notify: {_send_digests(data_dir)}", err=True)
        except click.ClickException as exc:
            click.echo(f"portal notify: {exc.format_message()}", err=True)
        except Exception as exc:  # keep sending next hour; the type only, never an address or text
            click.echo(
                f"portal notify: this hour's digests failed ({type(exc).__name__}); trying again "
                "next hour.",
                err=True,
            )


def _send_digests(data_dir: Path) -> str:
    """Send this hour's digests; return what happened in one line. Raises click.ClickException."""
    import smtplib

    from portal.operations.notifications import NotConfigured, send_due

    ctx = _open(data_dir)
    try:
        sent, failed = send_due(ctx)
    except NotConfigured as exc:
        raise click.ClickException(str(exc))
    except (OSError, smtplib.SMTPException) as exc:
        raise click.ClickException(
            f"The mail server could not be reached ({type(exc).__name__}); "
            "nothing was marked sent, so the next run tries again."
        )
    finally:
        ctx.db.conn.close()
    return f"{sent} digest(s) sent" + (
        f", {failed} refused by the mail server (tried again next time)." if failed else "."
    )


@main.command("signing-key")
@click.pass_obj
def signing_key(data_dir: Path) -> None:
    """Print the installation's public signing key (Ed25519, hex), which signs acknowledgements."""
    from portal.casework.acknowledgements import public_key

    ctx = _open(data_dir)
    ctx.db.conn.close()
    click.echo(public_key(ctx))


@main.command("verify-ack")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_hex",
    default=None,
    metavar="HEX",
    help=(
        "The portal's published signing key; without it, this installation's key if --data names "
        "one, else only the key inside the file (printed, to compare)."
    ),
)
@click.option(
    "--opening",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=(
        "Also check that this JSON file (the disclosure's text and files, as in "
        "docs/proof-of-disclosure.md) is what the commitment covers; asks for the discloser's "
        "checking code."
    ),
)
@click.option(
    "--checking-code-stdin",
    is_flag=True,
    help="Read the checking code from standard input instead of asking for it.",
)
def verify_ack(
    file: Path, key_hex: str | None, opening: Path | None, checking_code_stdin: bool
) -> None:
    """Exit 0 if FILE is a genuine acknowledgement, unchanged (and, with --opening, if the given
    text is
    the disclosure as received); otherwise exit 1 saying why. Exit 3: intact, but with no --key (and
    no
    installation here) the signer's key was not checked.

    Works offline: no data directory is needed when --key is given."""
    import crypto

    expected = None
    if key_hex is not None:
        try:
            expected = bytes.fromhex(key_hex.strip())
        except ValueError:
            expected = b""
        if len(expected) != 32:
            raise click.UsageError("--key must be 64 hexadecimal characters.")
    else:
        expected = _installation_key(click.get_current_context().obj)
        if expected is None and opening is not None:
            # Without a key to trust, anyone could sign a file with their own key to match any text.
            raise click.UsageError(
                "--opening needs --key: the organisation's published signing key."
            )
    parts = _read_opening(opening) if opening is not None else None
    try:
        statement, signer = crypto.verify_acknowledgement(file.read_bytes(), expected)
    except crypto.BadAcknowledgement as exc:
        click.echo(f"NOT GENUINE: {exc}", err=True)
        sys.exit(1)
    if expected is None:
        # Anyone can sign a file with a key of their own: intact is not genuine until the key is
        # checked.
        click.echo(
            "INTACT, SIGNER NOT CHECKED: the file is unchanged since it was signed by the key"
            " below, but no key was given to check that key against."
        )
    else:
        click.echo("GENUINE: the signature is good and the file is unchanged.")
    for name in ("case_ref", "channel", "received_day", "acknowledged_day", "law", "commitment"):
        click.echo(f"{name}: {statement.get(name, '')}")
    click.echo(f"signed by: {signer.hex()}")
    if expected is None:
        click.echo(
            "Compare the key above with the organisation's published signing key, or run again with"
            " --key."
        )
        sys.exit(3)
    if parts is not None:
        _check_opening(statement, parts, checking_code_stdin)


def _read_opening(opening: Path) -> list[str]:
    """The commitment's parts from an opening file. Raises click.UsageError saying what is wrong."""
    from portal.casework import acknowledgements

    try:
        return acknowledgements.opening_parts(
            json.loads(opening.read_text(encoding="utf-8")), opening.parent
        )
    except (
        ValueError,
        UnicodeDecodeError,
        RecursionError,
    ) as exc:  # JSONDecodeError, BadOpening: ValueErrors
        raise click.UsageError(
            f"--opening: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}"
        )


def _check_opening(statement: dict, parts: list[str], from_stdin: bool) -> None:
    """Exit 1 unless the opening's parts and the checking code open the statement's commitment."""
    from portal.casework import acknowledgements

    code = (
        sys.stdin.readline() if from_stdin else click.prompt("Checking code", hide_input=True)
    ).strip()
    if acknowledgements.check_opening(statement, code, parts):
        click.echo("MATCHES: this text and these files are the disclosure as received.")
        return
    click.echo(
        "DOES NOT MATCH: this text, these files or this checking code are not the disclosure as "
        "received (any changed character differs).",
        err=True,
    )
    sys.exit(1)


def _installation_key(data_dir: Path) -> bytes | None:
    """This installation's public signing key, if the data directory is an installation."""
    from portal.core.config import INSTALLATION_FILE, load_settings
    import crypto

    if not (data_dir / INSTALLATION_FILE).exists():
        return None
    return crypto.signing_public_key(load_settings(data_dir).signing_seed)
