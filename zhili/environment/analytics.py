"""Air-quality analytics over the IoT readings store (R-5.1.1–R-5.1.4).

* :func:`compute_daily_aqi` turns the hourly rollups of the air stations into ``DailyAQI`` rows
  (one per station and day, plus the town: the mean of the stations' hourly values, the way a
  city AQI is formed from its stations), with :func:`zhili.environment.aqi.daily_aqi_array`.
* :func:`realtime`, :func:`monthly_good_days`, :func:`yearly_shares`, :func:`ranking` and
  :func:`attainment` read those rows (and the latest hour) for the dashboards and the API.

Station = an ``iot.Device`` with ``device_type="air_station"``; metrics ``so2 no2 co pm10 pm25
o3`` (µg/m³, CO mg/m³). A day counts for a statistic only when its value is valid (GB 3095-2026
Table 4); a year's annual statistics carry their validity (≥ 324 days, ≥ 27 a month).
"""

from __future__ import annotations

import calendar
import datetime as dt
import warnings

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhili.environment import aqi
from zhili.environment.models import AttainmentTarget, DailyAQI

HOUR_MS = 3_600_000
STATION_TYPE = "air_station"
PRIMARY_LABELS = {
    "so2_24h": "SO2",
    "no2_24h": "NO2",
    "co_24h": "CO",
    "pm10_24h": "PM10",
    "pm25_24h": "PM2.5",
    "o3_8h": "O3_8h",
    "o3_1h": "O3_1h",
    "so2_1h": "SO2",
    "no2_1h": "NO2",
    "co_1h": "CO",
    "pm10_1h": "PM10",
    "pm25_1h": "PM2.5",
}


def profile_code() -> str:
    """The AQI profile in use: ``ZHILI["AQI_PROFILE"]`` (HJ633-2026 unless set)."""
    return getattr(settings, "ZHILI", {}).get("AQI_PROFILE", aqi.DEFAULT_PROFILE)


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def stations(queryset=None):
    from zhili.iot.models import Device

    qs = queryset if queryset is not None else Device.objects.all()
    return qs.filter(device_type=STATION_TYPE).order_by("pk")


def hourly_arrays(device_ids: list[int], first_day: dt.date, days: int) -> dict[str, np.ndarray]:
    """Hourly means from the store as arrays (stations, days, 24), NaN where an hour is missing."""
    from zhili.iot import store

    start = _local_midnight(first_day)
    end = _local_midnight(first_day + dt.timedelta(days=days))
    start_ms = int(start.timestamp() * 1000)
    arrays = {p: np.full((len(device_ids), days, 24), np.nan) for p in aqi.POLLUTANTS}
    if not device_ids:
        return arrays
    index = {d: i for i, d in enumerate(device_ids)}
    data = store.series(device_ids, list(aqi.POLLUTANTS), start, end, resolution="hour")
    for (device_id, metric), points in data.items():
        if metric not in arrays or device_id not in index:
            continue
        ts = np.fromiter((p.ts for p in points), dtype=np.int64, count=len(points))
        values = np.fromiter((p.value for p in points), dtype=float, count=len(points))
        hours = (ts - start_ms) // HOUR_MS
        keep = (hours >= 0) & (hours < days * 24)
        flat = arrays[metric][index[device_id]].reshape(-1)
        flat[hours[keep]] = values[keep]
    return arrays


def compute_daily_aqi(first_day: dt.date, last_day: dt.date, device_ids=None, profile=None) -> int:
    """(Re)compute ``DailyAQI`` for the stations and the town over ``first_day … last_day``.

    Returns the number of rows written. Existing rows of those days, stations and profile are
    replaced in one transaction, so a recomputation never leaves half a period.
    """
    prof = aqi.get_profile(profile or profile_code())
    if last_day < first_day:
        raise ValueError("last_day is before first_day")
    ids = list(device_ids) if device_ids is not None else list(stations().values_list("pk", flat=True))
    days = (last_day - first_day).days + 1
    hourly = hourly_arrays(ids, first_day, days)
    results = [(ids, aqi.daily_aqi_array(hourly, prof))] if ids else []
    town_rows = device_ids is None and ids
    if town_rows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN hours stay NaN
            town = {p: np.nanmean(arr, axis=0, keepdims=True) for p, arr in hourly.items()}
        results.append(([None], aqi.daily_aqi_array(town, prof)))
    rows = []
    for owners, res in results:
        for i, device_id in enumerate(owners):
            for d in range(days):
                rows.append(_row(device_id, first_day + dt.timedelta(days=d), prof, res, i, d))
    with transaction.atomic():
        old = DailyAQI.objects.filter(date__gte=first_day, date__lte=last_day, profile=prof.code)
        if device_ids is not None:
            old = old.filter(device_id__in=ids)
        old.delete()
        DailyAQI.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _num(value) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 3)


