"""The readings store: one narrow time-series table for every device of every app (R-5.1-fusion).

Write with ``write_readings(rows)``; read with ``series``, ``latest`` and the helpers below.
Rows are ``(device_id, metric_code, ts, value)`` with ``device_id`` the ``Device`` primary key,
``ts`` an aware ``datetime`` or Unix milliseconds (UTC), and ``value`` a float.

Hot path: the rows go into a temporary staging table in one batched statement
(``executemany`` on SQLite, binary ``COPY`` on PostgreSQL); duplicates of stored readings are
removed there, the rest are inserted in one ``INSERT … SELECT`` and the hourly and daily rollups
and the latest values are upserted from the same new rows, all in the caller's transaction. So
the same reading (device, metric, ts) is stored once however often it arrives, and the
aggregates count it once. The ORM's ``bulk_create`` is several times slower and is not used.
"""

import math
import threading
import time
from collections import namedtuple
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
PERIODS = {"hour": 3600, "day": 86400}

Row = namedtuple("Row", "device_id metric_code ts value")


class Point(namedtuple("Point", "ts value minimum maximum count")):
    """One point of a series: ``ts`` Unix ms (bucket start for rollups); ``value`` the reading or
    the bucket mean; ``minimum``/``maximum``/``count`` of the bucket (raw: the value, 1)."""

    __slots__ = ()

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.ts / 1000, tz=UTC)


def iot_setting(name: str, default):
    return getattr(settings, "ZHILI", {}).get(name, default)


def day_offset_ms() -> int:
    """Offset of local days from UTC days in ms (China: +8 h, no daylight saving)."""
    return int(iot_setting("IOT_DAY_OFFSET_HOURS", 8) * HOUR_MS)


def to_ms(ts) -> int:
    """Return Unix milliseconds for an aware datetime or a number of milliseconds."""
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            raise ValueError("naive datetime")
        return int(ts.timestamp() * 1000)
    if isinstance(ts, bool):
        raise ValueError("bad timestamp")
    return int(ts)


def now_ms() -> int:
    return int(time.time() * 1000)


