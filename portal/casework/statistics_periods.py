"""The fixed periods statistics are given for: a calendar quarter or a New Zealand financial year (1
July to 30 June), so that overlapping periods of any length cannot be subtracted from each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portal.core.words import N_


class PeriodError(ValueError):
    """`from` and `to` do not name one quarter or one financial year; the message says what does."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str
    quarters: tuple["Period", ...] = ()  # a financial year's four quarters


def _quarter(year: int, q: int) -> Period:
    start = dt.date(year, 3 * q - 2, 1)
    end = (dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)) - dt.timedelta(days=1)
    return Period(start, end, f"{start:%B}–{end:%B} {year} (quarter {q} of {year})")


def _financial_year(end_year: int) -> Period:
    return Period(
        dt.date(end_year - 1, 7, 1),
        dt.date(end_year, 6, 30),
        f"Financial year 1 July {end_year - 1} to 30 June {end_year}",
        (
            _quarter(end_year - 1, 3),
            _quarter(end_year - 1, 4),
            _quarter(end_year, 1),
            _quarter(end_year, 2),
        ),
    )


def parse_period(start_text: str | None, end_text: str | None) -> Period:
    """The fixed period from `from` to `to` (YYYY-MM-DD, both days included). Raises PeriodError."""
    try:
        start, end = dt.date.fromisoformat((start_text or "").strip()), dt.date.fromisoformat(
            (end_text or "").strip()
        )
    except ValueError:
        raise PeriodError(N_("Give the period's first and last days as YYYY-MM-DD.")) from None
    if not 2000 <= start.year <= 9000:
        raise PeriodError(N_("Give a period between the years 2000 and 9000."))
    if start.day == 1 and start.month in (1, 4, 7, 10):
        quarter = _quarter(start.year, (start.month + 2) // 3)
        if end == quarter.end:
            return quarter
    if (start.month, start.day) == (7, 1) and end == dt.date(start.year + 1, 6, 30):
        return _financial_year(start.year + 1)
    raise PeriodError(
        N_(
            "Statistics are given for whole quarters (January–March, April–June,"
            " July–September, October–December) or financial years (1 July to 30 June) only, so"
            " that overlapping periods cannot be compared to single anyone out."
        )
    )


def recent_periods(today: dt.date) -> list[Period]:
    """The current and previous quarters of the last two years, then the current and two earlier
    financial years."""
    q, year = (today.month + 2) // 3, today.year
    quarters = []
    for _ in range(8):
        quarters.append(_quarter(year, q))
        q, year = (q - 1, year) if q > 1 else (4, year - 1)
    fy_end = today.year + (today.month >= 7)
    return quarters + [_financial_year(fy_end - i) for i in range(3)]


def last_completed_quarter(today: dt.date) -> Period:
    return recent_periods(today)[1]
