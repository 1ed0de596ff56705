"""`portal migrate-to URL`: this installation's SQLite database and blob files moved into an empty
PostgreSQL database (issue 30; portal.operations.migrate_to_postgres, docs/deploy.md §9)."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.root import main
from portal.cli.words import Refused, _, ngettext, said


@main.command("migrate-to")
@click.argument("url")
@click.pass_obj
def migrate_to(data_dir: Path, url: str) -> None:
    """Move the installation's SQLite database and blob files into the empty PostgreSQL database
    URL (libpq's form), in one transaction, its audit chain verified before and after. Then set
    PORTAL_DATABASE_URL to URL. Stop the portal first."""
    from portal.core.config import NotInitialised
    from portal.operations.migrate_to_postgres import MigrationRefused
    from portal.operations.migrate_to_postgres import migrate_to as migrate

    try:
        summary = migrate(data_dir, url)
    except ImportError:
        raise Refused(_("PostgreSQL support is not installed:"
                        " pip install 'protected-disclosure-portal[postgres]'")) from None
    except (MigrationRefused, NotInitialised) as exc:
        raise Refused(said(exc)) from None
    except Exception as exc:  # psycopg's: the server's words stay in its own log, never a password
        if type(exc).__module__.split(".")[0] != "psycopg":
            raise
        raise Refused(_("The database could not be migrated (%(error)s); nothing was migrated:"
                        " the transaction was rolled back.", error=type(exc).__name__)) from None
    click.echo(ngettext(
        "%(num)d case moved into PostgreSQL, with %(files)s files and %(rows)s rows in all; its"
        " audit chain of %(length)s entries verifies there.",
        "%(num)d cases moved into PostgreSQL, with %(files)s files and %(rows)s rows in all; their"
        " audit chain of %(length)s entries verifies there.",
        summary.cases, files=summary.blobs, rows=summary.rows, length=summary.audit_length))
    click.echo(_("Now set PORTAL_DATABASE_URL to that database wherever the portal runs, and start"
                 " it. The data directory stays in use (installation.json, the heads, rosters);"
                 " portal.db and blobs/ are not: keep them as a backup until you have checked the"
                 " portal, then remove them."))