class MetricCache:
    """Metric code → (id, min, max), refreshed after a metric changes or every minute."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_code = None
        self._by_id = None
        self._loaded = 0.0

    def invalidate(self, *args, **kwargs):
        self._by_code = None

    def _load(self):
        from zhili.iot.models import Metric

        by_code = {}
        for m in Metric.objects.values_list("id", "code", "min_value", "max_value"):
            by_code[m[1]] = (m[0], m[2], m[3])
        with self._lock:
            self._by_code = by_code
            self._by_id = {v[0]: k for k, v in by_code.items()}
            self._loaded = time.monotonic()

    def by_code(self) -> dict:
        if self._by_code is None or time.monotonic() - self._loaded > 60:
            self._load()
        return self._by_code

    def code_of(self, metric_id: int) -> str | None:
        self.by_code()
        code = self._by_id.get(metric_id)
        if code is None:
            self._load()
            code = self._by_id.get(metric_id)
        return code


metrics = MetricCache()


def _connect_signals():
    from zhili.iot.models import Metric

    post_save.connect(metrics.invalidate, sender=Metric, dispatch_uid="iot_metric_cache_save")
    post_delete.connect(metrics.invalidate, sender=Metric, dispatch_uid="iot_metric_cache_delete")


def validate_row(row, by_code) -> str | None:
    """Return why ``row`` is not a valid reading, or None."""
    meta = by_code.get(row[1])
    if meta is None:
        return "unknown_metric"
    value = row[3]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "malformed"
    if (meta[1] is not None and value < meta[1]) or (meta[2] is not None and value > meta[2]):
        return "out_of_range"
    return None


def write_readings(rows, *, validate: bool = True, notify: bool = True) -> int:
    """Store readings and return how many were new.

    ``rows`` are ``(device_id, metric_code, ts, value)``. With ``validate`` (the default), a row
    with an unknown metric, a non-finite value or a value outside the metric's valid range
    raises ``ValueError`` and nothing is stored. Duplicates (already stored, or repeated in
    ``rows``) are skipped. Runs in the caller's transaction if there is one; reading listeners
    (``zhili.iot.hooks``) run after the commit with the new rows only.
    """
    by_code = metrics.by_code()
    if validate:
        for row in rows:
            reason = validate_row(row, by_code)
            if reason:
                raise ValueError(f"invalid reading {tuple(row)!r}: {reason}")
    tuples = [
        (int(d), by_code[m][0], ts if type(ts) is int else to_ms(ts), float(v))  # noqa: E721 (exact type: fast path)
        for d, m, ts, v in rows
    ]
    if not tuples:
        return 0
    with transaction.atomic():
        new_rows = _insert(tuples)
        if notify and new_rows:
            codes = {meta[0]: code for code, meta in by_code.items()}
            batch = [Row(d, codes[m], ts, v) for d, m, ts, v in new_rows]
            from zhili.iot import hooks

            transaction.on_commit(lambda: hooks.dispatch(batch))
    return len(new_rows)


def _insert(tuples: list[tuple]) -> list[tuple]:
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        return _insert_postgresql(tuples)
    return _insert_sqlite(tuples)


def _rollup_sql(source: str, period_s: int, bucket_expr: str, placeholder: str) -> str:
    return (
        "INSERT INTO iot_rollup (device_id, metric_id, period, bucket, count, total, minimum, maximum) "
        f"SELECT device_id, metric_id, {period_s}, {bucket_expr}, count(*), sum(value), min(value), max(value) "
        f"FROM {source} WHERE true GROUP BY device_id, metric_id, {bucket_expr} "
        "ON CONFLICT (device_id, metric_id, period, bucket) DO UPDATE SET "
        "count = iot_rollup.count + excluded.count, total = iot_rollup.total + excluded.total, "
        f"minimum = {placeholder}(iot_rollup.minimum, excluded.minimum), "
        f"maximum = {placeholder.replace('LEAST', 'GREATEST').replace('min', 'max')}(iot_rollup.maximum, excluded.maximum)"
    )


def _buckets(offset: int) -> tuple[str, str]:
    hour = f"(ts - ts % {HOUR_MS})"
    day = f"(((ts + {offset}) / {DAY_MS}) * {DAY_MS} - {offset})"
    return hour, day


def _insert_sqlite(tuples):
    raw = connection.connection
    hour, day = _buckets(day_offset_ms())
    raw.execute(
        "CREATE TEMP TABLE IF NOT EXISTS iot_stage (device_id INTEGER NOT NULL, metric_id INTEGER NOT NULL, "
        "ts INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (device_id, metric_id, ts)) WITHOUT ROWID"
    )
    raw.execute("DELETE FROM iot_stage")
    raw.executemany("INSERT OR IGNORE INTO iot_stage VALUES (?, ?, ?, ?)", tuples)
    raw.execute(
        "DELETE FROM iot_stage WHERE EXISTS (SELECT 1 FROM iot_reading r WHERE r.device_id = iot_stage.device_id "
        "AND r.metric_id = iot_stage.metric_id AND r.ts = iot_stage.ts)"
    )
    inserted = raw.execute(
        "INSERT INTO iot_reading (device_id, metric_id, ts, value) SELECT device_id, metric_id, ts, value FROM iot_stage"
    ).rowcount
    raw.execute(_rollup_sql("iot_stage", 3600, hour, "min"))
    raw.execute(_rollup_sql("iot_stage", 86400, day, "min"))
    raw.execute(
        "INSERT INTO iot_latest (device_id, metric_id, ts, value) "
        "SELECT device_id, metric_id, max(ts), value FROM iot_stage WHERE true GROUP BY device_id, metric_id "
        "ON CONFLICT (device_id, metric_id) DO UPDATE SET ts = excluded.ts, value = excluded.value "
        "WHERE excluded.ts >= iot_latest.ts"
    )
    # Every row new (the common case): no need to read them back.
    new_rows = (
        tuples
        if inserted == len(tuples)
        else raw.execute("SELECT device_id, metric_id, ts, value FROM iot_stage").fetchall()
    )
    raw.execute("DELETE FROM iot_stage")
    return new_rows


def _insert_postgresql(tuples):
    hour, day = _buckets(day_offset_ms())
    with connection.cursor() as cursor:
        pg = cursor.cursor
        pg.execute(
            "CREATE TEMP TABLE IF NOT EXISTS iot_stage (device_id bigint NOT NULL, metric_id bigint NOT NULL, "
            "ts bigint NOT NULL, value double precision NOT NULL) ON COMMIT DELETE ROWS"
        )
        pg.execute("DELETE FROM iot_stage")  # empty unless called twice in one transaction
        with pg.copy("COPY iot_stage (device_id, metric_id, ts, value) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int8", "int8", "float8"])
            for t in tuples:
                copy.write_row(t)
        pg.execute(
            "WITH ins AS (INSERT INTO iot_reading (device_id, metric_id, ts, value) "
            "SELECT DISTINCT ON (device_id, metric_id, ts) device_id, metric_id, ts, value FROM iot_stage "
            "ON CONFLICT DO NOTHING RETURNING device_id, metric_id, ts, value), "
            f"h AS ({_rollup_sql('ins', 3600, hour, 'LEAST')}), "
            f"d AS ({_rollup_sql('ins', 86400, day, 'LEAST')}), "
            "l AS (INSERT INTO iot_latest (device_id, metric_id, ts, value) "
            "SELECT DISTINCT ON (device_id, metric_id) device_id, metric_id, ts, value FROM ins "
            "ORDER BY device_id, metric_id, ts DESC "
            "ON CONFLICT (device_id, metric_id) DO UPDATE SET ts = excluded.ts, value = excluded.value "
            "WHERE excluded.ts >= iot_latest.ts) "
            "SELECT device_id, metric_id, ts, value FROM ins"
        )
        return pg.fetchall()


def _metric_ids(metric_codes) -> dict[int, str]:
    by_code = metrics.by_code()
    if metric_codes is None:
        return {v[0]: k for k, v in by_code.items()}
    if isinstance(metric_codes, str):
        metric_codes = [metric_codes]
    return {by_code[c][0]: c for c in metric_codes if c in by_code}


def _in(name: str, values) -> tuple[str, list]:
    values = list(values)
    return f"{name} IN ({', '.join(['%s'] * len(values))})", values


def series(device_ids, metric_codes, start, end, resolution: str = "raw") -> dict:
    """Return ``{(device_id, metric_code): [Point, ...]}`` for ``start <= ts < end``, ascending.

    ``resolution`` is ``raw`` (stored readings), ``hour`` or ``day`` (local days; the mean,
    min, max and count of each bucket from the rollups).
    """
    if isinstance(device_ids, int):
        device_ids = [device_ids]
    device_ids = [int(d) for d in device_ids]
    ids = _metric_ids(metric_codes)
    if not device_ids or not ids:
        return {}
    start_ms, end_ms = to_ms(start), to_ms(end)
    dev_sql, dev_params = _in("device_id", device_ids)
    met_sql, met_params = _in("metric_id", ids)
    if resolution == "raw":
        sql = (
            f"SELECT device_id, metric_id, ts, value, value, value, 1 FROM iot_reading WHERE {dev_sql} AND {met_sql} "
            "AND ts >= %s AND ts < %s ORDER BY device_id, metric_id, ts"
        )
        params = [*dev_params, *met_params, start_ms, end_ms]
    elif resolution in PERIODS:
        sql = (
            f"SELECT device_id, metric_id, bucket, total / count, minimum, maximum, count FROM iot_rollup "
            f"WHERE {dev_sql} AND {met_sql} AND period = %s AND bucket >= %s AND bucket < %s "
            "ORDER BY device_id, metric_id, bucket"
        )
        params = [*dev_params, *met_params, PERIODS[resolution], start_ms, end_ms]
    else:
        raise ValueError(f"unknown resolution {resolution!r}")
    result: dict = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for d, m, ts, value, lo, hi, n in cursor.fetchall():
            result.setdefault((d, ids[m]), []).append(Point(ts, value, lo, hi, n))
    return result


def latest(device_ids=None, metric_codes=None) -> dict:
    """Return ``{(device_id, metric_code): Point}`` with the newest value of each pair."""
    ids = _metric_ids(metric_codes)
    if not ids:
        return {}
    where, params = [], []
    if device_ids is not None:
        device_ids = [int(d) for d in ([device_ids] if isinstance(device_ids, int) else device_ids)]
        if not device_ids:
            return {}
        sql, p = _in("device_id", device_ids)
        where.append(sql)
        params += p
    if metric_codes is not None:
        sql, p = _in("metric_id", ids)
        where.append(sql)
        params += p
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    result = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT device_id, metric_id, ts, value FROM iot_latest {clause}", params)
        for d, m, ts, value in cursor.fetchall():
            if m in ids:
                result[(d, ids[m])] = Point(ts, value, value, value, 1)
    return result


def series_raw(device_id: int, metric_id: int, start_ms: int, end_ms: int) -> list[tuple[int, float]]:
    """Return ``[(ts, value)]`` of one device and metric with ``start_ms <= ts <= end_ms``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ts, value FROM iot_reading WHERE device_id = %s AND metric_id = %s AND ts >= %s AND ts <= %s "
            "ORDER BY ts",
            [device_id, metric_id, start_ms, end_ms],
        )
        return cursor.fetchall()


