"""The `portal` command: the operator's tool (see docs/interface.md).

Each command module attaches its commands to the root group; importing them here registers them.
"""

from portal.cli import (
    accounts,
    bundle,
    channel_moves,
    channels,
    database,
    installation,
    integrity,
    migration,
    organisation_archives,
    retention,
    roster,
    service,
    workdays,
)
from portal.cli.root import main

__all__ = [
    "main", "accounts", "bundle", "channel_moves", "channels", "database", "installation",
    "integrity", "migration", "organisation_archives", "retention", "roster", "service", "workdays",
]
