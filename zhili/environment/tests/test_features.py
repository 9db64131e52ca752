"""Environment features end to end: AQI API, daily AQI from the readings store, statistics,
real-time AQI, dust scores and their explanation, track attribution and route compliance,
the aqi_category rule kind, the pages and the demo builder."""

import datetime as dt
import re
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from shapely.geometry import LineString, box

from zhili.environment import analytics, aqi, dust, tracks
from zhili.environment.models import (
    AttainmentTarget,
    DailyAQI,
    DustFactor,
    SiteVisit,
    ViolationEvent,
)
from zhili.environment.rules import evaluate_aqi_category
from zhili.environment.tests.factories import make_device, make_route, make_site, make_vehicle
from zhili.iot import store

TZ = timezone.get_fixed_timezone(480)


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser("env_admin", password="x")


@pytest.fixture
def admin_client(admin):
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def nobody_client(db):
    user = get_user_model().objects.create_user("env_nobody", password="x")
    client = Client()
    client.force_login(user)
    return client


def local(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


# --------------------------------------------------------------------------- REST calculator


@pytest.mark.req("R-5.1.2", "R-5.1.3")
def test_api_computes_daily_aqi_for_both_profiles(admin_client):
    payload = {"profile": "HJ633-2026", "kind": "daily", "pm25_24h": "75", "pm10_24h": 130, "o3_8h": 120}
    r = admin_client.post("/environment/api/aqi/", payload, content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    # 2026 PM2.5 75 → 100 + 50/55·15 = 113.6 → 114
    assert body["computed_aqi"] == 114
    assert body["aqi"] == 114  # > 100: published although SO2, NO2, CO are missing
    assert body["primary_pollutants"] == ["pm25_24h"]
    assert body["category"] == "轻度污染" and body["colour"] == "#FF7E00"
    assert sorted(body["missing"]) == ["co", "no2", "so2"]
    payload = {**payload, "profile": "HJ633-2012", "o3_1h": 150}
    body = admin_client.post("/environment/api/aqi/", payload, content_type="application/json").json()
    assert body["computed_aqi"] == 100  # 2012 PM2.5 75 → 100; PM10 130 → 90
    assert body["aqi"] is None  # ≤ 100 with pollutants missing: NA


def test_api_field_errors(admin_client, nobody_client, client):
    bad = admin_client.post(
        "/environment/api/aqi/", {"kind": "daily", "pm25_24h": -1}, content_type="application/json"
    )
    assert bad.status_code == 400 and "pm25_24h" in bad.json()  # negative
    bad = admin_client.post(
        "/environment/api/aqi/",
        {"kind": "daily", "pm25_24h": 5, "o3_1h": 100},
        content_type="application/json",
    )
    assert bad.status_code == 400 and list(bad.json()) == ["o3_1h"]  # not a 2026 daily indicator
    empty = admin_client.post(
        "/environment/api/aqi/", {"profile": "HJ633-2026"}, content_type="application/json"
    )
    assert empty.status_code == 400 and "non_field_errors" in empty.json()
    wrong = admin_client.post(
        "/environment/api/aqi/", {"profile": "X", "pm25_24h": 1}, content_type="application/json"
    )
    assert wrong.status_code == 400 and "profile" in wrong.json()
    assert client.post(
        "/environment/api/aqi/", {"pm25_24h": 1}, content_type="application/json"
    ).status_code in (401, 403)
    assert (
        nobody_client.post(
            "/environment/api/aqi/", {"pm25_24h": 1}, content_type="application/json"
        ).status_code
        == 200
    )


def test_api_is_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    assert "/environment/api/aqi/" in schema["paths"]
    operation = schema["paths"]["/environment/api/aqi/"]["post"]
    assert operation["operationId"] == "environment_aqi_calculate"


# --------------------------------------------------------------------------- daily AQI from the store


def _write_day(device, day, values, hours=range(24)):
    rows = []
    for hour in hours:
        ts = local(day, hour, 30)
        for metric, value in values.items():
            v = value(hour) if callable(value) else value
            rows.append((device.pk, metric, ts, v))
    store.write_readings(rows)


@pytest.mark.req("R-5.1.2", "R-5.1-fusion")
def test_compute_daily_aqi_from_hourly_readings(db):
    a = make_device()
    b = make_device()
    day1 = dt.date(2026, 11, 1)
    day2 = dt.date(2026, 11, 2)
    clean = {"so2": 8, "no2": 30, "co": 0.6, "pm10": 60, "pm25": 30, "o3": lambda h: 40 + 10 * (h % 12)}
    _write_day(a, day1, clean)
    _write_day(b, day1, {**clean, "pm25": 90})
    # day 2: station a has only 19 valid PM2.5 hours → PM2.5 invalid, AQI published only if > 100
    _write_day(a, day2, {k: v for k, v in clean.items() if k != "pm25"})
    _write_day(a, day2, {"pm25": 30}, hours=range(19))
    _write_day(b, day2, clean)
    rows = analytics.compute_daily_aqi(day1, day2)
    assert rows == 6  # 2 stations + the town, 2 days
    r = DailyAQI.objects.get(device=a, date=day1)
    expected = aqi.daily_report(
        {
            "so2_24h": 8,
            "no2_24h": 30,
            "co_24h": 0.6,
            "pm10_24h": 60,
            "pm25_24h": 30,
            "o3_8h": aqi.daily_max_8h([40 + 10 * (h % 12) for h in range(24)]),
        }
    )
    assert r.aqi == expected.aqi
    assert r.pm25 == 30
    assert DailyAQI.objects.get(device=b, date=day1).aqi == aqi.iaqi("pm25_24h", 90)
    assert DailyAQI.objects.get(device=b, date=day1).primary_pollutants == "PM2.5"
    invalid = DailyAQI.objects.get(device=a, date=day2)
    assert invalid.pm25 is None
    assert invalid.aqi is None and invalid.computed_aqi is not None and invalid.computed_aqi <= 100
    town = DailyAQI.objects.get(device__isnull=True, date=day1)
    assert town.pm25 == 60  # mean of the stations' hourly values
    # recomputation replaces, never duplicates
    analytics.compute_daily_aqi(day1, day2)
    assert DailyAQI.objects.filter(date__in=[day1, day2]).count() == 6


@pytest.mark.req("R-5.1.3")
def test_realtime_aqi_from_the_latest_hour(db):
    station = make_device()
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    store.write_readings(
        [
            (station.pk, m, now, v)
            for m, v in {"pm25": 80, "pm10": 100, "so2": 10, "no2": 50, "co": 0.8, "o3": 120}.items()
        ]
    )
    live = analytics.realtime(now=now)
    report = live["stations"][station.pk]
    # 2026: PM2.5 1-h uses the 24-h column: 100 + 50/55·20 = 118.2 → 119
    assert report["computed_aqi"] == aqi.iaqi("pm25_1h", 80) == 119
    assert report["primary_pollutants"] == ["pm25_1h"]
    assert live["town"]["computed_aqi"] == 119


def _daily(day, value, device=None, **conc):
    level = aqi.category_for(value).level if value is not None else 0
    return DailyAQI(device=device, date=day, aqi=value, computed_aqi=value, level=level, **conc)


@pytest.mark.req("R-5.1.2")
def test_monthly_good_days_and_yearly_shares(db):
    rows = []
    for d in range(1, 31):
        rows.append(_daily(dt.date(2025, 11, d), 60 if d % 3 else 130))  # 20 good, 10 light
        rows.append(_daily(dt.date(2024, 11, d), 60 if d % 2 else 160))  # 15 good
    rows.append(_daily(dt.date(2025, 10, 1), None))  # NA day: not a valid day
    DailyAQI.objects.bulk_create(rows)
    g = analytics.monthly_good_days(2025, 11)
    assert g["this_year"][-1] == 20 and g["last_year"][-1] == 15
    assert g["this_year"][:3] == [1, 2, 2]
    assert g["change"] == 5
    s = analytics.yearly_shares(2025)
    shares = {c["level"]: c for c in s["categories"]}
    assert s["valid_days"] == 30
    assert shares[2]["days"] == 20 and shares[2]["share"] == pytest.approx(66.7)
    assert shares[3]["days"] == 10
    assert shares[2]["change"] == pytest.approx(66.7 - 50.0)
    assert shares[4]["last_year_days"] == 15
    assert s["good_ratio"] == pytest.approx(66.7)
    # the current month stops at today and compares with last year to the same day
    today = timezone.localdate()
    current = analytics.monthly_good_days(today.year, today.month)
    assert all(v is None for v in current["this_year"][today.day :])
    last = analytics.monthly_good_days(today.year - 1, today.month)
    assert current["last_year_to_date"] == last["this_year"][today.day - 1]


@pytest.mark.req("R-5.1.4")
def test_attainment_uses_hj663_statistics_and_targets(db):
    rows = []
    start = dt.date(2025, 1, 1)
    for d in range(365):
        day = start + dt.timedelta(days=d)
        rows.append(
            _daily(
                day,
                50,
                pm25=float(d % 50),
                pm10=50.0,
                so2=5.0,
                no2=20.0,
                co=float(d % 20) / 10,
                o3_8h=float(d),
            )
        )
    DailyAQI.objects.bulk_create(rows)
    AttainmentTarget.objects.create(year=2025, pollutant="pm25", target=20)
    AttainmentTarget.objects.create(year=2025, pollutant="good_days", target=90)
    result = analytics.attainment(2025)
    assert [y["year"] for y in result["years"]] == [2022, 2023, 2024, 2025]
    year = result["years"][-1]
    pm25 = [float(d % 50) for d in range(365)]
    assert year["statistics"]["pm25"] == pytest.approx(sum(pm25) / 365, abs=1e-3)
    assert year["statistics"]["co"] == pytest.approx(
        np.percentile([float(d % 20) / 10 for d in range(365)], 95), abs=1e-3
    )
    assert year["statistics"]["o3"] == pytest.approx(np.percentile(range(365), 90), abs=1e-3)
    assert year["valid"]["pm25"] is True
    assert result["years"][0]["valid"]["pm25"] is False
    assert result["gaps"]["pm25"] == pytest.approx(year["statistics"]["pm25"] - 20, abs=1e-3)
    assert result["gaps"]["good_days"] == pytest.approx(90 - 100)
    assert year["composite"] is not None


@pytest.mark.req("R-5.1.3")
def test_ranking_by_community(db):
    from zhili.places.tests.factories import make_division, make_grid

    town = make_division()
    east = make_division(name="东村", level="village", parent=town)
    west = make_division(name="西社区", level="community", parent=town)
    a = make_device(grid=make_grid(division=east))
    b = make_device(grid=make_grid(division=west))
    day = dt.date(2026, 11, 1)
    DailyAQI.objects.bulk_create([_daily(day, 40, a, pm25=20.0), _daily(day, 120, b, pm25=90.0)])
    ranking = analytics.ranking(day, day)
    assert [r["division"] for r in ranking] == [east.name, west.name]
    assert ranking[0]["rank"] == 1 and ranking[1]["good_ratio"] == 0


# --------------------------------------------------------------------------- dust


@pytest.mark.req("R-5.1.5")
def test_dust_score_and_explanation(db):
    from zhili.places.models import Road

    Road.objects.create(
        name="主干道",
        code="R-1",
        road_class="arterial",
        geometry=LineString([(119.93, 30.20), (119.93, 30.30)]),
    )
    make_site(geometry=box(119.940, 30.240, 119.944, 30.243))
    DustFactor.objects.create(kind="road_distance", grades="50:100; 300:50; *:0", weight=1)
    DustFactor.objects.create(kind="site_distance", grades="0:100; 500:40; *:0", weight=3)
    monitor = make_device("dust_monitor", lon=119.9415, lat=30.2415)
    store.write_readings([(monitor.pk, "pm10", timezone.now(), 200.0)])
    DustFactor.objects.create(kind="pm10", grades="150:0; *:100", weight=1)
    inside = dust.score_at(119.942, 30.2415)
    parts = {p["factor"]: p for p in inside["factors"]}
    assert parts["site_distance"]["value"] == 0 and parts["site_distance"]["score"] == 100
    # 119.942 is ~1150 m east of the road
    assert parts["road_distance"]["score"] == 0
    assert parts["pm10"]["value"] == 200.0 and parts["pm10"]["score"] == 100
    assert inside["score"] == pytest.approx((0 * 1 + 100 * 3 + 100 * 1) / 5)
    assert sum(p["contribution"] for p in inside["factors"]) == pytest.approx(inside["score"], abs=0.05)
    far = dust.score_at(119.99, 30.29)
    assert far["score"] < inside["score"]
    result = dust.surface(cell_m=250, level=60)
    assert result["cells"]
    assert result["areas"]["features"], "cells around the site score ≥ 60"
    # the vectorised surface agrees with the per-point explanation
    lon, lat, score = result["cells"][len(result["cells"]) // 2]
    assert dust.score_at(lon, lat)["score"] == pytest.approx(score, abs=0.11)
    monitors = dust.monitor_scores()
    assert monitors[0]["device"] == monitor.pk


def test_dust_grades_parse():
    from zhili.environment.models import parse_grades

    assert parse_grades("50:100; 200:60；*:0") == [(50.0, 100.0), (200.0, 60.0), (None, 0.0)]
    for bad in ("", "50", "a:1;*:0", "50:1; 40:2; *:0", "50:1", "*:0; 50:1", "50:101;*:0"):
        with pytest.raises(ValueError):  # noqa: PT011 - each message is checked in the API test
            parse_grades(bad)


# --------------------------------------------------------------------------- tracks


def _fixes(points, start, step_s=60):
    return [tracks.Fix(start + i * step_s * 1000, lon, lat) for i, (lon, lat) in enumerate(points)]


@pytest.mark.req("R-5.4.3")
def test_site_attribution_needs_dwell_time():
    site = box(119.940, 30.240, 119.944, 30.243)
    outside = (119.935, 30.2415)
    inside = (119.942, 30.2415)
    passing = _fixes([outside, inside, inside, outside], 0)  # 2 minutes inside
    assert tracks.site_visits(passing, [(1, site, 5)]) == []
    dwelling = _fixes([outside] + [inside] * 11 + [outside], 0)  # 10 minutes inside
    visits = tracks.site_visits(dwelling, [(1, site, 5)])
    assert len(visits) == 1 and visits[0].dwell_minutes == 10
    two = _fixes([inside] * 6 + [outside] * 3 + [inside] * 7, 0)
    assert [
        round(v.dwell_minutes) for v in tracks.site_visits(two, [(1, site, 5), (2, box(0, 0, 1, 1), 5)])
    ] == [5, 6]


@pytest.mark.req("R-5.4.3")
def test_route_compliance_distance():
    route = LineString([(119.944, 30.2415), (119.960, 30.2415)])
    on_route = _fixes([(119.946, 30.2417), (119.950, 30.2413)], 0)
    distance, _fix = tracks.route_check(on_route, route, 50)
    assert distance < 30
    off = _fixes([(119.946, 30.2417), (119.950, 30.2445)], 0)  # ~330 m north
    distance, fix = tracks.route_check(off, route, 50)
    assert 300 < distance < 360 and fix.lat == 30.2445
    # fixes inside an excluded polygon (a site) do not count
    distance, _fix = tracks.route_check(off, route, 50, exclude=[box(119.949, 30.244, 119.951, 30.245)])
    assert distance < 30


@pytest.mark.req("R-5.4.3", "R-5.1-fusion")
def test_check_vehicle_from_gps_readings_creates_visits_and_a_violation(admin):
    site = make_site(geometry=box(119.940, 30.240, 119.944, 30.243))
    route = make_route(site=site)
    gps = make_device("vehicle_gps")
    truck = make_vehicle(site=site, gps_device=gps)
    truck.route = route
    truck.save()
    start = timezone.now() - dt.timedelta(hours=2)
    points = [(119.942, 30.2415)] * 10 + [(119.946, 30.2416), (119.950, 30.2450), (119.955, 30.2416)]
    rows = []
    for i, (lon, lat) in enumerate(points):
        ts = start + dt.timedelta(minutes=i)
        rows += [(gps.pk, "lon", ts, lon), (gps.pk, "lat", ts, lat)]
    store.write_readings(rows)
    summary = tracks.check_vehicle(truck, start - dt.timedelta(minutes=1), timezone.now(), admin)
    assert summary["fixes"] == 13
    assert len(summary["visits"]) == 1
    assert SiteVisit.objects.get(vehicle=truck).dwell_minutes == 9
    event = ViolationEvent.objects.get(vehicle=truck, kind="route_deviation")
    assert event.source == "system" and event.status == "warned"
    assert summary["off_route_m"] > 300
    # a second check in the same period does not duplicate
    tracks.check_vehicle(truck, start - dt.timedelta(minutes=1), timezone.now(), admin)
    assert ViolationEvent.objects.filter(vehicle=truck, kind="route_deviation").count() == 1
    assert SiteVisit.objects.filter(vehicle=truck).count() == 1


@pytest.mark.req("R-5.4.3")
def test_gps_readings_are_checked_by_the_reading_listener(db, django_capture_on_commit_callbacks):
    site = make_site(geometry=box(119.940, 30.240, 119.944, 30.243))
    gps = make_device("vehicle_gps")
    truck = make_vehicle(site=site, gps_device=gps)
    tracks._gps_vehicles["loaded"] = 0.0  # the device → vehicle cache is per process
    tracks._last_check.pop(truck.pk, None)
    start = timezone.now() - dt.timedelta(minutes=30)
    rows = []
    for i in range(12):
        ts = start + dt.timedelta(minutes=i)
        rows += [(gps.pk, "lon", ts, 119.942), (gps.pk, "lat", ts, 30.2415)]
    with django_capture_on_commit_callbacks(execute=True):
        store.write_readings(rows)
    visit = SiteVisit.objects.get(vehicle=truck, site=site)
    assert visit.dwell_minutes == 11


@pytest.mark.req("R-5.4.2")
def test_new_violation_warns_the_site_unit(admin, django_capture_on_commit_callbacks):
    from unittest import mock

    site = make_site()
    with mock.patch("zhili.core.notices.notify") as notify, django_capture_on_commit_callbacks(execute=True):
        ViolationEvent.objects.create(
            site=site, kind="muddy_wheels", source="edge_ai", occurred_at=timezone.now()
        )
    assert notify.call_count == 1
    recipients, title = notify.call_args.args
    assert admin in recipients
    assert "车轮带泥" in title or "Muddy" in title


# --------------------------------------------------------------------------- rule kind


@pytest.mark.req("R-5.1.1")
def test_aqi_category_rule_kind():
    from zhili.iot.rules import get_kind

    assert get_kind("aqi_category") is not None
    rule = SimpleNamespace(metric=SimpleNamespace(code="pm25"), params={"min_level": 3})
    verdict = evaluate_aqi_category(rule, None, [(1, 50.0), (2, 80.0)])
    assert verdict.breached and verdict.value == 119 and "轻度污染" in verdict.message
    assert not evaluate_aqi_category(rule, None, [(1, 60.0)]).breached  # IAQI 100: 良
    rule.params = {"min_level": 3, "profile": "HJ633-2012"}
    assert not evaluate_aqi_category(rule, None, [(1, 75.0)]).breached  # 2012: 75 → 100
    assert (
        evaluate_aqi_category(
            SimpleNamespace(metric=SimpleNamespace(code="noise_laeq"), params={}), None, [(1, 5.0)]
        )
        is None
    )


# --------------------------------------------------------------------------- pages


NO_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


@pytest.mark.req("R-0-ioc", "R-5.1.3")
def test_pages_render_without_inline_scripts_and_check_permissions(admin_client, nobody_client, db):
    station = make_device()
    site = make_site()
    pages = [
        "/environment/",
        "/environment/ioc/",
        "/environment/dust/",
        f"/environment/station/{station.pk}/",
        f"/environment/site/{site.pk}/dashboard/",
        "/environment/sites/",
        "/environment/aqi/calculator/",
    ]
    for url in pages:
        r = admin_client.get(url)
        assert r.status_code == 200, url
        assert not NO_INLINE_SCRIPT.search(r.content.decode()), url
        assert " onclick=" not in r.content.decode()
    for url in pages[:6]:
        assert nobody_client.get(url).status_code == 403, url
    data = admin_client.get("/environment/dashboard.json").json()
    assert set(data) >= {"realtime", "good_days", "shares", "ranking", "attainment", "trend", "categories"}
    assert nobody_client.get("/environment/dashboard.json").status_code == 403
    assert admin_client.get("/environment/dust/why.json", {"lon": "x"}).status_code == 400
    assert admin_client.get("/environment/dust/why.json", {"lon": 119.9, "lat": 30.2}).status_code == 200
    assert admin_client.get("/environment/sites.geojson").json()["features"][0]["properties"]["id"] == site.pk


def test_calculator_page_shows_result_and_field_errors(admin_client):
    r = admin_client.get(
        "/environment/aqi/calculator/", {"profile": "HJ633-2026", "kind": "daily", "pm25_24h": "35.5"}
    )
    assert "AQI NA" in r.content.decode()  # other pollutants missing and AQI ≤ 100
    assert ">52<" in r.content.decode()
    r = admin_client.get(
        "/environment/aqi/calculator/", {"profile": "HJ633-2026", "kind": "daily", "o3_1h": "5"}
    )
    assert r.status_code == 200 and "AQI NA" not in r.content.decode()


def test_recompute_and_check_tracks_need_permission_and_are_audited(admin_client, nobody_client, db):
    from zhili.audit.models import AuditEvent

    site = make_site()
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    assert nobody_client.post("/environment/aqi/recompute/", {"days": 2}).status_code == 403
    assert admin_client.post("/environment/aqi/recompute/", {"days": 2}).status_code == 302
    assert admin_client.post(f"/environment/site/{site.pk}/check-tracks/").status_code == 302
    types = [
        t
        for t in AuditEvent.objects.filter(pk__gt=last).order_by("pk").values_list("event_type", flat=True)
        if t.startswith(("access.", "environment."))
    ]
    assert types == ["access.denied", "environment.daily_aqi_recomputed", "environment.tracks_checked"]


def test_viewer_sees_dashboard(db):
    user = get_user_model().objects.create_user("env_viewer", password="x")
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(user)
    assert client.get("/environment/").status_code == 200
    assert client.post("/environment/aqi/recompute/").status_code == 403


# --------------------------------------------------------------------------- demo


def test_demo_builder(db):
    from zhili.environment.demo import build_environment_demo, delete_environment_demo
    from zhili.environment.models import ConstructionSite, Vehicle

    for t in (
        "air_station",
        "air_station",
        "dust_monitor",
        "dust_monitor",
        "noise_meter",
        "weather_station",
        "vehicle_gps",
    ):
        make_device(t)
    counts = Counter()

    def saved(obj):
        obj.save()
        counts[obj._meta.label] += 1
        return obj

    town = SimpleNamespace(
        spec=SimpleNamespace(seed=7), government=None, saved=saved, counts=counts, now=timezone.now()
    )
    messages = []
    build_environment_demo(town, messages.append)
    assert ConstructionSite.objects.filter(data_source="demo").count() == 2
    assert Vehicle.objects.filter(kind="muck_truck", gps_device__isnull=False).count() == 1
    assert ViolationEvent.objects.filter(data_source="demo").exists()
    from zhili.iot.models import Rule

    assert Rule.objects.get(code="air-aqi-category").kind == "aqi_category"
    assert DailyAQI.objects.filter(device__isnull=True, aqi__isnull=False).count() > 1000
    year = timezone.localdate().year
    assert analytics.yearly_shares(year - 1)["valid_days"] > 300
    assert analytics.attainment(year)["years"][1]["valid"]["pm25"]
    delete_environment_demo(messages.append)
    assert not ConstructionSite.objects.exists() and not DailyAQI.objects.exists()
