"""Time as the portal records it: days in the installation's zone for anything a discloser did."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from portal.core.workdays import received_date


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def today(tz: str) -> str:
    """Today's date in `tz` as YYYY-MM-DD: the finest time the portal keeps of a discloser's action,
    and the received date that starts the statutory clock."""
    return received_date(now_utc(), tz).isoformat()


def day_start_timestamp(day: str, tz: str) -> float:
    """Seconds since the epoch at 00:00 of `day` in `tz` (for blurring file times to the day)."""
    midnight = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tzinfo=ZoneInfo(tz))
    return midnight.timestamp()


def time_of_day(value: str) -> dt.time:
    """A time of day written "HH:MM" (24-hour clock), e.g. the `digest_time` setting. Raises
    ValueError."""
    try:
        hours, minutes = value.strip().split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError("Give a time of day as HH:MM, for example 07:30.") from None


def epoch() -> int:
    return int(time.time())


def utc_offset_seconds(tz: str) -> int:
    """The zone's offset from UTC now, in seconds (Pacific/Auckland: 43200 or 46800), so that a
    daily window can start at the installation's midnight and tell no more than the day a discloser
    acted.
    """
    return int(now_utc().astimezone(ZoneInfo(tz)).utcoffset().total_seconds())