def _row(device_id, day, prof, res: aqi.DailyArrays, i: int, d: int) -> DailyAQI:
    conc = res.concentrations
    primary = [PRIMARY_LABELS[ind] for ind in prof.daily_indicators if res.primary_mask(ind)[i, d]]
    computed = res.computed_aqi[i, d]
    published = res.aqi[i, d]
    return DailyAQI(
        device_id=device_id,
        date=day,
        profile=prof.code,
        aqi=None if np.isnan(published) else int(published),
        computed_aqi=None if np.isnan(computed) else int(computed),
        level=int(res.level[i, d]),
        primary_pollutants=",".join(dict.fromkeys(primary)),
        so2=_num(conc["so2_24h"][i, d]) if "so2_24h" in conc else None,
        no2=_num(conc["no2_24h"][i, d]) if "no2_24h" in conc else None,
        co=_num(conc["co_24h"][i, d]) if "co_24h" in conc else None,
        pm10=_num(conc["pm10_24h"][i, d]) if "pm10_24h" in conc else None,
        pm25=_num(conc["pm25_24h"][i, d]) if "pm25_24h" in conc else None,
        o3_8h=_num(conc["o3_8h"][i, d]) if "o3_8h" in conc else None,
        o3_1h=_num(conc["o3_1h"][i, d]) if "o3_1h" in conc else None,
        data_source="device",
    )


# --------------------------------------------------------------------------- real time


def realtime(device_ids=None, profile=None, now=None) -> dict:
    """Real-time (hourly) AQI of each station and the town from each pollutant's newest hourly mean.

    The newest hour may be the current one (its mean so far), so the screen follows the data as
    it arrives. Returns ``{"hour": iso, "town": report-dict, "stations": {device_id: report}}``;
    a station with nothing in the last two hours has no report.
    """
    from zhili.iot import store

    prof = aqi.get_profile(profile or profile_code())
    ids = list(device_ids) if device_ids is not None else list(stations().values_list("pk", flat=True))
    now = now or timezone.now()
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    data = (
        store.series(
            ids,
            list(aqi.POLLUTANTS),
            hour_start - dt.timedelta(hours=2),
            hour_start + dt.timedelta(hours=1),
            "hour",
        )
        if ids
        else {}
    )
    per_station: dict[int, dict[str, float]] = {}
    latest_ts = None
    for (device_id, metric), points in data.items():
        if points:
            per_station.setdefault(device_id, {})[metric] = points[-1].value
            latest_ts = max(latest_ts or 0, points[-1].ts)
    indicator = {aqi.INDICATOR_POLLUTANT[i]: i for i in prof.hourly_indicators if not i.endswith("24h")}
    # 2012 real-time PM uses the 24-h moving average; approximate it with the last 24 hourly means.
    pm_24h = {}
    if prof.code == "HJ633-2012" and ids:
        pm = store.series(
            ids,
            ["pm10", "pm25"],
            hour_start - dt.timedelta(hours=23),
            hour_start + dt.timedelta(hours=1),
            "hour",
        )
        for (device_id, metric), points in pm.items():
            if len(points) >= 20:
                pm_24h.setdefault(device_id, {})[metric] = sum(p.value for p in points) / len(points)

    def report(values: dict, pm: dict) -> dict:
        payload = {}
        for pollutant, value in values.items():
            if pollutant in indicator:
                payload[indicator[pollutant]] = value
        if prof.code == "HJ633-2012":
            payload.pop("pm10_1h", None)
            payload.pop("pm25_1h", None)
            for pollutant in ("pm10", "pm25"):
                if pollutant in pm:
                    payload[f"{pollutant}_24h"] = pm[pollutant]
        result = aqi.hourly_report(payload, prof).as_dict()
        result["values"] = {k: round(v, 3) for k, v in values.items()}
        return result

    out = {
        "hour": None
        if latest_ts is None
        else dt.datetime.fromtimestamp(latest_ts / 1000, tz=dt.UTC).isoformat()
    }
    out["stations"] = {d: report(v, pm_24h.get(d, {})) for d, v in per_station.items()}
    if per_station:
        town_values = {}
        for pollutant in aqi.POLLUTANTS:
            vals = [v[pollutant] for v in per_station.values() if pollutant in v]
            if vals:
                town_values[pollutant] = sum(vals) / len(vals)
        town_pm = {}
        for pollutant in ("pm10", "pm25"):
            vals = [v[pollutant] for v in pm_24h.values() if pollutant in v]
            if vals:
                town_pm[pollutant] = sum(vals) / len(vals)
        out["town"] = report(town_values, town_pm)
    else:
        out["town"] = None
    return out


