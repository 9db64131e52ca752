"""Background job: keep the daily AQI of yesterday and today current (hourly)."""

import datetime as dt

from django.utils import timezone


def recompute_recent_days():
    from zhili.environment.analytics import compute_daily_aqi

    today = timezone.localdate()
    return compute_daily_aqi(today - dt.timedelta(days=1), today)
