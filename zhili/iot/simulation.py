"""Realistic demo telemetry (labelled demo data): diurnal cycles, weather-driven pollution
episodes, construction noise by working hours, moving muck trucks, faults and bad values.

``values_at(device, t)`` is deterministic for a device and instant, so the fast-forward history
and the live simulator agree, and tests can predict values.
"""

import hashlib
import math
import random
from datetime import UTC, datetime

from django.utils import timezone

from zhili.iot import store


def _seed(*parts) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _noise(seed: int, scale: float) -> float:
    return (random.Random(seed).random() - 0.5) * 2 * scale


def episode_factor(day: int, seed: int = 7) -> float:
    """Weather-driven pollution: stagnant spells of 2–4 days multiply fine particles by up to 3.5."""
    factor = 1.0
    for start in range(day - 4, day + 1):
        r = random.Random(_seed("episode", seed, start))
        if r.random() < 0.12:
            length = r.randint(2, 4)
            if start <= day < start + length:
                factor = max(factor, 1.8 + r.random() * 1.7)
    return factor


def _local(ts_ms: int):
    return timezone.localtime(datetime.fromtimestamp(ts_ms / 1000, tz=UTC))


def working(local) -> bool:
    """Construction working hours: 07:00–12:00 and 13:30–18:00 on days other than Sunday."""
    minutes = local.hour * 60 + local.minute
    return local.weekday() != 6 and (420 <= minutes < 720 or 810 <= minutes < 1080)


def values_at(device, ts_ms: int, *, route=None) -> dict[str, float]:
    """Return ``{metric_code: value}`` of ``device`` (``code``, ``device_type``) at ``ts_ms``."""
    local = _local(ts_ms)
    hour = local.hour + local.minute / 60
    day = ts_ms // store.DAY_MS
    doy = local.timetuple().tm_yday
    s = _seed(device.code, ts_ms)
    dev = _seed(device.code) % 1000 / 1000  # per-device offset 0..1
    season = math.cos((doy - 15) / 365 * 2 * math.pi)  # 1 in January, -1 in July
    temp = 17 - 10 * season + 5 * math.sin((hour - 9) / 24 * 2 * math.pi) + _noise(s + 1, 0.8)
    humidity = min(100, max(15, 70 - 2.2 * (temp - 17) + _noise(s + 2, 6)))
    wind = (
        max(0.0, 2.4 + 1.2 * math.sin((hour - 6) / 24 * 2 * math.pi) + _noise(s + 3, 1.0))
        / episode_factor(day) ** 0.5
    )
    traffic = 1 + 0.45 * math.exp(-((hour - 8) ** 2) / 3) + 0.5 * math.exp(-((hour - 19) ** 2) / 4)
    episode = episode_factor(day)
    winter = 1 + 0.35 * max(season, 0)
    pm25 = max(3.0, (24 + 10 * dev) * traffic * episode * winter + _noise(s + 4, 5))
    t = device.device_type
    if t == "air_station":
        o3 = max(
            5.0,
            40 + 90 * max(0, math.sin((hour - 8) / 12 * math.pi)) * (1.2 - 0.4 * season) + _noise(s + 5, 8),
        )
        return {
            "pm25": round(pm25, 0),
            "pm10": round(pm25 * 1.65 + _noise(s + 6, 6), 0),
            "so2": round(max(2.0, 7 + 3 * traffic + _noise(s + 7, 1.5)), 0),
            "no2": round(max(3.0, 18 * traffic * episode**0.5 + _noise(s + 8, 4)), 0),
            "co": round(max(0.2, 0.55 * traffic * episode**0.5 + _noise(s + 9, 0.08)), 1),
            "o3": round(o3, 0),
            "temperature": round(temp, 1),
            "humidity": round(humidity, 0),
            "wind_speed": round(wind, 1),
            "wind_dir": round((110 + 60 * math.sin(day / 3) + _noise(s + 10, 30)) % 360, 0),
        }
    if t == "dust_monitor":
        site = 1 + (2.2 if working(local) else 0.1) * (0.5 + dev)
        pm10 = max(10.0, pm25 * 1.6 * site + _noise(s + 11, 10))
        return {
            "pm25": round(pm25 * (1 + 0.2 * (site - 1)), 0),
            "pm10": round(pm10, 0),
            "tsp": round(pm10 * 1.5, 0),
            "noise_laeq": round((66 if working(local) else 48) + 6 * dev + _noise(s + 12, 2.5), 1),
            "wind_speed": round(wind, 1),
            "wind_dir": round((110 + 60 * math.sin(day / 3) + _noise(s + 13, 40)) % 360, 0),
            "temperature": round(temp, 1),
            "humidity": round(humidity, 0),
        }
    if t == "noise_meter":
        night_work = random.Random(_seed("nightwork", device.code, day)).random() < 0.15
        minutes = local.hour * 60 + local.minute
        if working(local):
            laeq = 63 + 9 * dev
        elif night_work and (minutes >= 22 * 60 or minutes < 60):
            laeq = 58 + 6 * dev  # concrete pour after hours: breaches the 55 dB(A) night limit
        else:
            laeq = 46 + 5 * dev if (minutes >= 22 * 60 or minutes < 360) else 55 + 4 * dev
        laeq += _noise(s + 14, 2)
        return {"noise_laeq": round(laeq, 1), "noise_lmax": round(laeq + 9 + abs(_noise(s + 15, 7)), 1)}
    if t == "weather_station":
        return {
            "temperature": round(temp, 1),
            "humidity": round(humidity, 0),
            "wind_speed": round(wind, 1),
            "wind_dir": round((110 + 60 * math.sin(day / 3) + _noise(s + 16, 20)) % 360, 0),
            "pressure": round(1013 + 8 * season + _noise(s + 17, 1.5), 1),
            "rainfall": round(max(0.0, _noise(s + 18, 3) - 2.2) if episode < 1.2 else 0.0, 1),
        }
    if t == "water_quality":
        return {
            "water_ph": round(7.3 + 0.3 * math.sin(hour / 24 * 2 * math.pi) + _noise(s + 19, 0.08), 2),
            "water_do": round(7.5 - 2.5 * max(0, -season) + _noise(s + 20, 0.3), 2),
            "water_turbidity": round(max(0.5, 8 + _noise(s + 21, 3)), 1),
            "water_level": round(2.1 + 0.4 * math.sin(day / 9) + _noise(s + 22, 0.02), 2),
            "temperature": round(temp - 3, 1),
        }
    if t == "pipe_pressure":
        demand = 1 + 0.35 * math.exp(-((hour - 7.5) ** 2) / 2) + 0.3 * math.exp(-((hour - 19) ** 2) / 3)
        return {
            "pressure_mpa": round(0.38 - 0.06 * (demand - 1) + _noise(s + 23, 0.004), 3),
            "flow": round(120 * demand * (0.6 + dev) + _noise(s + 24, 6), 1),
        }
    if t == "gas_detector":
        return {"gas_lel": round(max(0.0, 0.8 + _noise(s + 25, 0.8)), 1)}
    if t == "agri_sensor":
        return {
            "soil_moisture": round(32 + 6 * math.sin(day / 5) + _noise(s + 26, 1.5), 1),
            "soil_temperature": round(temp - 2 + _noise(s + 27, 0.5), 1),
            "temperature": round(temp, 1),
            "humidity": round(humidity, 0),
            "light": round(
                max(0.0, 60000 * math.sin((hour - 6) / 13 * math.pi)) if 6 <= hour <= 19 else 0.0, 0
            ),
        }
    if t == "access_gate":
        return {"people_count": float(int(max(0, 30 * traffic + _noise(s + 28, 8))))}
    if t == "camera":
        return {"event_count": float(int(random.Random(s + 29).random() < 0.05))}
    if t == "vehicle_gps":
        return vehicle_position(device, ts_ms, route)
    return {}


