"""Working-day calendars per jurisdiction and the deadline arithmetic of the legal process.

A time limit of N working days runs from the day after service (CN Measures: "time
limits run from the day after service") and ends at the end of the N-th working day in
the jurisdiction's own time zone. Weekends are non-working unless the State Council
moved a working day onto them ("adjusted working days"); public holidays are
non-working. Data lives in ``calendars/<code>.json`` beside this module; a jurisdiction's
rule pack names the calendar it counts in.

Each year of a calendar is ``official`` (the published schedule) or ``provisional`` (the
statutory holidays only, before the schedule with its bridge and make-up days is published).
A time limit that counts any day after the last day of the official years is *provisional*:
it is computed on the provisional data (or, past every year the file covers, on weekends
alone) and flagged, and running cases re-time it when the schedule is published
(``python -m services.cases.calendars``). Every calendar file carries a ``version``.

Pure and deterministic: the case workflow calls it directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CALENDARS = Path(__file__).with_name("calendars")


@dataclass(frozen=True)
class WorkingCalendar:
    jurisdiction: str
    timezone: str
    weekend: frozenset[int]
    holidays: frozenset[date]
    adjusted_working_days: frozenset[date]
    covered_years: frozenset[int] = field(default_factory=frozenset)
    provisional_years: frozenset[int] = field(default_factory=frozenset)
    version: str | None = None

    def is_working_day(self, day: date) -> bool:
        if day in self.adjusted_working_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend

    def add_working_days(self, start: date, working_days: int) -> date:
        """The ``working_days``-th working day after ``start`` (``start`` itself never counts)."""
        if working_days < 1:
            raise ValueError("working_days must be at least 1")
        day, counted = start, 0
        while counted < working_days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day before ``day``."""
        day -= timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def working_days_left(self, today: date, due: date) -> int:
        """Working days an officer has left on ``today`` before a time limit ending on ``due`` runs out.

        The working days after ``today`` up to and including ``due``: ``n`` on the day a limit of ``n``
        working days starts to run, 0 on its last day (it ends at the end of that day), and minus the
        working days passed since ``due`` once it has run out.
        """
        if today == due:
            return 0
        step = 1 if due > today else -1
        first, last = (today, due) if step == 1 else (due, today)
        counted, day = 0, first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return counted * step

    def local_date(self, instant: datetime) -> date:
        """The calendar date of ``instant`` in the jurisdiction's time zone."""
        return instant.astimezone(ZoneInfo(self.timezone)).date()

    def end_of_day(self, day: date) -> datetime:
        """Midnight at the end of ``day`` in the jurisdiction's time zone, as a UTC instant."""
        local_midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo(self.timezone))
        return local_midnight.astimezone(UTC)

    def is_provisional(self, day: date) -> bool:
        return day.year in self.provisional_years or day.year not in self.covered_years

    @property
    def official_through(self) -> date | None:
        """The last day an official schedule covers (end of the last official year), if any."""
        official = sorted(self.covered_years - self.provisional_years)
        return date(official[-1], 12, 31) if official else None

    def is_provisional_span(self, first: date, last: date) -> bool:
        """True if counting from ``first`` to ``last`` touches a day no official schedule covers."""
        return any(self.is_provisional(date(year, 1, 1)) for year in range(first.year, last.year + 1))


def calendar_data(code: str) -> dict[str, Any]:
    """The raw data of calendar ``code`` (a calendar name such as ``cn``, or a jurisdiction such as ``EU``)."""
    path = CALENDARS / f"{code.lower()}.json"
    if not path.exists():
        from shared.rules.pack import rule_pack  # a jurisdiction: use the calendar its rule pack names

        try:
            path = CALENDARS / f"{rule_pack(code).calendar}.json"
        except KeyError:
            raise KeyError(f"no working-day calendar {code!r}") from None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def calendar_from_data(raw: dict[str, Any]) -> WorkingCalendar:
    """Build a calendar from its data (also used by the case workflow on its recorded snapshot)."""
    holidays: set[date] = set()
    adjusted: set[date] = set()
    provisional: set[int] = set()
    for year, spec in raw["years"].items():
        holidays.update(date.fromisoformat(h["date"]) for h in spec["holidays"])
        adjusted.update(date.fromisoformat(d) for d in spec["adjusted_working_days"])
        if spec.get("status") != "official":
            provisional.add(int(year))
    return WorkingCalendar(
        jurisdiction=raw["calendar"].upper(),
        timezone=raw["timezone"],
        weekend=frozenset(raw["weekend"]),
        holidays=frozenset(holidays),
        adjusted_working_days=frozenset(adjusted),
        covered_years=frozenset(int(y) for y in raw["years"]),
        provisional_years=frozenset(provisional),
        version=raw.get("version"),
    )


@cache
def calendar_for(code: str) -> WorkingCalendar:
    """Load (once) the working-day calendar ``code`` or that of jurisdiction ``code``."""
    return calendar_from_data(calendar_data(code))


def working_days_left(jurisdiction: str, due_at: datetime, now: datetime) -> int:
    """Working days left at ``now`` before the time limit ending at ``due_at``, in ``jurisdiction``'s calendar.

    The one answer to "how much time is left" that every page and list shows (see
    :meth:`WorkingCalendar.working_days_left`); both instants are read as dates in the
    jurisdiction's time zone.
    """
    cal = calendar_for(jurisdiction)
    return cal.working_days_left(cal.local_date(now), cal.local_date(due_at - timedelta(microseconds=1)))
