"""Small, valid spine objects for tests (not demo data: they exist only inside a test database)."""

import itertools

from shapely.geometry import Point, box

from zhili.core.identifiers import id_check_char
from zhili.places.models import Building, Division, Grid, House, Road

_seq = itertools.count(1)

TOWN_BOX = box(119.90, 30.20, 120.00, 30.30)


def make_division(code=None, name="测试镇", level="town", parent=None, geometry=TOWN_BOX):
    n = next(_seq)
    return Division.objects.create(
        code=code or f"330106{n:06d}", name=f"{name}{n}", level=level, parent=parent, geometry=geometry
    )


def make_grid(division=None, code=None, level=3, geometry=None, parent=None):
    n = next(_seq)
    division = division or make_division()
    return Grid.objects.create(
        code=code or f"G{n:05d}",
        name=f"第{n}网格",
        level=level,
        division=division,
        parent=parent,
        geometry=geometry or box(119.91, 30.21, 119.95, 30.25),
    )


def make_building(grid=None, code=None, lon=119.93, lat=30.23):
    n = next(_seq)
    grid = grid or make_grid()
    return Building.objects.create(
        code=code or f"B{n:06d}",
        name=f"{n}号楼",
        address=f"测试路{n}号",
        division=grid.division,
        grid=grid,
        floors=3,
        geometry=Point(lon, lat).buffer(0.0001, cap_style="square"),
    )


def make_house(building=None, room=None):
    n = next(_seq)
    building = building or make_building()
    house = House(building=building, unit="1", floor=1, room=room or f"{100 + n}")
    house.clean()
    house.save()
    return house


def make_road(code=None):
    from shapely.geometry import LineString

    n = next(_seq)
    return Road.objects.create(
        name=f"测试路{n}", code=code or f"R{n:04d}", geometry=LineString([(119.91, 30.21), (119.92, 30.22)])
    )


def make_id_number(birth="19800101", seq=None, region="330106") -> str:
    """Return a valid GB 11643 number (odd sequence = male)."""
    seq = seq if seq is not None else next(_seq) % 999 + 1
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + id_check_char(first17)


def make_water_body(code=None):
    from zhili.places.models import WaterBody

    n = next(_seq)
    return WaterBody.objects.create(
        code=code or f"W{n:04d}", name=f"测试塘{n}", kind="pond", geometry=Point(119.94, 30.24).buffer(0.0003)
    )
