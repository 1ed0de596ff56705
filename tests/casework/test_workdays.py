"""The New Zealand working-day calendar (portal/core/workdays.py, issue 6)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.core import workdays as wd
from portal.core.workdays import (
    CALENDARS,
    UnknownYear,
    add_working_days,
    easter_sunday,
    holidays,
    is_working_day,
    received_date,
    working_days_between,
)

D = dt.date
STATUTORY = ("legislation", "oia")


def test_calendars_and_default() -> None:
    assert CALENDARS == ("legislation", "oia", "calendar")
    # The default is the Legislation Act: 3 January 2025 is a working day there, not under the OIA.
    assert is_working_day(D(2025, 1, 3))
    assert add_working_days(D(2024, 12, 24), 1) == D(2025, 1, 3)


# --- Easter (computed) -------------------------------------------------------------------------

@pytest.mark.parametrize("sunday", [
    D(2000, 4, 23), D(2008, 3, 23), D(2011, 4, 24), D(2019, 4, 21), D(2022, 4, 17),
    D(2023, 4, 9), D(2024, 3, 31), D(2025, 4, 20), D(2026, 4, 5), D(2027, 3, 28),
    D(2038, 4, 25),  # the latest possible Easter
    D(2285, 3, 22),  # the earliest possible Easter
])
def test_easter_sunday_known_dates(sunday: dt.date) -> None:
    assert easter_sunday(sunday.year) == sunday


@pytest.mark.parametrize("year, good_friday, easter_monday", [
    (2022, D(2022, 4, 15), D(2022, 4, 18)),
    (2024, D(2024, 3, 29), D(2024, 4, 1)),
    (2025, D(2025, 4, 18), D(2025, 4, 21)),
    (2026, D(2026, 4, 3), D(2026, 4, 6)),
    (2027, D(2027, 3, 26), D(2027, 3, 29)),
    (2038, D(2038, 4, 23), D(2038, 4, 26)),
])
def test_good_friday_and_easter_monday_are_not_working_days(year, good_friday,
                                                            easter_monday) -> None:
    assert holidays(year)[good_friday] == "Good Friday"
    assert "Easter Monday" in holidays(year)[easter_monday]
    for cal in STATUTORY:
        assert not is_working_day(good_friday, cal)
        assert not is_working_day(easter_monday, cal)
        # The Thursday before and the Tuesday after are ordinary working days.
        assert is_working_day(good_friday - dt.timedelta(days=1), cal)
        assert is_working_day(easter_monday + dt.timedelta(days=1), cal)
    assert is_working_day(good_friday, "calendar")


def test_easter_matches_dateutil_over_centuries() -> None:
    easter = pytest.importorskip("dateutil.easter").easter
    for year in range(1583, 4100):
        assert easter_sunday(year) == easter(year), year


# --- Waitangi Day and Anzac Day, Mondayised -----------------------------------------------------

@pytest.mark.parametrize("day, observed", [
    (D(2027, 2, 6), D(2027, 2, 8)),   # Saturday -> Monday 8 February
    (D(2038, 2, 6), D(2038, 2, 8)),   # Saturday
    (D(2022, 2, 6), D(2022, 2, 7)),   # Sunday -> Monday 7 February
    (D(2028, 2, 6), D(2028, 2, 7)),   # Sunday
])
def test_waitangi_day_on_a_weekend_moves_to_monday(day: dt.date, observed: dt.date) -> None:
    assert day.weekday() in (5, 6) and observed.weekday() == 0
    assert holidays(day.year)[day] == "Waitangi Day"
    assert holidays(day.year)[observed] == "Waitangi Day (observed)"
    for cal in STATUTORY:
        assert not is_working_day(observed, cal)
        assert is_working_day(observed + dt.timedelta(days=1), cal)   # only the Monday moves
        assert is_working_day(day - dt.timedelta(days=(day.weekday() - 4)), cal)  # the Friday


@pytest.mark.parametrize("day, observed", [
    (D(2026, 4, 25), D(2026, 4, 27)),  # Saturday -> Monday 27 April
    (D(2037, 4, 25), D(2037, 4, 27)),  # Saturday
    (D(2027, 4, 25), D(2027, 4, 26)),  # Sunday -> Monday 26 April
    (D(2032, 4, 25), D(2032, 4, 26)),  # Sunday
])
def test_anzac_day_on_a_weekend_moves_to_monday(day: dt.date, observed: dt.date) -> None:
    assert day.weekday() in (5, 6) and observed.weekday() == 0
    assert holidays(day.year)[day] == "Anzac Day"
    assert holidays(day.year)[observed] == "Anzac Day (observed)"
    for cal in STATUTORY:
        assert not is_working_day(observed, cal)
        assert is_working_day(observed + dt.timedelta(days=1), cal)


@pytest.mark.parametrize("day", [D(2024, 2, 6), D(2025, 2, 6), D(2024, 4, 25), D(2025, 4, 25)])
def test_waitangi_and_anzac_on_a_weekday_are_not_moved(day: dt.date) -> None:
    assert not is_working_day(day)
    following_monday = day + dt.timedelta(days=7 - day.weekday())
    assert "(observed)" not in holidays(day.year).get(following_monday, "")


def test_anzac_day_on_easter_sunday_2038_gives_no_extra_day() -> None:
    # 25 April 2038 is both Easter Sunday and Anzac Day; the Mondayised Anzac Day is Easter Monday,
    # and the law gives no further day: Tuesday 27 April 2038 is a working day.
    assert holidays(2038)[D(2038, 4, 26)] == "Easter Monday; Anzac Day (observed)"
    assert not is_working_day(D(2038, 4, 26))
    assert is_working_day(D(2038, 4, 27))


# --- The Sovereign's Birthday, Matariki, Labour Day --------------------------------------------

@pytest.mark.parametrize("day", [
    D(2022, 6, 6), D(2023, 6, 5), D(2024, 6, 3), D(2025, 6, 2), D(2026, 6, 1), D(2030, 6, 3),
    D(2051, 6, 5),
])
def test_kings_birthday_is_first_monday_in_june(day: dt.date) -> None:
    assert day.weekday() == 0 and day.day <= 7
    name = "Queen's Birthday" if day.year == 2022 else "King's Birthday"
    assert holidays(day.year)[day] == name
    for cal in STATUTORY:
        assert not is_working_day(day, cal)
        assert is_working_day(day + dt.timedelta(days=7), cal)


def test_matariki_dates_from_the_schedule() -> None:
    # Te Kāhui o Matariki Public Holiday Act 2022, Schedule, 2022-2052.
    schedule = [
        "2022-06-24", "2023-07-14", "2024-06-28", "2025-06-20", "2026-07-10", "2027-06-25",
        "2028-07-14", "2029-07-06", "2030-06-21", "2031-07-11", "2032-07-02", "2033-06-24",
        "2034-07-07", "2035-06-29", "2036-07-18", "2037-07-10", "2038-06-25", "2039-07-15",
        "2040-07-06", "2041-07-19", "2042-07-11", "2043-07-03", "2044-06-24", "2045-07-07",
        "2046-06-29", "2047-07-19", "2048-07-03", "2049-06-25", "2050-07-15", "2051-06-30",
        "2052-06-21",
    ]
    for text in schedule:
        day = D.fromisoformat(text)
        assert day.weekday() == 4, text  # always a Friday
        assert holidays(day.year)[day] == "Matariki"
        for cal in STATUTORY:
            assert not is_working_day(day, cal), text
            assert is_working_day(day - dt.timedelta(days=1), cal), text
    assert sorted(wd.MATARIKI) == list(range(2022, 2053))


@pytest.mark.parametrize("day", [
    D(2022, 10, 24), D(2023, 10, 23), D(2024, 10, 28), D(2025, 10, 27), D(2026, 10, 26),
    D(2042, 10, 27), D(2051, 10, 23),
])
def test_labour_day_is_fourth_monday_in_october(day: dt.date) -> None:
    assert day.weekday() == 0 and 22 <= day.day <= 28
    assert holidays(day.year)[day] == "Labour Day"
    for cal in STATUTORY:
        assert not is_working_day(day, cal)
        assert is_working_day(day - dt.timedelta(days=7), cal)


def test_full_year_lists_match_published_calendars() -> None:
    # Published New Zealand public holidays for 2024 and 2051 (national days only).
    assert holidays(2024) == {
        D(2024, 1, 1): "New Year's Day", D(2024, 1, 2): "Day after New Year's Day",
        D(2024, 2, 6): "Waitangi Day", D(2024, 3, 29): "Good Friday",
        D(2024, 4, 1): "Easter Monday", D(2024, 4, 25): "Anzac Day",
        D(2024, 6, 3): "King's Birthday", D(2024, 6, 28): "Matariki",
        D(2024, 10, 28): "Labour Day", D(2024, 12, 25): "Christmas Day",
        D(2024, 12, 26): "Boxing Day",
    }
    assert holidays(2051) == {
        D(2051, 1, 1): "New Year's Day", D(2051, 1, 2): "Day after New Year's Day",
        D(2051, 1, 3): "New Year's Day (observed)",
        D(2051, 2, 6): "Waitangi Day", D(2051, 3, 31): "Good Friday",
        D(2051, 4, 3): "Easter Monday", D(2051, 4, 25): "Anzac Day",
        D(2051, 6, 5): "King's Birthday", D(2051, 6, 30): "Matariki",
        D(2051, 10, 23): "Labour Day", D(2051, 12, 25): "Christmas Day",
        D(2051, 12, 26): "Boxing Day",
    }


def test_ordinary_days_and_weekends() -> None:
    assert is_working_day(D(2024, 7, 3))          # a Wednesday
    assert not is_working_day(D(2024, 7, 6))      # Saturday
    assert not is_working_day(D(2024, 7, 7))      # Sunday
    assert is_working_day(D(2024, 7, 6), "calendar")


def test_regional_anniversary_days_are_working_days() -> None:
    # Wellington (20 Jan 2025), Auckland (27 Jan 2025), Canterbury (14 Nov 2025) anniversaries.
    for day in (D(2025, 1, 20), D(2025, 1, 27), D(2025, 11, 14)):
        assert is_working_day(day, "legislation") and is_working_day(day, "oia")


# --- The summer close --------------------------------------------------------------------------

def test_summer_close_legislation_is_25_december_to_2_january() -> None:
    assert is_working_day(D(2024, 12, 24), "legislation")            # Tuesday
    day = D(2024, 12, 25)
    while day <= D(2025, 1, 2):
        assert not is_working_day(day, "legislation"), day
        day += dt.timedelta(days=1)
    assert is_working_day(D(2025, 1, 3), "legislation")              # Friday
    assert is_working_day(D(2025, 1, 6), "legislation")


def test_summer_close_oia_is_25_december_to_15_january() -> None:
    assert is_working_day(D(2024, 12, 24), "oia")
    day = D(2024, 12, 25)
    while day <= D(2025, 1, 15):
        assert not is_working_day(day, "oia"), day
        day += dt.timedelta(days=1)
    assert is_working_day(D(2025, 1, 16), "oia")                     # Thursday
    assert working_days_between(D(2024, 12, 24), D(2025, 1, 16), "oia") == 1


@pytest.mark.parametrize("year", [2022, 2027, 2033, 2045, 2051])
def test_summer_close_in_other_years(year: int) -> None:
    for cal, last in (("legislation", 2), ("oia", 15)):
        for day in (D(year, 1, 1), D(year, 1, 2), D(year, 1, last), D(year, 12, 25),
                    D(year, 12, 31)):
            assert not is_working_day(day, cal), (cal, day)
        first_after = D(year, 1, last + 1)
        while first_after.weekday() >= 5:
            first_after += dt.timedelta(days=1)
        assert is_working_day(first_after, cal), (cal, first_after)


def test_mondayised_new_year_outside_the_close_is_a_legislation_working_day() -> None:
    # 1 and 2 January 2022 fell on a weekend; the public holidays were observed on Monday 3 and
    # Tuesday 4 January.  The Legislation Act definition does not list them, so they are working
    # days there (the OIA close covers them anyway).
    assert holidays(2022)[D(2022, 1, 3)] == "New Year's Day (observed)"
    assert holidays(2022)[D(2022, 1, 4)] == "Day after New Year's Day (observed)"
    assert is_working_day(D(2022, 1, 3), "legislation")
    assert is_working_day(D(2022, 1, 4), "legislation")
    assert not is_working_day(D(2022, 1, 4), "oia")


# --- Counting ---------------------------------------------------------------------------------

def test_twenty_working_days_across_christmas_legislation() -> None:
    # From Tuesday 10 December 2024 (not counted):
    #   Wed 11, Thu 12, Fri 13 Dec ............................  3
    #   Mon 16 - Fri 20 Dec ...................................  8
    #   Mon 23, Tue 24 Dec ....................................  10
    #   25 Dec 2024 - 2 Jan 2025: summer close, none count
    #   Fri 3 Jan .............................................  11
    #   Mon 6 - Fri 10 Jan ....................................  16
    #   Mon 13, Tue 14, Wed 15, Thu 16 Jan ....................  20
    assert add_working_days(D(2024, 12, 10), 20, "legislation") == D(2025, 1, 16)
    assert add_working_days(D(2024, 12, 10), 20) == D(2025, 1, 16)


def test_twenty_working_days_across_christmas_oia() -> None:
    # From Tuesday 10 December 2024 (not counted):
    #   Wed 11 - Tue 24 Dec, as above .........................  10
    #   25 Dec 2024 - 15 Jan 2025: summer close, none count
    #   Thu 16, Fri 17 Jan ....................................  12
    #   Mon 20 - Fri 24 Jan (Wellington Anniversary counts) ...  17
    #   Mon 27 (Auckland Anniversary counts), Tue 28, Wed 29 ..  20
    assert add_working_days(D(2024, 12, 10), 20, "oia") == D(2025, 1, 29)


def test_twenty_days_in_the_calendar_regime() -> None:
    assert add_working_days(D(2024, 12, 10), 20, "calendar") == D(2024, 12, 30)
    assert working_days_between(D(2024, 12, 10), D(2024, 12, 30), "calendar") == 20


def test_count_from_a_day_that_is_not_a_working_day() -> None:
    # Saturday 1 June 2024: Sunday, then Monday 3 June is King's Birthday -> Tuesday 4 June.
    assert add_working_days(D(2024, 6, 1), 1) == D(2024, 6, 4)
    assert add_working_days(D(2024, 6, 1), 5) == D(2024, 6, 10)
    # Good Friday 2025 (18 April): Sat, Sun, Easter Monday 21 -> Tuesday 22 April.
    assert add_working_days(D(2025, 4, 18), 1) == D(2025, 4, 22)
    # Christmas Day 2024: the close runs to 2 January -> Friday 3 January 2025.
    assert add_working_days(D(2024, 12, 25), 1, "legislation") == D(2025, 1, 3)
    assert add_working_days(D(2024, 12, 25), 1, "oia") == D(2025, 1, 16)
    # And the start is never counted even when it is a working day.
    assert add_working_days(D(2024, 6, 4), 1) == D(2024, 6, 5)


def test_zero_working_days_returns_start_unchanged() -> None:
    for cal in CALENDARS:
        assert add_working_days(D(2024, 6, 1), 0, cal) == D(2024, 6, 1)   # a Saturday
        assert add_working_days(D(2024, 6, 4), 0, cal) == D(2024, 6, 4)


def test_working_days_between() -> None:
    assert working_days_between(D(2024, 12, 10), D(2025, 1, 16)) == 20
    assert working_days_between(D(2024, 12, 10), D(2025, 1, 29), "oia") == 20
    assert working_days_between(D(2024, 6, 4), D(2024, 6, 4)) == 0
    assert working_days_between(D(2024, 5, 31), D(2024, 6, 4)) == 1   # Sat, Sun, King's Bday, Tue
    assert working_days_between(D(2025, 1, 16), D(2024, 12, 10)) == -20


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        add_working_days(D(2024, 1, 10), -1)
    with pytest.raises(ValueError, match="calendar"):
        add_working_days(D(2024, 1, 10), 1, "gregorian")
    with pytest.raises(ValueError, match="calendar"):
        is_working_day(D(2024, 1, 10), "business")
    with pytest.raises(TypeError):
        add_working_days(dt.datetime(2024, 1, 10, 9, 0), 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_working_days(D(2024, 1, 10), 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="9999"):
        add_working_days(D(9999, 12, 31), 1, "calendar")


# --- Unknown years -----------------------------------------------------------------------------

@pytest.mark.parametrize("year", [1999, 2021, 2053, 2100])
def test_unknown_years_are_refused(year: int) -> None:
    with pytest.raises(UnknownYear) as info:
        holidays(year)
    assert str(year) in str(info.value) and "Matariki" in str(info.value)
    assert info.value.year == year
    assert isinstance(info.value, ValueError)
    for cal in STATUTORY:
        with pytest.raises(UnknownYear):
            is_working_day(D(year, 3, 3), cal)
        with pytest.raises(UnknownYear):
            add_working_days(D(year, 3, 3), 1, cal)
        # Refused even for days that would be non-working whatever the holidays: no guessing.
        saturday = D(year, 3, 3) + dt.timedelta(days=(5 - D(year, 3, 3).weekday()) % 7)
        for day in (D(year, 12, 25), D(year, 1, 1), saturday):
            with pytest.raises(UnknownYear):
                is_working_day(day, cal)
    # Plain calendar days work in any year.
    assert is_working_day(D(year, 3, 3), "calendar")
    assert add_working_days(D(year, 3, 3), 10, "calendar") == D(year, 3, 13)


def test_a_count_running_past_2052_is_refused() -> None:
    # Friday 20 December 2052: Mon 23, Tue 24 count; then the close; the next day is in 2053.
    assert add_working_days(D(2052, 12, 20), 2) == D(2052, 12, 24)
    with pytest.raises(UnknownYear, match="2053"):
        add_working_days(D(2052, 12, 20), 3)
    with pytest.raises(UnknownYear, match="2053"):
        add_working_days(D(2052, 12, 20), 20, "oia")
    with pytest.raises(UnknownYear, match="2053"):
        working_days_between(D(2052, 12, 20), D(2053, 1, 20))
    assert add_working_days(D(2052, 12, 20), 20, "calendar") == D(2053, 1, 9)


def test_a_count_from_late_2021_needs_only_2022() -> None:
    # The start is not counted, so its year need not be known.
    assert add_working_days(D(2021, 12, 31), 1) == D(2022, 1, 3)
    with pytest.raises(UnknownYear, match="2021"):
        add_working_days(D(2021, 12, 20), 1)


# --- Received date -----------------------------------------------------------------------------

UTC = dt.timezone.utc


@pytest.mark.parametrize("moment, expected", [
    # New Zealand Standard Time (UTC+12) in winter.
    (dt.datetime(2024, 6, 30, 11, 59, 59, tzinfo=UTC), D(2024, 6, 30)),
    (dt.datetime(2024, 6, 30, 12, 0, 0, tzinfo=UTC), D(2024, 7, 1)),
    # New Zealand Daylight Time (UTC+13) in summer.
    (dt.datetime(2024, 12, 31, 10, 59, 59, tzinfo=UTC), D(2024, 12, 31)),
    (dt.datetime(2024, 12, 31, 11, 0, 0, tzinfo=UTC), D(2025, 1, 1)),
    # Other zones are converted, not read off.
    (dt.datetime(2024, 3, 1, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), D(2024, 3, 2)),
])
def test_received_date_is_the_date_in_auckland(moment: dt.datetime, expected: dt.date) -> None:
    assert received_date(moment) == expected


def test_received_date_zone_is_configurable() -> None:
    moment = dt.datetime(2024, 6, 30, 12, 30, tzinfo=UTC)
    assert received_date(moment, "Pacific/Auckland") == D(2024, 7, 1)
    assert received_date(moment, "UTC") == D(2024, 6, 30)
    assert received_date(moment, "Pacific/Chatham") == D(2024, 7, 1)
    with pytest.raises(ValueError, match="time zone"):
        received_date(moment, "Mars/Olympus_Mons")


def test_received_date_refuses_naive_moments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        received_date(dt.datetime(2024, 6, 30, 12, 0))


# --- Properties --------------------------------------------------------------------------------

starts = st.dates(min_value=D(2022, 1, 1), max_value=D(2051, 12, 31))
counts = st.integers(min_value=0, max_value=200)   # 200 working days never leave 2022-2052
statutory = st.sampled_from(STATUTORY)


def _excluded_by_hand(day: dt.date, cal: str) -> bool:
    """An independent statement of the exclusions, built from holidays() and the close."""
    close_end = 2 if cal == "legislation" else 15
    if day.weekday() >= 5:
        return True
    if (day.month, day.day) >= (12, 25) or (day.month == 1 and day.day <= close_end):
        return True
    listed = ("Waitangi Day", "Good Friday", "Easter Monday", "Anzac Day", "Queen's Birthday",
              "King's Birthday", "Matariki", "Labour Day")
    name = holidays(day.year).get(day, "")
    return any(part.removesuffix(" (observed)") in listed for part in name.split("; ") if part)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=counts, cal=st.sampled_from(CALENDARS))
def test_property_adding_then_counting_gives_n(start: dt.date, n: int, cal: str) -> None:
    end = add_working_days(start, n, cal)
    assert working_days_between(start, end, cal) == n


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=200), cal=statutory)
def test_property_result_never_falls_on_an_excluded_day(start: dt.date, n: int, cal: str) -> None:
    end = add_working_days(start, n, cal)
    assert not _excluded_by_hand(end, cal)
    assert is_working_day(end, cal)
    # ... and the day before the result, if after the start, brings the count to exactly n - 1.
    assert working_days_between(start, end - dt.timedelta(days=1), cal) == n - 1


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(min_value=0, max_value=150),
       extra=st.integers(min_value=1, max_value=50), cal=st.sampled_from(CALENDARS))
def test_property_result_never_moves_backwards(start: dt.date, n: int, extra: int,
                                               cal: str) -> None:
    earlier = add_working_days(start, n, cal)
    later = add_working_days(start, n + extra, cal)
    assert start <= earlier < later
    assert add_working_days(start, n + 1, cal) > earlier


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=D(2022, 1, 1), max_value=D(2052, 12, 31)), cal=statutory)
def test_property_is_working_day_agrees_with_the_exclusions(day: dt.date, cal: str) -> None:
    assert is_working_day(day, cal) == (not _excluded_by_hand(day, cal))
    # The OIA excludes everything the Legislation Act excludes, and more.
    if not is_working_day(day, "legislation"):
        assert not is_working_day(day, "oia")


def test_counts_come_from_the_table_and_agree_with_the_days_one_by_one():
    """Working days are looked up (portal.core.workdays keeps running counts), never walked: the
    table's answer for the whole known range equals the days counted one at a time, and a date past
    the table raises UnknownYear instead of a guess."""
    workdays = wd
    start, end = dt.date(2021, 12, 31), dt.date(2052, 12, 31)
    one_by_one = sum(
        workdays.is_working_day(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1)
    )
    assert workdays.working_days_between(start, end) == one_by_one
    assert workdays.add_working_days(start, one_by_one) <= end
    with pytest.raises(workdays.UnknownYear):
        workdays.add_working_days(start, one_by_one + 1)
    with pytest.raises(workdays.UnknownYear):
        workdays.working_days_between(dt.date(2052, 12, 1), dt.date(2053, 1, 20))
