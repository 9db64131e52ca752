"""Small, valid environment objects for tests (they exist only inside a test database)."""

import datetime
import itertools

from shapely.geometry import LineString, Point, box

from zhili.environment.models import AllowedRoute, Camera, ConstructionSite, Vehicle
from zhili.iot.models import Device

_seq = itertools.count(1)

SITE_BOX = box(119.940, 30.240, 119.944, 30.243)


def make_device(device_type="air_station", lon=119.93, lat=30.23, code=None, grid=None):
    n = next(_seq)
    return Device.objects.create(
        code=code or f"ENV-T-{n:04d}",
        name=f"测试设备{n}",
        device_type=device_type,
        geometry=Point(lon, lat),
        grid=grid,
    )


def make_site(code=None, geometry=SITE_BOX, **extra):
    n = next(_seq)
    fields = {
        "code": code or f"SITE-{n:04d}",
        "name": f"测试工地{n}",
        "project": "道路改造工程",
        "contractor": "某建设公司",
        "start_date": datetime.date(2026, 1, 1),
        "geometry": geometry,
        **extra,
    }
    return ConstructionSite.objects.create(**fields)


def make_route(site=None, geometry=None):
    site = site or make_site()
    return AllowedRoute.objects.create(
        site=site, name="运输路线", geometry=geometry or LineString([(119.944, 30.2415), (119.960, 30.2415)])
    )


def make_camera(site=None):
    site = site or make_site()
    return Camera.objects.create(site=site, name="大门摄像头", stream_url="rtsp://127.0.0.1/cam1")


def make_vehicle(site=None, plate=None, kind="muck_truck", gps_device=None):
    n = next(_seq)
    return Vehicle.objects.create(
        plate=plate or f"浙A{n:05d}", kind=kind, site=site, driver="张三", cargo="渣土", gps_device=gps_device
    )
