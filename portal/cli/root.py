"""The root `portal` group, which every command module attaches to, and what they share: opening the
installation, reading a passphrase from standard input, and the tests' hidden cheap-KDF option."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from portal.cli.words import Refused, _, said
from portal.core.words import N_

# `portal init`, `portal service init`, `portal org create`: the test suite's cheap key derivation.
insecure_fast_kdf_option = click.option(
    "--insecure-fast-kdf",
    is_flag=True,
    hidden=True,
    help="For automated tests only: cheap key derivation. Never use for real disclosures.",
)


class _VerdictGroup(click.Group):
    """Every command ends in a verdict: a fault of the storage (a full disk, a locked or missing
    database; portal.store.faults) is one plain line and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context):
        from portal.store import faults

        try:
            return super().invoke(ctx)
        except Exception as exc:
            fault = faults.classify(exc)
            if fault is None or isinstance(exc, click.ClickException):
                raise
            raise Refused(f"{_(_FAULT_VERDICTS[fault.kind])} ({type(exc).__name__})")


_FAULT_VERDICTS = {
    "locked": N_(
        "The database is busy (its write lock was not free in time); nothing was changed."
        " Try again in a minute."
    ),
    "full": N_("The disk is full: nothing was changed. Free some space and try again."),
    "missing": N_(
        "A file of the data directory is missing or cannot be opened; nothing was changed."
    ),
    "dependency": N_("The storage did not answer (an input/output error); nothing was changed."),
}


@click.group(cls=_VerdictGroup)
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


def open_installation(data_dir: Path):
    """The installation's context for a command; a clear message if the directory is not set up."""
    from portal.core.config import NotInitialised
    from portal.core.context import open_context
    from portal.records.audit import close_past_days
    from portal.store import faults

    try:
        ctx = open_context(data_dir)
    except NotInitialised as exc:
        raise Refused(said(exc))
    # The first command after a day ends appends that day's discloser entries to the audit chain (a
    # busy or full store puts it off to the next command or request).
    faults.put_off(close_past_days, ctx)
    return ctx


def read_passphrase() -> str:
    line = sys.stdin.readline()
    passphrase = line.rstrip("\r\n")
    if not passphrase:
        raise click.UsageError(_("Give the passphrase on standard input (one line)."))
    return passphrase


def print_progress(state, noun: str = "cases") -> None:
    """After each batch (its own transaction) of a long operation (portal.store.progress): how far
    it has got, on standard error (`1200 of 10000 cases`). Run the same command again after an
    interruption and it carries on from the last line printed."""
    said = {
        "cases": _("%(done)s of %(total)s cases", done=state.done, total=state.total),
        "rows": _("%(done)s of %(total)s rows", done=state.done, total=state.total),
    }
    click.echo(said[noun], err=True)
