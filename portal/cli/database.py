"""`portal database migrate [--url URL]`: bring a PostgreSQL database to the current schema (issue
30, first slice; docs/deploy.md, "PostgreSQL"). An SQLite data directory needs no command: it is
migrated when it is opened."""

from __future__ import annotations

import click

from portal.cli.root import main
from portal.cli.words import Refused, _, said


@main.group()
def database() -> None:
    """A PostgreSQL database for a shared service (SQLite, the default, needs none of this)."""


@database.command("migrate")
@click.option(
    "--url",
    envvar="PORTAL_DATABASE_URL",
    required=True,
    help="The database's libpq URL (default: PORTAL_DATABASE_URL).",
)
def database_migrate(url: str) -> None:
    """Apply every schema migration the database lacks, each in one transaction."""
    from portal.store import postgres

    try:
        applied = postgres.migrate(url)
    except ImportError:
        raise Refused(
            _(
                "PostgreSQL support is not installed:"
                " pip install 'protected-disclosure-portal[postgres]'"
            )
        ) from None
    except Exception as exc:  # psycopg's errors: the server's own words, never a password
        if type(exc).__module__.split(".")[0] != "psycopg":
            raise
        what = (
            _("The database server could not be reached, or refused the connection")
            if type(exc).__name__ == "OperationalError"
            else _("The database could not be migrated")
        )
        raise Refused(f"{what} ({type(exc).__name__}).") from None
    if applied:
        click.echo(
            _(
                "Applied %(count)s migrations, up to number %(last)s.",
                count=len(applied),
                last=max(applied),
            )
        )
    else:
        click.echo(_("The schema is up to date: nothing to apply."))
