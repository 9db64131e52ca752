"""Generic CRUD/import/export/API tests of the environment models (data only; see core.testing)."""

import datetime

import pytest
import shapely
from shapely.geometry import LineString, box

from zhili.core.testing import RegisteredModelTests
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
from zhili.environment.tests.factories import make_camera, make_device, make_route, make_site, make_vehicle

SQUARE = shapely.to_geojson(box(119.95, 30.25, 119.952, 30.252))
LINE = shapely.to_geojson(LineString([(119.95, 30.25), (119.96, 30.25)]))


@pytest.mark.req("R-5.4.1")
class TestConstructionSite(RegisteredModelTests):
    model = ConstructionSite
    form_data = {
        "code": "SITE-NEW",
        "name": "新工地",
        "project": "安置房工程",
        "contractor": "某建工集团",
        "start_date": "2026-03-01",
        "status": "active",
        "geometry": SQUARE,
        "noise_day_limit": 70,
        "noise_night_limit": 55,
        "night_lmax_excess": 15,
        "pm10_limit": 150,
        "dwell_minutes": 5,
    }
    update_data = {"name": "改名工地"}

    def make_object(self):
        return make_site()

    def csv_rows(self):
        base = dict(self.form_data)
        return [dict(base, code="SITE-I1", name="导入一"), dict(base, code="SITE-I2", name="导入二")]

    def test_end_before_start_is_a_field_error(self):
        self.login(self.admin)
        data = dict(self.form_data, code="SITE-BAD", end_date="2026-01-01")
        response = self.client.post(self.api_url(), data, content_type="application/json")
        assert response.status_code == 400
        assert "end_date" in response.json()