def value_before(device_id: int, metric_id: int, ts_ms: int) -> tuple[int, float] | None:
    """Return the newest ``(ts, value)`` strictly before ``ts_ms``, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ts, value FROM iot_reading WHERE device_id = %s AND metric_id = %s AND ts < %s "
            "ORDER BY ts DESC LIMIT 1",
            [device_id, metric_id, ts_ms],
        )
        row = cursor.fetchone()
    return tuple(row) if row else None


def latest_ts(device_id: int, metric_id: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ts FROM iot_latest WHERE device_id = %s AND metric_id = %s", [device_id, metric_id]
        )
        row = cursor.fetchone()
    return row[0] if row else None


def count_readings(device_ids=None) -> int:
    with connection.cursor() as cursor:
        if device_ids is None:
            cursor.execute("SELECT count(*) FROM iot_reading")
        else:
            sql, params = _in("device_id", device_ids)
            cursor.execute(f"SELECT count(*) FROM iot_reading WHERE {sql}", params)
        return cursor.fetchone()[0]


def apply_retention(now=None) -> dict:
    """Delete raw readings and hourly rollups past their retention (downsampling: the rollups
    outlive the raw rows; daily rollups are kept). Return the number of rows deleted per table."""
    now = to_ms(now or timezone.now())
    raw_days = iot_setting("IOT_RAW_RETENTION_DAYS", 400)
    hour_days = iot_setting("IOT_HOURLY_RETENTION_DAYS", 3650)
    deleted = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM iot_reading WHERE ts < %s", [now - raw_days * DAY_MS])
        deleted["raw"] = cursor.rowcount
        cursor.execute(
            "DELETE FROM iot_rollup WHERE period = 3600 AND bucket < %s", [now - hour_days * DAY_MS]
        )
        deleted["hour"] = cursor.rowcount
    return deleted