# --------------------------------------------------------------------------- statistics


def _daily(device=None, profile=None):
    qs = DailyAQI.objects.filter(profile=profile or profile_code())
    return qs.filter(device=device) if device is not None else qs.filter(device__isnull=True)


def monthly_good_days(year: int, month: int, device=None, profile=None) -> dict:
    """Cumulative good days (AQI ≤ 100) through the month, this year and the same month last year."""
    ndays = calendar.monthrange(year, month)[1]
    out = {"year": year, "month": month, "days": list(range(1, ndays + 1))}
    for key, y in (("this_year", year), ("last_year", year - 1)):
        n = calendar.monthrange(y, month)[1]
        rows = _daily(device, profile).filter(date__year=y, date__month=month).values_list("date", "aqi")
        good = np.zeros(n + 1, dtype=int)
        valid = 0
        for day, value in rows:
            if value is not None:
                valid += 1
                if value <= 100:
                    good[day.day] += 1
        cumulative = np.cumsum(good)[1:].tolist()
        out[key] = cumulative[:ndays] + [cumulative[-1]] * max(0, ndays - n)
        out[f"{key}_good"] = int(good.sum())
        out[f"{key}_valid"] = valid
    today = timezone.localdate()
    if (year, month) == (today.year, today.month):
        # days still to come have no value (the chart stops at today)
        out["this_year"] = [v if i < today.day else None for i, v in enumerate(out["this_year"])]
        # compare like with like: last year's count up to the same day of the month
        out["last_year_to_date"] = out["last_year"][today.day - 1] if out["last_year"] else 0
        out["change"] = out["this_year_good"] - out["last_year_to_date"]
    else:
        out["change"] = out["this_year_good"] - out["last_year_good"]
    return out


def yearly_shares(year: int, device=None, profile=None) -> dict:
    """Share of valid days per category (优 … 严重污染) this year and last year, with the change."""
    out = {"year": year, "categories": []}
    counts = {}
    for y in (year, year - 1):
        levels = list(
            _daily(device, profile).filter(date__year=y, aqi__isnull=False).values_list("level", flat=True)
        )
        total = len(levels)
        counts[y] = (total, {lvl: levels.count(lvl) for lvl in range(1, 7)})
    for cat in aqi.CATEGORIES:
        this_total, this = counts[year]
        last_total, last = counts[year - 1]
        share = 100 * this[cat.level] / this_total if this_total else None
        last_share = 100 * last[cat.level] / last_total if last_total else None
        out["categories"].append(
            {
                "level": cat.level,
                "name": cat.name_zh,
                "label": str(cat.label),
                "colour": cat.colour,
                "days": this[cat.level],
                "share": None if share is None else round(share, 1),
                "last_year_days": last[cat.level],
                "last_year_share": None if last_share is None else round(last_share, 1),
                "change": None if share is None or last_share is None else round(share - last_share, 1),
            }
        )
    out["valid_days"] = counts[year][0]
    out["last_year_valid_days"] = counts[year - 1][0]
    good = sum(c["days"] for c in out["categories"] if c["level"] <= 2)
    out["good_ratio"] = round(100 * good / counts[year][0], 1) if counts[year][0] else None
    return out


