"""The root `portal` group, which every command module attaches to, and what they share: opening the
installation and reading a passphrase from standard input."""

from __future__ import annotations

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


def open_installation(data_dir: Path):
    """The installation's context for a command; a clear message if the directory is not set up."""
    from portal.core.config import NotInitialised
    from portal.core.context import open_context

    try:
        return open_context(data_dir)
    except NotInitialised as exc:
        raise click.ClickException(str(exc))


def read_passphrase() -> str:
    line = sys.stdin.readline()
    passphrase = line.rstrip("\r\n")
    if not passphrase:
        raise click.UsageError("Give the passphrase on standard input (one line).")
    return passphrase