@pytest.mark.req("R-5.4.3")
class TestAllowedRoute(RegisteredModelTests):
    model = AllowedRoute
    update_data = {"name": "新路线"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.site = make_site()

    @property
    def form_data(self):
        return {"site": self.site.pk, "name": "北线", "tolerance_m": 50, "geometry": LINE}

    def make_object(self):
        return make_route(site=self.site)

    def csv_rows(self):
        return [
            {"site": self.site.code, "name": "甲线", "tolerance_m": 30, "geometry": LINE},
            {"site": self.site.code, "name": "乙线", "tolerance_m": 40, "geometry": LINE},
        ]


@pytest.mark.req("R-5.4.2")
class TestCamera(RegisteredModelTests):
    model = Camera
    update_data = {"name": "后门"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.site = make_site()

    @property
    def form_data(self):
        return {"site": self.site.pk, "name": "前门", "stream_url": "rtsp://127.0.0.1/a", "edge_ai": True}

    def make_object(self):
        return make_camera(site=self.site)

    def csv_rows(self):
        return [
            {
                "site": self.site.code,
                "name": "一号",
                "stream_url": "rtsp://127.0.0.1/1",
                "edge_ai": "true",
                "longitude": 119.94,
                "latitude": 30.24,
            },
            {
                "site": self.site.code,
                "name": "二号",
                "stream_url": "http://127.0.0.1/2.flv",
                "edge_ai": "false",
                "longitude": 119.941,
                "latitude": 30.241,
            },
        ]

    def test_stream_url_scheme_is_checked(self):
        self.login(self.admin)
        data = dict(self.form_data, stream_url="ftp://x")
        response = self.client.post(self.api_url(), data, content_type="application/json")
        assert response.status_code == 400
        assert "stream_url" in response.json()


@pytest.mark.req("R-5.4.3")
class TestVehicle(RegisteredModelTests):
    model = Vehicle
    form_data = {"plate": "浙A12345", "kind": "muck_truck", "driver": "李四", "cargo": "渣土"}
    update_data = {"cargo": "砂石"}

    def make_object(self):
        return make_vehicle()

    def csv_rows(self):
        return [
            {"plate": "浙B00001", "kind": "loader", "driver": "王五"},
            {"plate": "浙B00002", "kind": "paver", "driver": "赵六"},
        ]


@pytest.mark.req("R-5.4.2", "R-5.4.3")
class TestViolationEvent(RegisteredModelTests):
    model = ViolationEvent
    update_data = {"status": "resolved"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.site = make_site()

    @property
    def form_data(self):
        return {
            "site": self.site.pk,
            "kind": "muddy_wheels",
            "occurred_at": "2026-11-20T10:00:00+08:00",
            "source": "staff",
            "status": "open",
        }

    def make_object(self):
        return ViolationEvent.objects.create(
            site=self.site,
            kind="spill",
            occurred_at=datetime.datetime(2026, 11, 20, 9, tzinfo=datetime.UTC),
            source="edge_ai",
        )

    def csv_rows(self):
        return [
            {
                "site": self.site.code,
                "kind": "spill",
                "occurred_at": "2026-11-20 08:00",
                "source": "staff",
                "longitude": 119.94,
                "latitude": 30.24,
            },
            {
                "site": self.site.code,
                "kind": "bare_soil",
                "occurred_at": "2026-11-20 09:00",
                "source": "staff",
                "longitude": 119.94,
                "latitude": 30.24,
            },
        ]


@pytest.mark.req("R-5.1.2")
class TestDailyAQI(RegisteredModelTests):
    model = DailyAQI
    form_data = {"date": "2026-11-01", "profile": "HJ633-2026", "aqi": 60, "level": 2, "pm25": 40}
    update_data = {"aqi": 61}

    def make_object(self):
        return DailyAQI.objects.create(device=make_device(), date=datetime.date(2026, 11, 2), aqi=40, level=1)

    def csv_rows(self):
        return [
            {"date": "2026-10-01", "profile": "HJ633-2026", "aqi": 45, "level": 1},
            {"date": "2026-10-02", "profile": "HJ633-2026", "aqi": 75, "level": 2},
        ]


@pytest.mark.req("R-5.1.4")
class TestAttainmentTarget(RegisteredModelTests):
    model = AttainmentTarget
    form_data = {"year": 2026, "pollutant": "pm25", "target": 30}
    update_data = {"target": 28}

    def make_object(self):
        return AttainmentTarget.objects.create(year=2025, pollutant="pm10", target=60)

    def csv_rows(self):
        return [
            {"year": 2027, "pollutant": "pm25", "target": 29},
            {"year": 2027, "pollutant": "good_days", "target": 85},
        ]


@pytest.mark.req("R-5.1.5")
class TestDustFactor(RegisteredModelTests):
    model = DustFactor
    form_data = {"kind": "road_distance", "grades": "50:100; 200:60; *:0", "weight": 30, "radius_m": 500}
    update_data = {"weight": 20}

    def make_object(self):
        return DustFactor.objects.create(kind="pm10", grades="50:0; 150:60; *:100", weight=40)

    def csv_rows(self):
        return [
            {"kind": "site_distance", "grades": "100:100; 500:50; *:0", "weight": 30, "radius_m": 500},
            {"kind": "wind_speed", "grades": "2:20; 5:60; *:100", "weight": 10, "radius_m": 500},
        ]

    def test_bad_grades_are_a_field_error(self):
        self.login(self.admin)
        for grades in ("abc", "50:100; 20:50; *:0", "50:100; 200:60", "50:120; *:0"):
            data = dict(self.form_data, grades=grades)
            response = self.client.post(self.api_url(), data, content_type="application/json")
            assert response.status_code == 400, grades
            assert "grades" in response.json()


@pytest.mark.req("R-5.4.3")
class TestSiteVisit(RegisteredModelTests):
    model = SiteVisit
    update_data = {"dwell_minutes": 12}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.site = make_site()
        cls.vehicle = make_vehicle(site=cls.site)

    @property
    def form_data(self):
        return {
            "vehicle": self.vehicle.pk,
            "site": self.site.pk,
            "entered_at": "2026-11-20T08:00:00+08:00",
            "left_at": "2026-11-20T08:20:00+08:00",
            "dwell_minutes": 20,
        }

    def make_object(self):
        return SiteVisit.objects.create(
            vehicle=self.vehicle,
            site=self.site,
            entered_at=datetime.datetime(2026, 11, 19, 1, tzinfo=datetime.UTC),
            left_at=datetime.datetime(2026, 11, 19, 2, tzinfo=datetime.UTC),
            dwell_minutes=60,
        )

    def csv_rows(self):
        return [
            {
                "vehicle": self.vehicle.plate,
                "site": self.site.code,
                "entered_at": "2026-11-18 08:00",
                "left_at": "2026-11-18 08:30",
                "dwell_minutes": 30,
            },
            {
                "vehicle": self.vehicle.plate,
                "site": self.site.code,
                "entered_at": "2026-11-18 10:00",
                "left_at": "2026-11-18 10:30",
                "dwell_minutes": 30,
            },
        ]


def test_device_factory_works(db):
    assert make_device().device_type == "air_station"
