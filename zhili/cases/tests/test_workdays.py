"""The working-day calendar (core.workdays) with holidays and make-up days as admin data."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from zhili.cases.models import CalendarDay
from zhili.core import workdays

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-6-cases")]
SH = ZoneInfo("Asia/Shanghai")


def test_weekends_holidays_and_make_up_days():
    friday = dt.datetime(2026, 9, 25, 10, 0, tzinfo=SH)
    assert workdays.add_working_days(friday, 1) == dt.datetime(2026, 9, 28, 10, 0, tzinfo=SH)
    # National Day week 2026: 1–7 October off, Sunday 27 September and Saturday 10 October worked
    for day in range(1, 8):
        CalendarDay.objects.create(date=dt.date(2026, 10, day), name="国庆节")
    CalendarDay.objects.create(date=dt.date(2026, 9, 27), name="调休上班", is_working_day=True)
    CalendarDay.objects.create(date=dt.date(2026, 10, 10), name="调休上班", is_working_day=True)
    assert workdays.is_working_day(dt.date(2026, 9, 27)) and not workdays.is_working_day(dt.date(2026, 10, 2))
    assert workdays.add_working_days(friday, 1) == dt.datetime(2026, 9, 27, 10, 0, tzinfo=SH)
    wednesday = dt.datetime(2026, 9, 30, 16, 0, tzinfo=SH)
    assert workdays.add_working_days(wednesday, 1) == dt.datetime(2026, 10, 8, 16, 0, tzinfo=SH)
    assert workdays.add_working_days(wednesday, 3) == dt.datetime(2026, 10, 10, 16, 0, tzinfo=SH)
    assert workdays.working_days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 11)) == 3
    CalendarDay.objects.filter(date=dt.date(2026, 10, 10)).delete()  # the cache follows edits
    assert not workdays.is_working_day(dt.date(2026, 10, 10))


def test_office_hours():
    monday_4pm = dt.datetime(2026, 11, 23, 16, 0, tzinfo=SH)
    # 1.5 h left on Monday (until 17:30), then 0.5 h from 08:30 Tuesday
    assert workdays.add_working_hours(monday_4pm, 2) == dt.datetime(2026, 11, 24, 9, 0, tzinfo=SH)
    saturday = dt.datetime(2026, 11, 28, 11, 0, tzinfo=SH)
    assert workdays.add_working_hours(saturday, 1) == dt.datetime(2026, 11, 30, 9, 30, tzinfo=SH)
    early = dt.datetime(2026, 11, 24, 6, 0, tzinfo=SH)
    assert workdays.add_working_hours(early, 9) == dt.datetime(2026, 11, 24, 17, 30, tzinfo=SH)
    assert workdays.add_working_days(saturday, 1) == dt.datetime(2026, 12, 1, 8, 30, tzinfo=SH)
