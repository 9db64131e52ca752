"""Demo data of the environment chapter (labelled ``data_source="demo"``).

Runs after the IoT demo (the app comes after ``zhili.iot`` in INSTALLED_APPS): construction sites
around the demo dust monitors, with their devices, cameras, routes, vehicles bound to the demo GPS
terminals and some violation events; default dust factors; attainment targets; the daily AQI of
the simulated days computed from the readings, and — so the year-on-year charts have something to
compare — four years of synthetic daily values for the stations (demo data, computed through the
same AQI engine from generated daily concentrations).
"""

import datetime as dt
import random

import numpy as np
from django.db import transaction
from django.utils import timezone

from zhili.demo.hooks import register_demo  # noqa: F401 - documented entry point

DEMO = "demo"
AQI_RULE = "air-aqi-category"


def build_environment_demo(town, write):
    from shapely.geometry import LineString, Point, box

    from zhili.environment import aqi
    from zhili.environment.analytics import compute_daily_aqi, profile_code
    from zhili.environment.dust import DEFAULT_FACTORS
    from zhili.environment.models import (
        AllowedRoute,
        AttainmentTarget,
        Camera,
        ConstructionSite,
        DailyAQI,
        DustFactor,
        Vehicle,
        ViolationEvent,
    )
    from zhili.iot.models import Device

    rng = random.Random(town.spec.seed + 707)
    now = town.now
    today = timezone.localdate(now)
    devices = {
        t: list(Device.objects.filter(device_type=t).order_by("code"))
        for t in ("air_station", "dust_monitor", "noise_meter", "weather_station", "vehicle_gps")
    }
    unit = town.government
    with transaction.atomic():
        for kind, (grades, weight, radius) in DEFAULT_FACTORS.items():
            town.saved(
                DustFactor(
                    kind=kind,
                    grades=grades,
                    weight=weight,
                    radius_m=radius,
                    owner_unit=unit,
                    data_source=DEMO,
                )
            )
        from zhili.iot.models import Metric, Rule

        pm25 = Metric.objects.filter(code="pm25").first()
        if pm25 is not None and not Rule.objects.filter(code=AQI_RULE).exists():
            rule = Rule(
                code=AQI_RULE,
                name="PM2.5 分指数达到轻度污染（HJ 633 实时报）",
                kind="aqi_category",
                device_type="air_station",
                metric=pm25,
                params={"min_level": 3},
                severity="minor",
                auto_close=True,
                case_category="env.air",
                owner_unit=unit,
                data_source=DEMO,
            )
            rule.full_clean()
            town.saved(rule)
        for pollutant, target in (
            ("pm25", 30),
            ("pm10", 55),
            ("no2", 35),
            ("so2", 15),
            ("co", 1.4),
            ("o3", 160),
            ("good_days", 88),
            ("composite", 4.0),
        ):
            town.saved(
                AttainmentTarget(
                    year=today.year,
                    pollutant=pollutant,
                    target=target,
                    owner_unit=unit,
                    data_source=DEMO,
                    note="演示目标",
                )
            )
        sites = []
        names = [
            ("城东安置房二期工地", "城东安置房二期工程", "浙江某建工集团有限公司"),
            ("滨河路改造工地", "滨河路道路改造工程", "某市政工程有限公司"),
            ("中心小学扩建工地", "中心小学扩建工程", "某建设有限公司"),
        ]
        anchors = devices["dust_monitor"] or devices["air_station"]
        for i, (name, project, contractor) in enumerate(names):
            if i >= len(anchors):
                break
            p = anchors[i].geometry
            boundary = box(p.x - 0.0012, p.y - 0.0008, p.x + 0.0012, p.y + 0.0008)
            site = town.saved(
                ConstructionSite(
                    code=f"GD-{i + 1:03d}",
                    name=name,
                    project=project,
                    contractor=contractor,
                    manager=f"项目经理{i + 1}",
                    manager_phone=f"1380000{rng.randint(1000, 9999)}",
                    start_date=today - dt.timedelta(days=rng.randint(60, 300)),
                    end_date=today + dt.timedelta(days=rng.randint(90, 400)),
                    status="active",
                    grid=anchors[i].grid,
                    geometry=boundary,
                    owner_unit=unit,
                    data_source=DEMO,
                )
            )
            linked = [anchors[i]]
            if i < len(devices["noise_meter"]):
                linked.append(devices["noise_meter"][i])
            if devices["weather_station"]:
                linked.append(devices["weather_station"][0])
            site.devices.set(linked)
            route = town.saved(
                AllowedRoute(
                    site=site,
                    name="渣土外运线",
                    tolerance_m=60,
                    owner_unit=unit,
                    data_source=DEMO,
                    geometry=LineString(
                        [(p.x + 0.0012, p.y), (p.x + 0.006, p.y + 0.001), (p.x + 0.012, p.y + 0.004)]
                    ),
                )
            )
            cameras = [
                town.saved(
                    Camera(
                        site=site,
                        name=label,
                        stream_url=f"rtsp://127.0.0.1:554/demo/site{i + 1}/{k}",
                        edge_ai=k == 1,
                        geometry=Point(p.x - 0.0012 + 0.0024 * k, p.y - 0.0008),
                        owner_unit=unit,
                        data_source=DEMO,
                    )
                )
                for k, label in enumerate(("大门车辆冲洗摄像头", "塔吊全景摄像头"))
            ]
            sites.append((site, route, cameras))
        plates = iter(f"浙A·D{n:04d}" for n in range(1, 100))
        vehicles = []
        for k, gps in enumerate(devices["vehicle_gps"]):
            site, route, _c = sites[k % len(sites)] if sites else (None, None, None)
            vehicles.append(
                town.saved(
                    Vehicle(
                        plate=next(plates),
                        kind="muck_truck",
                        driver=f"驾驶员{k + 1}",
                        driver_phone=f"1390000{rng.randint(1000, 9999)}",
                        cargo="渣土",
                        company="某渣土运输公司",
                        site=site,
                        gps_device=gps,
                        route=route,
                        owner_unit=unit,
                        data_source=DEMO,
                    )
                )
            )
        for kind in ("loader", "bulldozer", "paver", "forklift"):
            site = sites[rng.randrange(len(sites))][0] if sites else None
            vehicles.append(
                town.saved(
                    Vehicle(
                        plate=next(plates),
                        kind=kind,
                        driver=f"机手{kind}",
                        cargo="",
                        site=site,
                        owner_unit=unit,
                        data_source=DEMO,
                    )
                )
            )
        kinds = ["muddy_wheels", "uncovered_load", "bare_soil", "spill", "no_helmet", "night_work"]
        for site, _route, cameras in sites:
            for n in range(rng.randint(3, 6)):
                cam = cameras[1] if cameras and rng.random() < 0.7 else None
                kind = kinds[rng.randrange(len(kinds))]
                town.saved(
                    ViolationEvent(
                        site=site,
                        kind=kind,
                        source="edge_ai" if cam and cam.edge_ai else "staff",
                        occurred_at=now - dt.timedelta(hours=rng.randint(1, 240), minutes=rng.randint(0, 59)),
                        camera=cam,
                        confidence=round(rng.uniform(0.7, 0.98), 2) if cam and cam.edge_ai else None,
                        vehicle=vehicles[rng.randrange(len(vehicles))]
                        if kind in ("muddy_wheels", "uncovered_load", "spill") and vehicles
                        else None,
                        snapshot_url="/static/environment/snapshot-demo.svg",
                        status=["open", "warned", "resolved"][n % 3],
                        geometry=site.geometry.centroid,
                        description="演示违规事件",
                        owner_unit=unit,
                        data_source=DEMO,
                    )
                )
    # Four years of synthetic daily values (demo), then the simulated days from the real readings.
    stations = devices["air_station"]
    first = dt.date(today.year - 3, 1, 1)
    last = today - dt.timedelta(days=4)
    days = (last - first).days + 1
    prof = aqi.get_profile(profile_code())
    if stations and days > 0:
        np_rng = np.random.default_rng(town.spec.seed + 808)
        doy = np.array([(first + dt.timedelta(days=d)).timetuple().tm_yday for d in range(days)])
        winter = 1 + 0.55 * np.cos((doy - 15) / 365 * 2 * np.pi)
        summer = 1 + 0.45 * np.cos((doy - 195) / 365 * 2 * np.pi)
        year_factor = np.array(
            [1.12 - 0.04 * ((first + dt.timedelta(days=d)).year - first.year) for d in range(days)]
        )
        shape = (len(stations) + 1, days)
        base = {
            "pm25": 26 * winter * year_factor * np_rng.lognormal(0, 0.35, shape),
            "pm10": 48 * winter * year_factor * np_rng.lognormal(0, 0.3, shape),
            "so2": 7 * winter * np_rng.lognormal(0, 0.3, shape),
            "no2": 24 * winter * np_rng.lognormal(0, 0.3, shape),
            "co": 0.6 * winter * np_rng.lognormal(0, 0.25, shape),
            "o3": 95 * summer * np_rng.lognormal(0, 0.25, shape),
        }
        base = {k: np.round(v, 1 if k == "co" else 0) for k, v in base.items()}
        base["pm10"] = np.maximum(base["pm10"], base["pm25"] + 3)
        missing = np_rng.random(shape) < 0.015  # a few invalid days, as stations have
        hourly = {k: np.repeat(np.where(missing, np.nan, v)[..., None], 24, axis=-1) for k, v in base.items()}
        result = aqi.daily_aqi_array(hourly, prof)
        from zhili.environment.analytics import _row

        owners = [s.pk for s in stations] + [None]
        rows = []
        for i, owner in enumerate(owners):
            for d in range(days):
                row = _row(owner, first + dt.timedelta(days=d), prof, result, i, d)
                row.data_source = DEMO
                row.owner_unit = unit
                rows.append(row)
        with transaction.atomic():
            DailyAQI.objects.bulk_create(rows, batch_size=2000)
        town.counts["environment.DailyAQI"] += len(rows)
    n = compute_daily_aqi(today - dt.timedelta(days=3), today)
    DailyAQI.objects.filter(date__gte=today - dt.timedelta(days=3)).update(data_source=DEMO)
    town.counts["environment.DailyAQI"] += n
    write(f"    {len(sites)} sites, {len(vehicles)} vehicles, daily AQI {first}…{today}")


def delete_environment_demo(write):
    from zhili.environment.models import (
        AllowedRoute,
        AttainmentTarget,
        Camera,
        ConstructionSite,
        DailyAQI,
        DustFactor,
        SiteVisit,
        Vehicle,
        ViolationEvent,
    )
    from zhili.iot.models import Alarm, Rule

    with transaction.atomic():
        Alarm.objects.filter(rule__code=AQI_RULE).delete()
        Rule.objects.filter(code=AQI_RULE, data_source=DEMO).delete()
        for model in (
            SiteVisit,
            ViolationEvent,
            Vehicle,
            Camera,
            AllowedRoute,
            ConstructionSite,
            DailyAQI,
            DustFactor,
            AttainmentTarget,
        ):
            model.objects.filter(data_source=DEMO).delete()
