"""The readings store: idempotent batched writes, rollups, series, latest, retention (R-5.1-fusion)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from zhili.iot import hooks, store
from zhili.iot.tests.factories import make_device

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.req("R-5.1-fusion")]
T0 = int(datetime(2026, 3, 1, 0, 0, tzinfo=UTC).timestamp() * 1000)  # 08:00 in Beijing


def rollup_counts():
    with connection.cursor() as c:
        c.execute("SELECT period, sum(count), sum(total) FROM iot_rollup GROUP BY period ORDER BY period")
        return c.fetchall()


def test_write_dedup_and_rollups_count_each_reading_once():
    d = make_device()
    rows = [(d.pk, "pm25", T0 + i * 60_000, float(i)) for i in range(180)]  # 3 hours, one a minute
    assert store.write_readings(rows) == 180
    # The same rows again, and repeated inside one batch, add nothing.
    assert store.write_readings(rows + rows[:10]) == 0
    assert store.write_readings([(d.pk, "pm25", T0 + 180 * 60_000, 1.0)] * 3) == 1
    assert store.count_readings([d.pk]) == 181
    total = sum(range(180)) + 1.0
    assert rollup_counts() == [(3600, 181, total), (86400, 181, total)]
    hourly = store.series([d.pk], ["pm25"], T0, T0 + 4 * 3_600_000, "hour")[(d.pk, "pm25")]
    assert [p.count for p in hourly] == [60, 60, 60, 1]
    assert hourly[0].value == pytest.approx(29.5) and hourly[0].minimum == 0 and hourly[0].maximum == 59


def test_daily_rollups_follow_local_days():
    d = make_device()
    # 15:59 and 16:00 UTC are 23:59 and 00:00 in Beijing: two local days.
    a = T0 + 15 * 3_600_000 + 59 * 60_000
    store.write_readings([(d.pk, "pm10", a, 10.0), (d.pk, "pm10", a + 60_000, 30.0)])
    days = store.series([d.pk], ["pm10"], T0 - 86_400_000, T0 + 2 * 86_400_000, "day")[(d.pk, "pm10")]
    assert [(p.count, p.value) for p in days] == [(1, 10.0), (1, 30.0)]
    local_midnight = datetime(2026, 3, 2, 0, 0, tzinfo=UTC) - timedelta(hours=8)
    assert days[1].time == local_midnight


def test_series_raw_and_latest_and_datetimes():
    d1, d2 = make_device(), make_device()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    store.write_readings([(d1.pk, "pm25", start + timedelta(minutes=m), 10.0 + m) for m in range(5)])
    store.write_readings([(d2.pk, "no2", start, 40.0)])
    raw = store.series([d1.pk, d2.pk], ["pm25", "no2"], start, start + timedelta(minutes=3))
    assert [p.value for p in raw[(d1.pk, "pm25")]] == [10.0, 11.0, 12.0]
    assert raw[(d2.pk, "no2")][0].time == start
    latest = store.latest()
    assert latest[(d1.pk, "pm25")].value == 14.0 and latest[(d2.pk, "no2")].value == 40.0
    # An older reading arriving late does not replace the latest value.
    store.write_readings([(d1.pk, "pm25", start - timedelta(hours=1), 99.0)])
    assert store.latest([d1.pk], ["pm25"])[(d1.pk, "pm25")].value == 14.0
    assert store.latest([d2.pk], "pm25") == {}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((0, "nope", T0, 1.0), "unknown_metric"),
        ((0, "pm25", T0, -1.0), "out_of_range"),
        ((0, "pm25", T0, 1001.0), "out_of_range"),
        ((0, "pm25", T0, float("nan")), "malformed"),
        ((0, "pm25", T0, "12"), "malformed"),
    ],
)
def test_invalid_rows_store_nothing(row, reason):
    d = make_device()
    row = (d.pk, *row[1:])
    with pytest.raises(ValueError, match=reason):
        store.write_readings([(d.pk, "pm25", T0 + 1, 5.0), row])
    assert store.count_readings([d.pk]) == 0


def test_listeners_get_only_new_rows_after_commit():
    d = make_device()
    seen = []
    hooks.register_reading_listener(seen.append)
    try:
        store.write_readings([(d.pk, "pm25", T0, 1.0), (d.pk, "pm10", T0, 2.0)])
        store.write_readings([(d.pk, "pm25", T0, 1.0), (d.pk, "pm25", T0 + 1000, 3.0)])
    finally:
        hooks.unregister_reading_listener(seen.append)
    assert [sorted((r.metric_code, r.ts, r.value) for r in batch) for batch in seen] == [
        [("pm10", T0, 2.0), ("pm25", T0, 1.0)],
        [("pm25", T0 + 1000, 3.0)],
    ]


def test_retention_keeps_rollups_after_raw_rows_expire(settings):
    d = make_device()
    now = datetime(2026, 3, 1, tzinfo=UTC)
    old = now - timedelta(days=500)
    store.write_readings([(d.pk, "pm25", old, 50.0), (d.pk, "pm25", now - timedelta(days=1), 20.0)])
    deleted = store.apply_retention(now)
    assert deleted["raw"] == 1 and deleted["hour"] == 0
    assert store.count_readings([d.pk]) == 1
    daily = store.series([d.pk], ["pm25"], old - timedelta(days=1), now, "day")[(d.pk, "pm25")]
    assert [p.value for p in daily] == [50.0, 20.0]
