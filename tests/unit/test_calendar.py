"""CN working-day calendar: deadline arithmetic across real 2025/2026 holidays.

Every expected date in the tables below was worked out by hand from the State Council
holiday schedules (not computed with the code under test). Weekday notes are given so a
reviewer can check each row against a paper calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules.calendar import WorkingCalendar, calendar_for


@pytest.fixture(scope="module")
def cn() -> WorkingCalendar:
    return calendar_for("CN")


def d(iso: str) -> date:
    return date.fromisoformat(iso)


# --- An independent oracle, written by hand from the official schedules -----------------
# Weekday public holidays / bridge days off (weekend days inside a holiday are off anyway).
_OFF_WEEKDAYS = {
    # 2025
    "2025-01-01",
    "2025-01-28",
    "2025-01-29",
    "2025-01-30",
    "2025-01-31",
    "2025-02-03",
    "2025-02-04",
    "2025-04-04",
    "2025-05-01",
    "2025-05-02",
    "2025-05-05",
    "2025-06-02",
    "2025-10-01",
    "2025-10-02",
    "2025-10-03",
    "2025-10-06",
    "2025-10-07",
    "2025-10-08",
    # 2026
    "2026-01-01",
    "2026-01-02",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-23",
    "2026-04-06",
    "2026-05-01",
    "2026-05-04",
    "2026-05-05",
    "2026-06-19",
    "2026-09-25",
    "2026-10-01",
    "2026-10-02",
    "2026-10-05",
    "2026-10-06",
    "2026-10-07",
}
MAKE_UP_2025 = ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]
MAKE_UP_2026 = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
_OFF = {d(x) for x in _OFF_WEEKDAYS}
_MAKE_UP = {d(x) for x in MAKE_UP_2025 + MAKE_UP_2026}


def oracle_is_working(day: date) -> bool:
    if day in _MAKE_UP:
        return True
    if day in _OFF:
        return False
    return day.weekday() < 5


def test_oracle_sanity() -> None:
    # The make-up days are all weekend days and no "off weekday" is a weekend day.
    assert all(x.weekday() >= 5 for x in _MAKE_UP)
    assert all(x.weekday() < 5 for x in _OFF)


def test_is_working_day_matches_hand_written_schedule_for_every_day_of_2025_and_2026(cn: WorkingCalendar) -> None:
    day = date(2025, 1, 1)
    mismatches = []
    while day <= date(2026, 12, 31):
        if cn.is_working_day(day) != oracle_is_working(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


@pytest.mark.parametrize("iso", MAKE_UP_2025 + MAKE_UP_2026)
def test_make_up_weekend_days_are_working_days(cn: WorkingCalendar, iso: str) -> None:
    assert d(iso).weekday() >= 5
    assert cn.is_working_day(d(iso))


@pytest.mark.parametrize(
    "iso",
    # Spring Festival 2026, 9 days off: Sun 15 .. Mon 23 Feb
    [f"2026-02-{n:02d}" for n in range(15, 24)]
    # National Day 2026: Thu 1 .. Wed 7 Oct
    + [f"2026-10-{n:02d}" for n in range(1, 8)]
    # Spring Festival 2025: Tue 28 Jan .. Tue 4 Feb
    + ["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04"]
    # National Day + Mid-Autumn 2025: Wed 1 .. Wed 8 Oct
    + [f"2025-10-{n:02d}" for n in range(1, 9)],
)
def test_holiday_weeks_are_off(cn: WorkingCalendar, iso: str) -> None:
    assert not cn.is_working_day(d(iso))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # ---- New Year 2026: Thu 1 + Fri 2 Jan off, Sun 4 Jan make-up -------------------
        ("2025-12-31", 1, "2026-01-04"),  # Wed -> (1 hol, 2 hol, 3 Sat) -> Sun 4 make-up
        ("2025-12-31", 2, "2026-01-05"),  # -> Mon 5
        ("2026-01-02", 1, "2026-01-04"),  # start on a holiday
        ("2026-01-03", 1, "2026-01-04"),  # start on a Saturday
        # ---- Spring Festival 2026: Sat 14 Feb make-up, Sun 15 .. Mon 23 off, Sat 28 make-up
        ("2026-02-12", 1, "2026-02-13"),  # Thu -> Fri 13
        ("2026-02-12", 2, "2026-02-14"),  # -> Sat 14 make-up
        ("2026-02-12", 3, "2026-02-24"),  # holder reply (3 wd) jumps the whole festival -> Tue 24
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-14", 1, "2026-02-24"),  # start on a make-up working day: start never counts
        ("2026-02-15", 1, "2026-02-24"),  # start inside the festival (Sunday)
        ("2026-02-17", 3, "2026-02-26"),  # Tue 24, Wed 25, Thu 26
        ("2026-02-24", 4, "2026-02-28"),  # Wed 25, Thu 26, Fri 27, Sat 28 make-up
        ("2026-02-24", 5, "2026-03-02"),  # ... Mon 2 Mar
        ("2026-02-27", 1, "2026-02-28"),
        ("2026-02-28", 1, "2026-03-02"),
        # 30 wd (determination) from Mon 2 Feb: 3,4,5,6,9,10,11,12,13,14(mk)=10, 24..28(mk)=15,
        # 2..6 Mar=20, 9..13=25, 16..20=30
        ("2026-02-02", 30, "2026-03-20"),
        # ---- Tomb-Sweeping 2026: Sat 4 .. Mon 6 Apr -----------------------------------
        ("2026-04-03", 1, "2026-04-07"),  # Fri -> Tue 7
        # ---- Labour Day 2026: Fri 1 .. Tue 5 May off, Sat 9 May make-up -----------------
        ("2026-04-30", 1, "2026-05-06"),  # Thu -> Wed 6
        ("2026-04-30", 4, "2026-05-09"),  # Wed 6, Thu 7, Fri 8, Sat 9 make-up
        ("2026-05-08", 1, "2026-05-09"),
        ("2026-05-08", 2, "2026-05-11"),  # -> Mon 11
        # ---- Dragon Boat 2026: Fri 19 Jun ---------------------------------------------
        ("2026-06-18", 1, "2026-06-22"),  # Thu -> Mon 22
        # ---- Mid-Autumn (Fri 25 Sep) + National Day (Thu 1 .. Wed 7 Oct) 2026 ---------
        ("2026-09-18", 1, "2026-09-20"),  # Fri -> Sun 20 make-up
        ("2026-09-19", 1, "2026-09-20"),  # Saturday start
        ("2026-09-20", 1, "2026-09-21"),
        ("2026-09-24", 1, "2026-09-28"),  # Thu -> (25 hol, 26, 27) -> Mon 28
        ("2026-09-30", 1, "2026-10-08"),  # Wed -> Thu 8
        ("2026-09-30", 3, "2026-10-10"),  # Thu 8, Fri 9, Sat 10 make-up
        ("2026-09-30", 4, "2026-10-12"),  # -> Mon 12
        ("2026-10-01", 1, "2026-10-08"),
        ("2026-10-04", 1, "2026-10-08"),  # Sunday start inside the holiday
        ("2026-10-09", 1, "2026-10-10"),
        # 20 wd (application release) from Tue 15 Sep: 16,17,18,20(mk)=4, 21..24=8, 28,29,30=11,
        # 8,9,10(mk)=14, 12..16=19, 19=20
        ("2026-09-15", 20, "2026-10-19"),
        # ---- 2025 ----------------------------------------------------------------------
        ("2024-12-31", 1, "2025-01-02"),  # Tue -> (1 Jan hol) -> Thu 2
        ("2025-01-24", 1, "2025-01-26"),  # Fri -> Sun 26 make-up
        ("2025-01-24", 2, "2025-01-27"),  # -> Mon 27
        ("2025-01-24", 3, "2025-02-05"),  # -> festival Tue 28 .. Tue 4 Feb -> Wed 5
        ("2025-01-27", 1, "2025-02-05"),
        ("2025-01-28", 1, "2025-02-05"),
        ("2025-02-05", 3, "2025-02-08"),  # Thu 6, Fri 7, Sat 8 make-up
        ("2025-02-07", 2, "2025-02-10"),  # Sat 8 make-up, Mon 10
        ("2025-04-03", 1, "2025-04-07"),  # Thu -> (Fri 4 hol, 5, 6) -> Mon 7
        ("2025-04-25", 1, "2025-04-27"),  # Fri -> Sun 27 make-up
        ("2025-04-29", 2, "2025-05-06"),  # Wed 30, (1 .. 5 May off) Tue 6
        ("2025-05-30", 1, "2025-06-03"),  # Fri -> (31 Sat, 1 Sun, 2 Mon hol) -> Tue 3
        ("2025-09-26", 1, "2025-09-28"),  # Fri -> Sun 28 make-up
        ("2025-09-30", 1, "2025-10-09"),  # Tue -> (1 .. 8 Oct off) -> Thu 9
        ("2025-09-30", 3, "2025-10-11"),  # Thu 9, Fri 10, Sat 11 make-up
        ("2025-09-30", 4, "2025-10-13"),  # -> Mon 13
        ("2025-10-10", 1, "2025-10-11"),
        # ---- Ordinary weeks ------------------------------------------------------------
        ("2026-11-20", 1, "2026-11-23"),  # Fri -> Mon
        ("2026-11-20", 5, "2026-11-27"),
        ("2026-11-21", 1, "2026-11-23"),  # Saturday start
        ("2026-11-22", 1, "2026-11-23"),  # Sunday start
        ("2026-11-23", 1, "2026-11-24"),  # Monday start does not count itself
    ],
)
def test_add_working_days_table(cn: WorkingCalendar, start: str, n: int, expected: str) -> None:
    assert cn.add_working_days(d(start), n) == d(expected)


def test_start_day_never_counts_even_when_it_is_a_working_day(cn: WorkingCalendar) -> None:
    monday = date(2026, 11, 23)
    assert cn.is_working_day(monday)
    assert cn.add_working_days(monday, 1) == date(2026, 11, 24)


@pytest.mark.parametrize("bad", [0, -1, -30])
def test_working_days_below_one_is_refused(cn: WorkingCalendar, bad: int) -> None:
    with pytest.raises(ValueError):
        cn.add_working_days(date(2026, 11, 20), bad)


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        # Midnight at the end of the day in Shanghai (UTC+8, no DST) = 16:00 UTC the same day.
        ("2026-11-20", datetime(2026, 11, 20, 16, 0, tzinfo=UTC)),
        ("2026-02-24", datetime(2026, 2, 24, 16, 0, tzinfo=UTC)),
        ("2026-12-31", datetime(2026, 12, 31, 16, 0, tzinfo=UTC)),
        ("2025-06-30", datetime(2025, 6, 30, 16, 0, tzinfo=UTC)),  # summer: still +8
    ],
)
def test_end_of_day_is_shanghai_midnight_as_utc_instant(cn: WorkingCalendar, day: str, expected_utc: datetime) -> None:
    got = cn.end_of_day(d(day))
    assert got == expected_utc
    assert got.utcoffset() == timedelta(0)
    assert got.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None) == datetime.combine(
        d(day) + timedelta(days=1), datetime.min.time()
    )


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 20, 15, 59, 59, tzinfo=UTC), "2026-11-20"),  # 23:59:59 in Shanghai
        (datetime(2026, 11, 20, 16, 0, 0, tzinfo=UTC), "2026-11-21"),  # 00:00 next day in Shanghai
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "2027-01-01"),  # year boundary
        (datetime(2026, 11, 20, 0, 30, tzinfo=UTC), "2026-11-20"),
        # 20:00 on the 19th in New York (EST, UTC-5) = 01:00 UTC 20th = 09:00 on the 20th in Shanghai
        (datetime(2026, 11, 19, 20, 0, tzinfo=ZoneInfo("America/New_York")), "2026-11-20"),
        (datetime(2026, 11, 21, 0, 30, tzinfo=timezone(timedelta(hours=8))), "2026-11-21"),
    ],
)
def test_local_date_crosses_the_utc_shanghai_date_line(cn: WorkingCalendar, instant: datetime, expected: str) -> None:
    assert cn.local_date(instant) == d(expected)


def test_deadline_end_of_day_round_trips_through_local_date(cn: WorkingCalendar) -> None:
    deadline_day = cn.add_working_days(date(2026, 2, 12), 3)
    end = cn.end_of_day(deadline_day)
    assert cn.local_date(end - timedelta(microseconds=1)) == deadline_day
    assert cn.local_date(end) == deadline_day + timedelta(days=1)


def test_calendar_metadata(cn: WorkingCalendar) -> None:
    assert cn.jurisdiction == "CN"
    assert cn.timezone == "Asia/Shanghai"
    assert cn.weekend == frozenset({5, 6})
    assert calendar_for("cn") == calendar_for("CN")


@pytest.mark.parametrize(
    ("day", "provisional"),
    [("2025-03-01", False), ("2026-12-31", False), ("2027-05-01", True), ("2024-12-31", True), ("2028-01-03", True)],
)
def test_is_provisional(cn: WorkingCalendar, day: str, provisional: bool) -> None:
    assert cn.is_provisional(d(day)) is provisional


def test_unknown_jurisdiction_has_no_calendar() -> None:
    with pytest.raises(KeyError):
        calendar_for("ZZ")


# --- Properties -------------------------------------------------------------------------
_starts = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 8, 31))
_counts = st.integers(min_value=1, max_value=40)


@settings(max_examples=300, deadline=None)
@given(start=_starts, n=st.integers(min_value=1, max_value=80))
def test_property_result_is_a_working_day_strictly_after_start(start: date, n: int) -> None:
    cn = calendar_for("CN")
    result = cn.add_working_days(start, n)
    assert result > start
    assert cn.is_working_day(result)
    # Cross-check with the hand-written oracle (results stay inside 2025/2026 for these inputs).
    assert result.year <= 2026
    assert oracle_is_working(result)
    working_between = sum(
        1 for k in range(1, (result - start).days + 1) if oracle_is_working(start + timedelta(days=k))
    )
    assert working_between == n


@settings(max_examples=300, deadline=None)
@given(start=_starts, a=_counts, b=_counts)
def test_property_additive(start: date, a: int, b: int) -> None:
    cn = calendar_for("CN")
    assert cn.add_working_days(start, a + b) == cn.add_working_days(cn.add_working_days(start, a), b)
