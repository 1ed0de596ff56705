"""`portal database migrate [--url URL]`: bring a PostgreSQL database to the current schema (issue
30, first slice; docs/deploy.md, "PostgreSQL"). An SQLite data directory needs no command: it is
migrated when it is opened."""

from __future__ import annotations

import click

from portal.cli.root import main


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
        raise click.ClickException(
            "PostgreSQL support is not installed:"
            " pip install 'protected-disclosure-portal[postgres]'"
        ) from None
    except Exception as exc:  # psycopg's errors: the server's own words, never a password
        if type(exc).__module__.split(".")[0] != "psycopg":
            raise
        what = (
            "The database server could not be reached, or refused the connection"
            if type(exc).__name__ == "OperationalError"
            else "The database could not be migrated"
        )
        raise click.ClickException(f"{what} ({type(exc).__name__}).") from None
    if applied:
        click.echo(f"Applied {len(applied)} migrations, up to number {max(applied)}.")
    else:
        click.echo("The schema is up to date: nothing to apply.")
