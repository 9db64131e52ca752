"""Demo devices, default rules and a few days of history for the demo town (labelled demo data).

Registered with ``zhili.demo.hooks``; the history is written through the simulator's
fast-forward path, so ``zhili up`` stays quick (about 100k readings).
"""

import random
from datetime import timedelta

from django.db import connection, transaction

from zhili.demo.hooks import register_demo

DEMO = "demo"
HISTORY_DAYS = 3
HISTORY_INTERVAL_S = 300

# device type, how many, name pattern
PLAN = [
    ("air_station", 3, "空气质量监测站"),
    ("dust_monitor", 4, "工地扬尘监测仪"),
    ("noise_meter", 4, "工地噪声监测仪"),
    ("weather_station", 1, "气象站"),
    ("vehicle_gps", 4, "渣土车定位终端"),
    ("water_quality", 2, "河道水质监测仪"),
    ("pipe_pressure", 3, "供水管网压力计"),
    ("gas_detector", 2, "燃气泄漏探测器"),
    ("agri_sensor", 2, "农田墒情传感器"),
]
PREFIX = {
    "air_station": "AQ",
    "dust_monitor": "DU",
    "noise_meter": "NS",
    "weather_station": "WX",
    "vehicle_gps": "GPS",
    "water_quality": "WQ",
    "pipe_pressure": "PP",
    "gas_detector": "GS",
    "agri_sensor": "AG",
}


def build_iot_demo(town, write):
    from shapely.geometry import Point

    from zhili.iot.catalog import DEFAULT_RULES, seed_metrics
    from zhili.iot.credentials import issue_credential
    from zhili.iot.management.commands.simulate import vehicle_routes
    from zhili.iot.models import Device, Metric, Rule
    from zhili.iot.simulation import fast_forward
    from zhili.places.models import Grid

    rng = random.Random(town.spec.seed + 606)
    seed_metrics(Metric)
    grids = [
        g
        for g in Grid.objects.filter(division__path__startswith=town.division.path)
        .exclude(geometry=None)
        .order_by("code")
        if g.geometry is not None and g.level >= 3
    ]
    if not grids:
        grids = [town.grid] if town.grid.geometry is not None else []
    # History ends at the start of the current hour, so that two builds within the hour write
    # exactly the same readings (the demo is deterministic; `zhili simulate` carries on from here).
    now = town.now.replace(minute=0, second=0, microsecond=0)
    devices = []
    with transaction.atomic():
        for device_type, count, label in PLAN:
            for i in range(count):
                grid = grids[rng.randrange(len(grids))] if grids else None
                point = grid.geometry.representative_point() if grid else Point(119.96, 30.27)
                point = Point(
                    round(point.x + rng.uniform(-0.0008, 0.0008), 6),
                    round(point.y + rng.uniform(-0.0008, 0.0008), 6),
                )
                device = Device(
                    code=f"{PREFIX[device_type]}-{i + 1:03d}",
                    name=f"{grid.name if grid else ''}{label}{i + 1}号",
                    device_type=device_type,
                    geometry=point,
                    grid=grid,
                    address=f"{grid.name if grid else ''}",
                    vendor="演示设备",
                    owner_unit=town.government,
                    data_source=DEMO,
                    installed_on=(now - timedelta(days=rng.randint(60, 900))).date(),
                    battery=round(rng.uniform(55, 100), 0)
                    if device_type in ("vehicle_gps", "gas_detector", "agri_sensor")
                    else None,
                    signal=rng.randint(-95, -60),
                )
                devices.append(town.saved(device))
        for device in devices:
            issue_credential(device)
        metrics = {m.code: m for m in Metric.objects.all()}
        for spec in DEFAULT_RULES:
            fields = {k: v for k, v in spec.items() if k not in ("metric",)}
            rule = Rule(
                **fields,
                metric=metrics.get(spec["metric"]) if spec["metric"] else None,
                owner_unit=town.government,
                data_source=DEMO,
            )
            rule.full_clean()
            town.saved(rule)
    routes = vehicle_routes(devices)
    n = fast_forward(
        devices, now - timedelta(days=HISTORY_DAYS), now - timedelta(hours=24), HISTORY_INTERVAL_S, routes
    )
    # The last day goes through the rule engine, so the demo has realistic open alarms.
    from zhili.iot import store
    from zhili.iot.simulation import history_rows

    by_code = store.metrics.by_code()
    recent = [
        r
        for r in history_rows(
            devices, store.to_ms(now - timedelta(hours=24)), store.to_ms(now), HISTORY_INTERVAL_S, routes
        )
        if store.validate_row(r, by_code) is None
    ]
    n += store.write_readings(recent, validate=False)
    Device.objects.filter(pk__in=[d.pk for d in devices]).update(last_seen_at=now, status="online")
    town.counts["iot.Reading"] += n
    write(f"    {len(devices)} devices, {n} readings")


def delete_iot_demo(write):
    from zhili.iot.models import Alarm, DeadLetter, Device, DeviceCredential, Rule

    ids = list(Device.objects.filter(data_source=DEMO).values_list("pk", flat=True))
    with transaction.atomic():
        Alarm.objects.filter(device_id__in=ids).delete()
        Alarm.objects.filter(rule__data_source=DEMO).delete()
        DeadLetter.objects.filter(device_id__in=ids).delete()
        DeviceCredential.objects.filter(device_id__in=ids).delete()
        Rule.objects.filter(data_source=DEMO).delete()
        with connection.cursor() as cursor:
            for table in ("iot_reading", "iot_rollup", "iot_latest"):
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    cursor.execute(
                        f"DELETE FROM {table} WHERE device_id IN ({', '.join(['%s'] * len(chunk))})", chunk
                    )
        Device.objects.filter(pk__in=ids).delete()
    write(f"    iot: {len(ids)} demo devices removed")


register_demo("iot", build=build_iot_demo, delete=delete_iot_demo)
