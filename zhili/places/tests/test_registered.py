"""Generic CRUD/import/export/API tests of the place models (data only; see core.testing)."""

import pytest
import shapely
from shapely.geometry import box

from zhili.core.testing import RegisteredModelTests
from zhili.places.models import Building, Division, Grid, House, Road, WaterBody
from zhili.places.tests.factories import (
    make_building,
    make_division,
    make_grid,
    make_house,
    make_road,
    make_water_body,
)

SQUARE = shapely.to_geojson(box(119.93, 30.23, 119.931, 30.231))

pytestmark = [pytest.mark.req("R-0-elements"), pytest.mark.req("R-11.1")]


class TestDivision(RegisteredModelTests):
    model = Division
    form_data = {"code": "330106001001", "name": "桃源村", "level": "village", "geometry": SQUARE}
    update_data = {"name": "桃源新村"}

    def make_object(self):
        return make_division()

    def csv_rows(self):
        return [
            {"code": "330106009001", "name": "甲村", "level": "village", "geometry": SQUARE},
            {"code": "330106009002", "name": "乙社区", "level": "community", "geometry": ""},
        ]


@pytest.mark.req("R-8.1-grid")
class TestGrid(RegisteredModelTests):
    model = Grid
    update_data = {"name": "改名网格"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.division = make_division()

    @property
    def form_data(self):
        return {
            "code": "G-NEW-1",
            "name": "新网格",
            "level": 3,
            "division": self.division.pk,
            "geometry": SQUARE,
        }

    def make_object(self):
        return make_grid(division=self.division)

    def csv_rows(self):
        return [
            {"code": "G-IMP-1", "name": "导入网格一", "level": 3, "division": self.division.code},
            {"code": "G-IMP-2", "name": "导入网格二", "level": 3, "division": self.division.code},
        ]


@pytest.mark.req("R-7.1-house")
class TestBuilding(RegisteredModelTests):
    model = Building
    update_data = {"floors": 7}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.grid = make_grid()

    @property
    def form_data(self):
        return {
            "code": "B-NEW",
            "name": "新楼",
            "address": "测试路1号",
            "division": self.grid.division_id,
            "grid": self.grid.pk,
            "floors": 5,
            "use": "residential",
            "geometry": SQUARE,
        }

    def make_object(self):
        return make_building(grid=self.grid)

    def csv_rows(self):
        return [
            {
                "code": f"B-IMP-{i}",
                "address": f"导入路{i}号",
                "division": self.grid.division.code,
                "grid": self.grid.code,
                "floors": 2,
                "use": "residential",
                "geometry": SQUARE,
            }
            for i in range(3)
        ]


class TestHouse(RegisteredModelTests):
    model = House
    update_data = {"room": "909"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.building = make_building()

    @property
    def form_data(self):
        return {"building": self.building.pk, "unit": "2", "floor": 3, "room": "301", "use": "rented"}

    def make_object(self):
        return make_house(building=self.building)

    def csv_rows(self):
        return [
            {"building": self.building.code, "unit": "3", "floor": 1, "room": f"10{i}", "use": "owner"}
            for i in range(3)
        ]


class TestRoad(RegisteredModelTests):
    model = Road
    form_data = {
        "name": "新路",
        "code": "R-NEW",
        "road_class": "branch",
        "lanes": 2,
        "geometry": '{"type":"LineString","coordinates":[[119.91,30.21],[119.92,30.21]]}',
    }
    update_data = {"lanes": 4}

    def make_object(self):
        return make_road()

    def csv_rows(self):
        return [
            {
                "name": "导入路",
                "code": "R-IMP-1",
                "road_class": "branch",
                "lanes": 2,
                "geometry": "LINESTRING (119.91 30.21, 119.93 30.21)",
            },
            {"name": "导入路二", "code": "R-IMP-2", "road_class": "village", "lanes": 1},
        ]


@pytest.mark.req("R-0-twin")
class TestWaterBody(RegisteredModelTests):
    model = WaterBody
    form_data = {"code": "W-NEW", "name": "新塘", "kind": "pond", "geometry": SQUARE}
    update_data = {"name": "改名塘"}

    def make_object(self):
        return make_water_body()

    def csv_rows(self):
        return [
            {"code": "W-IMP-1", "name": "导入塘", "kind": "pond", "geometry": SQUARE},
            {"code": "W-IMP-2", "name": "导入河", "kind": "river", "geometry": ""},
        ]
