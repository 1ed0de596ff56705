"""What the service operator sees of each organisation (issue 29): how many cases it received in
each of the last completed quarters, in buckets (portal.casework.statistics_suppression.bucket),
never the current quarter's (a figure that moves from one day to the next tells when a disclosure
came), and nothing of any case: no reference, receipt, channel, category or status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portal.casework.statistics_periods import Period, recent_periods
from portal.casework.statistics_source import received_count
from portal.casework.statistics_suppression import bucket
from portal.core.context import open_context
from portal.service.registry import data_dir_of, organisations

QUARTERS_SHOWN = 4


@dataclass(frozen=True)
class OrganisationCounts:
    slug: str
    name: str
    received: list[str]  # one bucket per period of `completed_quarters`, newest first


def completed_quarters(today: dt.date) -> list[Period]:
    """The last QUARTERS_SHOWN quarters that have ended before `today`, newest first."""
    return recent_periods(today)[1 : 1 + QUARTERS_SHOWN]


def counts(service_dir, today: dt.date) -> list[OrganisationCounts]:
    """Each registered organisation's cases received in each of `completed_quarters(today)`, as
    buckets, in the order the organisations were made. Reads a count of rows from each
    organisation's database; opens no key. ServiceError if not a service directory."""
    periods = completed_quarters(today)
    found = []
    for organisation in organisations(service_dir):
        ctx = open_context(data_dir_of(service_dir, organisation.slug))
        try:
            received = [bucket(received_count(ctx, p.start, p.end)) for p in periods]
        finally:
            ctx.db.conn.close()
        found.append(OrganisationCounts(organisation.slug, organisation.name, received))
    return found
