"""`workdays add`: working-day arithmetic for the statutory clock."""

from __future__ import annotations

import datetime as dt

import click

from portal.cli.root import main
from portal.cli.words import Refused, _, said


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
        raise click.UsageError(
            _("START must be a date written YYYY-MM-DD, not %(start)s.", start=repr(start))
        )
    if re.fullmatch(r"-[0-9]+", n):
        raise click.UsageError(_("N must not be negative, not %(n)s.", n=repr(n)))
    if not re.fullmatch(r"\+?[0-9]+", n):
        raise click.UsageError(_("N must be a whole number, not %(n)s.", n=repr(n)))
    count = int(n)
    try:
        result = wd.add_working_days(start_date, count, calendar_name)
    except ValueError as exc:  # UnknownYear, or a result beyond the year 9999
        raise click.UsageError(said(exc))
    click.echo(result.isoformat())