def vehicle_position(device, ts_ms: int, route=None) -> dict[str, float]:
    """A muck truck shuttling along ``route`` (a LineString, lon/lat) in working hours."""
    local = _local(ts_ms)
    if route is None or not working(local):
        base = device.geometry
        if base is None:
            return {}
        return {"lon": round(base.x, 6), "lat": round(base.y, 6), "speed": 0.0, "heading": 0.0}
    minutes = local.hour * 60 + local.minute + local.second / 60
    cycle = 50.0  # one round trip every 50 minutes
    phase = ((minutes + _seed(device.code) % 50) % cycle) / cycle
    frac = phase * 2 if phase < 0.5 else 2 - phase * 2
    point = route.interpolate(frac, normalized=True)
    ahead = route.interpolate(min(1.0, frac + 0.01), normalized=True)
    heading = (
        math.degrees(math.atan2(ahead.x - point.x, ahead.y - point.y)) + (0 if phase < 0.5 else 180)
    ) % 360
    return {
        "lon": round(point.x, 6),
        "lat": round(point.y, 6),
        "speed": round(28 + _noise(_seed(device.code, ts_ms), 8), 0),
        "heading": round(heading, 0),
    }


def fault(device, ts_ms: int, rate: float = 0.002) -> str | None:
    """Return a fault for this device and instant: ``out_of_range`` (a spike), ``silent``, or None."""
    r = random.Random(_seed("fault", device.code, ts_ms)).random()
    if r < rate:
        return "out_of_range"
    if r < rate * 3:
        return "silent"
    return None


def history_rows(devices, start_ms: int, end_ms: int, interval_s: int, routes=None):
    """Yield store rows for ``devices`` from ``start_ms`` to ``end_ms`` every ``interval_s``
    (faults skipped: the fast-forward writes only valid history)."""
    step = interval_s * 1000
    routes = routes or {}
    first = start_ms - start_ms % step
    for ts in range(first, end_ms, step):
        for device in devices:
            if fault(device, ts) is not None:
                continue
            for code, value in values_at(device, ts, route=routes.get(device.pk)).items():
                yield (device.pk, code, ts, value)


def fast_forward(devices, start, end, interval_s: int = 300, routes=None, batch: int = 20000) -> int:
    """Write the history of ``devices`` between ``start`` and ``end`` directly to the store."""
    from django.db import transaction

    total, buf = 0, []
    by_code = store.metrics.by_code()
    for row in history_rows(devices, store.to_ms(start), store.to_ms(end), interval_s, routes):
        if store.validate_row(row, by_code) is None:
            buf.append(row)
        if len(buf) >= batch:
            with transaction.atomic():
                total += store.write_readings(buf, validate=False, notify=False)
            buf = []
    if buf:
        with transaction.atomic():
            total += store.write_readings(buf, validate=False, notify=False)
    return total
