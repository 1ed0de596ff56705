"""Checking and keeping what the installation holds: `audit head|verify`, `backup`, `restore`,
`signing-key` and `verify-ack`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from portal.cli.root import main, open_installation
from portal.cli.words import Refused, _, ngettext, said, translated


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def backup(data_dir: Path, dest: Path) -> None:
    """Copy the installation into DEST (a new or empty folder) while it serves: database, blobs,
    audit head and a manifest of digests. Ciphertext only; keep it as safely as the server."""
    from portal.operations.backup import BackupError, make_backup

    open_installation(data_dir).db.conn.close()
    try:
        summary = make_backup(data_dir, dest)
    except BackupError as exc:
        raise Refused(said(exc))
    except OSError as exc:
        raise Refused(
            _(
                "The backup could not be made in %(dest)s: %(why)s. Nothing was left there: run"
                " the same command again once that is put right.",
                dest=dest,
                why=exc.strerror or exc,
            )
        )
    click.echo(
        _(
            "Backed up %(cases)s and %(files)s to %(dest)s (audit chain length %(length)s).",
            cases=ngettext("%(num)d case", "%(num)d cases", summary.cases),
            files=ngettext("%(num)d file", "%(num)d files", summary.blobs),
            dest=dest,
            length=summary.audit_length,
        )
    )
    click.echo(f"manifest sha256: {summary.manifest_sha256}")
    click.echo(
        _(
            "Keep that line where the server cannot write; `portal restore SRC --expect DIGEST`"
            " refuses a backup changed since."
        )
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
    from portal.operations.backup import BackupError
    from portal.operations.backup import restore as restore_backup

    try:
        summary = restore_backup(src, data_dir, expect)
    except BackupError as exc:
        raise Refused(said(exc))
    except OSError as exc:
        raise Refused(
            _(
                "The backup could not be restored into %(dir)s: %(why)s. Create the folder first,"
                " owned by the user the portal runs as.",
                dir=data_dir,
                why=exc.strerror or exc,
            )
        )
    click.echo(
        _(
            "Restored %(cases)s and %(files)s into %(dir)s; the audit chain verifies (length"
            " %(length)s).",
            cases=ngettext("%(num)d case", "%(num)d cases", summary.cases),
            files=ngettext("%(num)d file", "%(num)d files", summary.blobs),
            dir=data_dir,
            length=summary.audit_length,
        )
    )


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("head")
@click.pass_obj
def audit_head(data_dir: Path) -> None:
    """Print the chain's length and latest link, for keeping where the server cannot write (with
    a witness, PORTAL_WITNESS_DIR, the longest it holds: every node's)."""
    from portal.records import audit_head as head_file

    open_installation(data_dir).db.conn.close()
    head = head_file.read_witnessed() or head_file.read_head(data_dir)
    if isinstance(head, str):
        raise Refused(translated(head))
    click.echo((head or head_file.Head(0, "0" * 64)).line())


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
    from portal.records import audit_head
    from portal.records import audit_verify as chain

    try:
        expected_head = audit_head.Head.parse(expected) if expected is not None else None
    except ValueError as exc:
        raise click.UsageError(f"--expect: {exc}")
    from portal.casework import statistics_snapshots
    from portal.keys import roster_audit
    from portal.store import ChangedWhileReadOnly

    def read_verdict():
        ctx = open_installation(data_dir)
        try:
            verdict = chain.verify(ctx, expected_head)
            # The chain first; then the records of who may read, against the chain and the signed
            # rosters; then the frozen statistics, rebuilt from the records they count.
            disagreement = roster_audit.first_disagreement(ctx) if verdict.intact else None
            if verdict.intact and not disagreement:
                disagreement = next(iter(statistics_snapshots.verify(ctx)), None)
            return verdict, disagreement
        finally:
            ctx.db.conn.close()

    try:
        verdict, disagreement = read_verdict()
    except ChangedWhileReadOnly:
        # Space came back and something wrote the database under the full disk's read-only
        # connection (portal.store.db.read_only_while_full): read it again, opened as usual.
        verdict, disagreement = read_verdict()
    if not verdict.intact:
        click.echo(f"TAMPERED: {translated(verdict.message)}", err=True)
        sys.exit(1)
    if disagreement:
        click.echo(f"TAMPERED: {translated(disagreement)}", err=True)
        sys.exit(1)
    click.echo(translated(verdict.message))


@main.command("signing-key")
@click.pass_obj
def signing_key(data_dir: Path) -> None:
    """Print the installation's public signing key (Ed25519, hex), which signs acknowledgements."""
    from portal.casework.acknowledgements import public_key

    ctx = open_installation(data_dir)
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
    text is the disclosure as received); otherwise exit 1 saying why. Exit 3: intact, but with no
    --key (and no installation here) the signer's key was not checked.

    Works offline: no data directory is needed when --key is given."""
    import crypto

    expected = None
    if key_hex is not None:
        try:
            expected = bytes.fromhex(key_hex.strip())
        except ValueError:
            expected = b""
        if len(expected) != 32:
            raise click.UsageError(_("--key must be 64 hexadecimal characters."))
    else:
        expected = _installation_key(click.get_current_context().obj)
        if expected is None and opening is not None:
            # Without a key to trust, anyone could sign a file with their own key to match any text.
            raise click.UsageError(
                _("--opening needs --key: the organisation's published signing key.")
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
            "INTACT, SIGNER NOT CHECKED: "
            + _(
                "the file is unchanged since it was signed by the key below, but no key was given"
                " to check that key against."
            )
        )
    else:
        click.echo("GENUINE: " + _("the signature is good and the file is unchanged."))
    for name in ("case_ref", "channel", "received_day", "acknowledged_day", "law", "commitment"):
        click.echo(f"{name}: {statement.get(name, '')}")
    if "discloser_signing_key" in statement:  # acknowledgements made since consent is signed
        click.echo(f"discloser_signing_key: {statement['discloser_signing_key']}")
    click.echo(f"signed by: {signer.hex()}")
    if expected is None:
        click.echo(
            _(
                "Compare the key above with the organisation's published signing key, or run again"
                " with --key."
            )
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
        sys.stdin.readline() if from_stdin else click.prompt(_("Checking code"), hide_input=True)
    ).strip()
    if acknowledgements.check_opening(statement, code, parts):
        click.echo("MATCHES: " + _("this text and these files are the disclosure as received."))
        return
    click.echo(
        "DOES NOT MATCH: "
        + _(
            "this text, these files or this checking code are not the disclosure as received (any"
            " changed character differs)."
        ),
        err=True,
    )
    sys.exit(1)


def _installation_key(data_dir: Path) -> bytes | None:
    """This installation's public signing key, if the data directory is an installation."""
    import crypto
    from portal.core.config import load_settings
    from portal.core.installation_file import INSTALLATION_FILE

    if not (data_dir / INSTALLATION_FILE).exists():
        return None
    return crypto.signing_public_key(load_settings(data_dir).signing_seed)