def ranking(first_day: dt.date, last_day: dt.date, station_qs=None, profile=None) -> list[dict]:
    """Communities and villages ranked by mean daily AQI of their stations (best first)."""
    qs = stations(station_qs).select_related("grid__division")
    groups: dict = {}
    for device in qs:
        division = device.grid.division if device.grid_id and device.grid.division_id else None
        key = division.pk if division else None
        groups.setdefault(key, {"division": division.name if division else "—", "devices": []})[
            "devices"
        ].append(device.pk)
    out = []
    for group in groups.values():
        rows = list(
            DailyAQI.objects.filter(
                profile=profile or profile_code(),
                device_id__in=group["devices"],
                date__gte=first_day,
                date__lte=last_day,
                aqi__isnull=False,
            ).values_list("aqi", "pm25")
        )
        if not rows:
            continue
        values = [r[0] for r in rows]
        pm25 = [r[1] for r in rows if r[1] is not None]
        out.append(
            {
                "division": group["division"],
                "stations": len(group["devices"]),
                "days": len(values),
                "mean_aqi": round(sum(values) / len(values), 1),
                "good_ratio": round(100 * sum(1 for v in values if v <= 100) / len(values), 1),
                "mean_pm25": round(sum(pm25) / len(pm25), 1) if pm25 else None,
            }
        )
    out.sort(key=lambda r: r["mean_aqi"])
    for i, row in enumerate(out, 1):
        row["rank"] = i
    return out


def annual(year: int, device=None, profile=None) -> dict:
    """HJ 663 annual statistics of one year, its validity and the composite index."""
    rows = list(
        _daily(device, profile)
        .filter(date__year=year)
        .values_list("date", "aqi", "so2", "no2", "pm10", "pm25", "co", "o3_8h")
    )
    daily = {p: [] for p in aqi.POLLUTANTS}
    per_month = {p: dict.fromkeys(range(1, 13), 0) for p in aqi.POLLUTANTS}
    good = valid_aqi = 0
    for day, value, so2, no2, pm10, pm25, co, o3 in rows:
        for pollutant, v in (
            ("so2", so2),
            ("no2", no2),
            ("pm10", pm10),
            ("pm25", pm25),
            ("co", co),
            ("o3", o3),
        ):
            if v is not None:
                daily[pollutant].append(v)
                per_month[pollutant][day.month] += 1
        if value is not None:
            valid_aqi += 1
            good += value <= 100
    stats = aqi.annual_statistics(daily)
    validity = {p: aqi.annual_valid(per_month[p]) for p in aqi.POLLUTANTS}
    return {
        "year": year,
        "statistics": {p: None if v is None else round(v, 3) for p, v in stats.items()},
        "valid": validity,
        "days": {p: len(daily[p]) for p in aqi.POLLUTANTS},
        "good_ratio": round(100 * good / valid_aqi, 1) if valid_aqi else None,
        "composite": None if (ci := aqi.composite_index(stats)) is None else round(ci, 3),
    }


def attainment(year: int, device=None, profile=None) -> dict:
    """Attainment pressure (R-5.1.4): targets of ``year`` against this year and the three before."""
    years = [annual(y, device, profile) for y in range(year - 3, year + 1)]
    targets = {t.pollutant: t.target for t in AttainmentTarget.objects.filter(year=year)}
    current = years[-1]
    gaps = {}
    for pollutant, target in targets.items():
        if pollutant == "good_days":
            value = current["good_ratio"]
            gaps[pollutant] = None if value is None else round(target - value, 3)  # > 0: short of target
        elif pollutant == "composite":
            value = current["composite"]
            gaps[pollutant] = None if value is None else round(value - target, 3)
        else:
            value = current["statistics"].get(pollutant)
            gaps[pollutant] = None if value is None else round(value - target, 3)  # > 0: above target
    return {"year": year, "years": years, "targets": targets, "gaps": gaps}


def trend(days: int = 30, device=None, profile=None, today=None) -> list[dict]:
    today = today or timezone.localdate()
    rows = (
        _daily(device, profile)
        .filter(date__gt=today - dt.timedelta(days=days), date__lte=today)
        .order_by("date")
    )
    return [
        {
            "date": r.date.isoformat(),
            "aqi": r.aqi,
            "level": r.level,
            "primary": r.primary_pollutants,
            "pm25": r.pm25,
        }
        for r in rows
    ]
