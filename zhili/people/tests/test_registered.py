"""Generic CRUD/import/export/API tests of the people models (data only; see core.testing)."""

import pytest

from zhili.core.testing import RegisteredModelTests
from zhili.people.models import FloatingRegistration, Household, Resident, Tag
from zhili.people.tests.factories import make_household, make_resident, make_tag
from zhili.places.tests.factories import make_grid, make_house, make_id_number

pytestmark = [pytest.mark.req("R-0-elements"), pytest.mark.req("R-7.1-people"), pytest.mark.req("R-11.1")]


class TestResident(RegisteredModelTests):
    model = Resident
    update_data = {"phone": "13900001111"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.grid = make_grid()
        cls.tag = make_tag("独居老人")

    @property
    def form_data(self):
        return {
            "name": "王芳",
            "id_number": make_id_number(birth="19520304", seq=2),
            "ethnicity": "汉族",
            "residence_type": "registered",
            "political_status": "masses",
            "status": "active",
            "grid": self.grid.pk,
            "tags": [self.tag.pk],
        }

    def api_data(self):
        return {**self.form_data, "id_number": make_id_number(birth="19610707", seq=5)}

    def make_object(self):
        return make_resident(grid=self.grid)

    def csv_rows(self):
        return [
            {
                "name": "李明",
                "id_number": make_id_number(birth="19900101", seq=11),
                "ethnicity": "汉族",
                "grid": self.grid.code,
                "tags": "独居老人",
                "residence_type": "registered",
                "political_status": "masses",
                "status": "active",
                "phone": "13800001234",
            },
            {
                "name": "赵丽",
                "id_number": make_id_number(birth="20010203", seq=12),
                "ethnicity": "回族",
                "grid": self.grid.code,
                "residence_type": "floating",
                "political_status": "party",
                "status": "active",
            },
        ]


@pytest.mark.req("R-8.1-grid")
class TestHousehold(RegisteredModelTests):
    model = Household
    update_data = {"household_type": "floating"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.house = make_house()

    @property
    def form_data(self):
        return {
            "number": "H-NEW",
            "household_type": "permanent",
            "house": self.house.pk,
            "grid": self.house.building.grid_id,
            "head_name": "刘强",
        }

    def make_object(self):
        return make_household(house=self.house)

    def csv_rows(self):
        return [
            {
                "number": f"H-IMP-{i}",
                "household_type": kind,
                "house": self.house.code,
                "grid": self.house.building.grid.code,
                "head_name": "陈刚",
            }
            for i, kind in enumerate(("permanent", "floating", "empty"))
        ]


class TestFloatingRegistration(RegisteredModelTests):
    model = FloatingRegistration
    update_data = {"employer": "清溪机械厂"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.resident = make_resident(name="孙伟", birth="19950505", residence_type="floating")

    @property
    def form_data(self):
        return {
            "resident": self.resident.pk,
            "origin": "安徽省阜阳市",
            "arrival_date": "2025-03-01",
            "reason": "work",
            "certificate_status": "none",
            "status": "residing",
        }

    def make_object(self):
        return FloatingRegistration.objects.create(
            resident=self.resident, origin="四川省", arrival_date="2024-05-01"
        )

    def csv_rows(self):
        return [
            {
                "resident": self.resident.id_number,
                "origin": "河南省",
                "arrival_date": "2024/6/1",
                "reason": "work",
                "certificate_status": "issued",
                "certificate_number": "JZZ001",
                "status": "residing",
            },
            {
                "resident": self.resident.id_number,
                "origin": "河南省",
                "arrival_date": "2023-01-01",
                "reason": "business",
                "certificate_status": "none",
                "status": "left",
            },
        ]


class TestTag(RegisteredModelTests):
    model = Tag
    form_data = {"name": "残疾人", "category": "care", "color": "#ff0000"}
    update_data = {"description": "持证残疾人"}

    def make_object(self):
        return make_tag()

    def csv_rows(self):
        return [
            {"name": "低保户", "category": "care", "color": "#00aa00"},
            {"name": "重点人员", "category": "key", "color": "#aa0000"},
        ]
