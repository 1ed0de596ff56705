"""Retention on the command line: `retention carry-on` finishes deletions that stopped part way."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.root import main, open_installation, print_progress
from portal.cli.words import ngettext


@main.group()
def retention() -> None:
    """Retention: closed cases kept for their channel's period, then deleted by two officers."""


@retention.command("carry-on")
@click.option(
    "--batches",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many transactions; run again to carry on where it stopped.",
)
@click.pass_obj
def retention_carry_on(data_dir: Path, batches: int | None) -> None:
    """Finish the case deletions two officers confirmed that stopped part way (a killed process,
    a fault): their cases can be read by nobody already; what is left of their messages and files
    goes, in batches of short transactions, with how far it got on standard error after each."""
    from portal.operations import retention as rules

    ctx = open_installation(data_dir)
    finished = rules.carry_on_deletions(
        ctx, report=lambda op: print_progress(op, "rows"), batches=batches
    )
    left = len(rules.cases_being_deleted(ctx))
    click.echo(
        ngettext(
            "%(num)d deletion finished; %(left)s still under way.",
            "%(num)d deletions finished; %(left)s still under way.",
            finished,
            left=left,
        )
    )
