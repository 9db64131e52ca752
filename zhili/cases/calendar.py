"""Feeds the admin-edited ``CalendarDay`` rows (holidays, make-up working days) to core.workdays."""

from django.db.models.signals import post_delete, post_save

from zhili.core import workdays


def calendar_source(first, last) -> dict:
    from django.db import DatabaseError

    from zhili.cases.models import CalendarDay

    try:
        rows = CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "is_working_day")
        return dict(rows)
    except DatabaseError:  # table not migrated yet (first start)
        return {}


def _changed(sender, **kwargs):
    workdays.clear_cache()


def connect():
    from zhili.cases.models import CalendarDay

    workdays.add_source(calendar_source)
    post_save.connect(_changed, sender=CalendarDay, dispatch_uid="cases_calendar_saved")
    post_delete.connect(_changed, sender=CalendarDay, dispatch_uid="cases_calendar_deleted")
