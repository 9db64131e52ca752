"""The working-day calendar: weekends, public holidays and make-up working days (调休).

China's State Council publishes each year's holidays and the weekend days that become working
days in exchange. Those are data, not code: an app registers a *calendar source* returning the
exceptions for a date range (the cases app stores them as admin-editable ``CalendarDay`` rows);
``ZHILI["WORKDAYS"]`` gives the weekly rest days and office hours. Deadlines of the case SLA
(and later of inspections) are computed here so every module counts working time the same way.

    add_working_days(start, 5)      # same clock time five working days later
    add_working_hours(start, 4)     # four office hours later (skipping nights, rest days)
"""

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.utils import timezone

_sources = []

#: Defaults; override with ``ZHILI["WORKDAYS"]``.
DEFAULTS = {
    "WEEKEND": (5, 6),  # Saturday, Sunday (datetime.weekday())
    "OFFICE_START": "08:30",
    "OFFICE_END": "17:30",
}


def add_source(source) -> None:
    """Register ``source(first: date, last: date) -> dict[date, bool]`` (True = working day).

    Entries override the weekly rule: a holiday on a weekday is ``False``, a make-up working
    Saturday is ``True``. Sources are asked in registration order; later ones win.
    """
    if source not in _sources:
        _sources.append(source)
    clear_cache()


def clear_cache() -> None:
    _exceptions_for_year.cache_clear()


def config() -> dict:
    return {**DEFAULTS, **getattr(settings, "ZHILI", {}).get("WORKDAYS", {})}


def _parse_time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


@lru_cache(maxsize=16)
def _exceptions_for_year(year: int) -> dict:
    result = {}
    for source in _sources:
        result.update(source(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    return result


def is_working_day(day: dt.date) -> bool:
    """Return True if ``day`` is a working day (weekly rule corrected by the calendar data)."""
    exceptions = _exceptions_for_year(day.year)
    if day in exceptions:
        return bool(exceptions[day])
    return day.weekday() not in tuple(config()["WEEKEND"])


def next_working_day(day: dt.date) -> dt.date:
    """Return the first working day strictly after ``day``."""
    day += dt.timedelta(days=1)
    for _ in range(366):
        if is_working_day(day):
            return day
        day += dt.timedelta(days=1)
    raise ValueError("no working day within a year")  # pragma: no cover - broken calendar data


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Return the same local clock time ``days`` working days after ``start``.

    A start outside a working day counts from the next working day's office start.
    """
    local = timezone.localtime(start)
    day = local.date()
    clock = local.timetz().replace(tzinfo=None)
    if not is_working_day(day):
        day = next_working_day(day)
        clock = _parse_time(config()["OFFICE_START"])
    for _ in range(days):
        day = next_working_day(day)
    return timezone.make_aware(dt.datetime.combine(day, clock), local.tzinfo)


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """Return the moment ``hours`` office hours after ``start`` (nights and rest days skipped)."""
    cfg = config()
    office_start, office_end = _parse_time(cfg["OFFICE_START"]), _parse_time(cfg["OFFICE_END"])
    local = timezone.localtime(start)
    tz = local.tzinfo
    remaining = dt.timedelta(hours=hours)
    day = local.date()
    cursor = local
    for _ in range(3660):
        day_start = timezone.make_aware(dt.datetime.combine(day, office_start), tz)
        day_end = timezone.make_aware(dt.datetime.combine(day, office_end), tz)
        if is_working_day(day) and cursor < day_end:
            cursor = max(cursor, day_start)
            available = day_end - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
        day = next_working_day(day)
        cursor = timezone.make_aware(dt.datetime.combine(day, office_start), tz)
    raise ValueError("deadline more than ten years away")  # pragma: no cover


def working_days_between(first: dt.date, last: dt.date) -> int:
    """Return the number of working days in ``first``..``last`` inclusive."""
    count = 0
    day = first
    while day <= last:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count
