"""New Zealand working days: the statutory clock of the portal.

Three calendars are offered (``CALENDARS``):

``legislation`` (the default)
    The definition of *working day* in the Legislation Act 2019: any day of the week other than a
    Saturday, a Sunday, Waitangi Day, Good Friday, Easter Monday, Anzac Day, the Sovereign's
    birthday (first Monday in June), Te Rā Aro ki a Matariki/Matariki Observance Day, Labour Day
    (fourth Monday in October); the Monday after Waitangi Day or Anzac Day when either falls on a
    Saturday or Sunday; and any day from 25 December to 2 January inclusive (the summer close).

    Christmas Day, Boxing Day, New Year's Day and 2 January are not listed by name in that
    definition: they lie inside the summer close.  Their Holidays Act "Mondayised" dates are
    therefore *not* excluded on their own account; this matters only for a Mondayised 3 or 4 January
    (for example Monday 3 and Tuesday 4 January 2022), which are public holidays for many
    employees but remain working days under this definition.  Regional anniversary days are not
    excluded either.

``oia``
    The Official Information Act 1982 definition: the same, but with the summer close running from
    25 December to 15 January inclusive.

``calendar``
    Plain calendar days, every day counts (the EU regime).  Works for any year.

Easter is computed (the anonymous Gregorian algorithm).  Matariki has no rule that a program can
reproduce; its dates are fixed in the Schedule of Te Kāhui o Matariki Public Holiday Act 2022 for
2022 to 2052 only.  For any other year the ``legislation`` and ``oia`` calendars refuse with
:class:`UnknownYear` rather than guess.  A count only needs the years it actually walks through, so
a count that starts late in 2052 and runs into 2053 is refused too.

Counting convention: ``add_working_days(start, n)`` is the n-th working day *after* ``start``;
``start`` itself is never counted, whether or not it is a working day.  For ``n == 0`` the start
date is returned unchanged (even when it is not a working day, and whatever its year).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass

from portal.core.words import N_, Sentence

__all__ = [
    "CALENDARS",
    "DEFAULT_TZ",
    "FIRST_KNOWN_YEAR",
    "LAST_KNOWN_YEAR",
    "MATARIKI",
    "UnknownYear",
    "add_working_days",
    "easter_sunday",
    "holidays",
    "is_working_day",
    "received_date",
    "working_days_between",
]

CALENDARS = ("legislation", "oia", "calendar")

DEFAULT_TZ = "Pacific/Auckland"

# Te Kāhui o Matariki Public Holiday Act 2022, Schedule: the date in June or July of each year on
# which Te Rā Aro ki a Matariki/Matariki Observance Day is observed.  Always a Friday.
MATARIKI: dict[int, dt.date] = {
    d.year: d
    for d in (
        dt.date(2022, 6, 24),
        dt.date(2023, 7, 14),
        dt.date(2024, 6, 28),
        dt.date(2025, 6, 20),
        dt.date(2026, 7, 10),
        dt.date(2027, 6, 25),
        dt.date(2028, 7, 14),
        dt.date(2029, 7, 6),
        dt.date(2030, 6, 21),
        dt.date(2031, 7, 11),
        dt.date(2032, 7, 2),
        dt.date(2033, 6, 24),
        dt.date(2034, 7, 7),
        dt.date(2035, 6, 29),
        dt.date(2036, 7, 18),
        dt.date(2037, 7, 10),
        dt.date(2038, 6, 25),
        dt.date(2039, 7, 15),
        dt.date(2040, 7, 6),
        dt.date(2041, 7, 19),
        dt.date(2042, 7, 11),
        dt.date(2043, 7, 3),
        dt.date(2044, 6, 24),
        dt.date(2045, 7, 7),
        dt.date(2046, 6, 29),
        dt.date(2047, 7, 19),
        dt.date(2048, 7, 3),
        dt.date(2049, 6, 25),
        dt.date(2050, 7, 15),
        dt.date(2051, 6, 30),
        dt.date(2052, 6, 21),
    )
}
FIRST_KNOWN_YEAR = min(MATARIKI)
LAST_KNOWN_YEAR = max(MATARIKI)

# Last day (in January) of the summer close that starts on 25 December of the previous year.
_SUMMER_CLOSE_ENDS = {"legislation": 2, "oia": 15}

_MON, _FRI, _SAT, _SUN = 0, 4, 5, 6
_ONE_DAY = dt.timedelta(days=1)


class UnknownYear(ValueError):
    """A working day was asked of a year whose Matariki public holiday is not known in law."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            Sentence(
                N_(
                    "New Zealand working days are not known for %(year)s: the date of the Matariki"
                    " public holiday is fixed in law (Te Kāhui o Matariki Public Holiday Act 2022)"
                    " only for %(first)s to %(last)s, and it cannot be computed."
                ),
                year=year,
                first=FIRST_KNOWN_YEAR,
                last=LAST_KNOWN_YEAR,
            )
        )


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday in the Gregorian calendar (anonymous Gregorian / Meeus-Jones-Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _next_monday(d: dt.date) -> dt.date:
    return d + dt.timedelta(days=7 - d.weekday())


def _check_year(year: int) -> None:
    if year not in MATARIKI:
        raise UnknownYear(year)


@functools.lru_cache(maxsize=None)
def _holidays(year: int) -> tuple[tuple[dt.date, str], ...]:
    _check_year(year)
    days: dict[dt.date, list[str]] = {}

    def put(d: dt.date, name: str) -> None:
        days.setdefault(d, []).append(name)

    # New Year and Christmas (Holidays Act 2003, s 45): a holiday falling on a weekend is also
    # observed on the next weekday that is not already one of these holidays.
    for first, second, names in (
        (dt.date(year, 1, 1), dt.date(year, 1, 2), ("New Year's Day", "Day after New Year's Day")),
        (dt.date(year, 12, 25), dt.date(year, 12, 26), ("Christmas Day", "Boxing Day")),
    ):
        taken = {first, second}
        for day, name in zip((first, second), names):
            put(day, name)
            if day.weekday() in (_SAT, _SUN):
                observed = day
                while observed.weekday() in (_SAT, _SUN) or observed in taken:
                    observed += _ONE_DAY
                taken.add(observed)
                put(observed, f"{name} (observed)")

    easter = easter_sunday(year)
    put(easter - dt.timedelta(days=2), "Good Friday")
    put(easter + _ONE_DAY, "Easter Monday")

    # Waitangi Day and Anzac Day: moved to the following Monday when they fall on a weekend
    # (Holidays (Full Recognition of Waitangi Day and ANZAC Day) Amendment Act 2013, from 2014).
    for day, name in ((dt.date(year, 2, 6), "Waitangi Day"), (dt.date(year, 4, 25), "Anzac Day")):
        put(day, name)
        if day.weekday() in (_SAT, _SUN):
            put(_next_monday(day), f"{name} (observed)")

    put(_nth_weekday(year, 6, _MON, 1), "Queen's Birthday" if year < 2023 else "King's Birthday")
    put(MATARIKI[year], "Matariki")
    put(_nth_weekday(year, 10, _MON, 4), "Labour Day")
    return tuple(sorted((d, "; ".join(names)) for d, names in days.items()))


def holidays(year: int) -> dict[dt.date, str]:
    """The national public holidays of ``year``: date -> name, in date order.

    Weekend holidays appear on their own date and again, as "<name> (observed)", on the weekday to
    which they are moved. When two holidays share a date their names are joined with "; " (in 2038
    Anzac Day falls on Easter Sunday and is observed on Easter Monday). Regional anniversary days
    are not included. Raises :class:`UnknownYear` outside 2022-2052.
    """
    return dict(_holidays(year))


@functools.lru_cache(maxsize=None)
def _excluded(year: int) -> frozenset[dt.date]:
    """Weekdays of ``year`` that the statutory definitions exclude by name (not the summer close).

    Only Waitangi Day, Good Friday, Easter Monday, Anzac Day, the Sovereign's birthday, Matariki,
    Labour Day and the Monday after a weekend Waitangi or Anzac Day: Christmas and New Year are
    covered by the summer close, and their Mondayised dates are not excluded by the definitions.
    """
    names = (
        "Waitangi Day",
        "Good Friday",
        "Easter Monday",
        "Anzac Day",
        "Queen's Birthday",
        "King's Birthday",
        "Matariki",
        "Labour Day",
    )
    return frozenset(
        d
        for d, name in _holidays(year)
        if any(part.removesuffix(" (observed)") in names for part in name.split("; "))
    )


def _check_calendar(calendar: str) -> None:
    if calendar not in CALENDARS:
        raise ValueError(f"unknown calendar {calendar!r}; expected one of {', '.join(CALENDARS)}")


def _check_date(d: object, what: str) -> None:
    if isinstance(d, dt.datetime) or not isinstance(d, dt.date):
        raise TypeError(f"{what} must be a datetime.date (not a datetime), got {type(d).__name__}")


def _in_summer_close(d: dt.date, calendar: str) -> bool:
    if d.month == 12:
        return d.day >= 25
    return d.month == 1 and d.day <= _SUMMER_CLOSE_ENDS[calendar]


def _is_working(d: dt.date, calendar: str) -> bool:
    if calendar == "calendar":
        return True
    if d.year not in MATARIKI:
        raise UnknownYear(d.year)
    if d.weekday() >= _SAT or _in_summer_close(d, calendar):
        return False
    return d not in _excluded(d.year)


def is_working_day(d: dt.date, calendar: str = "legislation") -> bool:
    """Whether ``d`` is a working day in ``calendar`` (every day is, in ``"calendar"``)."""
    _check_date(d, "d")
    _check_calendar(calendar)
    return _is_working(d, calendar)


def add_working_days(start: dt.date, n: int, calendar: str = "legislation") -> dt.date:
    """The date ``n`` working days after ``start`` (``start`` itself not counted).

    The result is always a working day when ``n > 0``; ``n == 0`` returns ``start`` unchanged.
    Raises ValueError for a negative ``n`` or an unknown calendar, :class:`UnknownYear` when the
    count walks into a year without a known Matariki date, and ValueError if the result would lie
    beyond the year 9999.
    """
    _check_date(start, "start")
    _check_calendar(calendar)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    try:
        if calendar == "calendar":
            return start + dt.timedelta(days=n)
        if n == 0:
            return start
        table = _table(calendar)
        target = table.before(start) + n
        if target > table.total:
            raise UnknownYear(LAST_KNOWN_YEAR + 1)
        return table.first + dt.timedelta(days=bisect.bisect_left(table.counts, target))
    except OverflowError:
        raise ValueError("the result would lie beyond 9999-12-31") from None


def working_days_between(start: dt.date, end: dt.date, calendar: str = "legislation") -> int:
    """The number of working days ``d`` with ``start < d <= end``.

    So ``working_days_between(s, add_working_days(s, n)) == n``.  When ``end`` is before ``start``
    the count is negative: ``-working_days_between(end, start)`` (handy for "overdue by").
    """
    _check_date(start, "start")
    _check_date(end, "end")
    _check_calendar(calendar)
    if end < start:
        return -working_days_between(end, start, calendar)
    if calendar == "calendar":
        return (end - start).days
    if end == start:
        return 0
    table = _table(calendar)
    skipped = table.before(start)
    return table.up_to(end) - skipped


@dataclass(frozen=True)
class _Table:
    """Working days of FIRST_KNOWN_YEAR..LAST_KNOWN_YEAR as running counts: ``counts[i]`` is the
    number of working days from ``first`` to ``first + i`` days, both included. A count is two
    lookups; a date the table does not reach raises :class:`UnknownYear`, never a guess."""

    first: dt.date
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.counts[-1]

    def up_to(self, day: dt.date) -> int:
        """Working days from ``first`` to ``day`` included."""
        index = (day - self.first).days
        if index < 0:
            raise UnknownYear(day.year)
        if index >= len(self.counts):
            raise UnknownYear(LAST_KNOWN_YEAR + 1)
        return self.counts[index]

    def before(self, start: dt.date) -> int:
        """Working days from ``first`` to ``start`` included: what a count after ``start`` skips.
        ``start`` may be the day before the table (nothing then precedes the count)."""
        if start == self.first - _ONE_DAY:
            return 0
        if not self.first <= start + _ONE_DAY <= self.first + dt.timedelta(len(self.counts) - 1):
            raise UnknownYear((start + _ONE_DAY).year)
        return self.up_to(start)


@functools.lru_cache(maxsize=None)
def _table(calendar: str) -> _Table:
    first = dt.date(FIRST_KNOWN_YEAR, 1, 1)
    days = (dt.date(LAST_KNOWN_YEAR, 12, 31) - first).days + 1
    counts, running = [], 0
    for i in range(days):
        running += _is_working(first + dt.timedelta(days=i), calendar)
        counts.append(running)
    return _Table(first, tuple(counts))


def received_date(moment: dt.datetime, tz: str = DEFAULT_TZ) -> dt.date:
    """The calendar date in ``tz`` (default Pacific/Auckland) at the instant ``moment``.

    ``moment`` must be timezone-aware; a naive datetime is refused with ValueError, since guessing
    its zone could move a disclosure to the wrong day.
    """
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"moment must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError("moment must be timezone-aware (a naive datetime has no defined instant)")
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    return moment.astimezone(zone).date()
