"""Generic CRUD/import/export/API tests of the organization models (data only; see core.testing)."""

import pytest

from zhili.core.testing import RegisteredModelTests
from zhili.orgs.models import BusinessUnit, Department
from zhili.orgs.tests.factories import make_department, make_unit, make_uscc

pytestmark = [pytest.mark.req("R-0-elements"), pytest.mark.req("R-11.1")]


@pytest.mark.req("R-4.1.5-settings")
class TestDepartment(RegisteredModelTests):
    model = Department
    form_data = {"name": "综治中心", "code": "ZZZX", "kind": "office", "sort_order": 1, "is_active": True}
    update_data = {"head_name": "王主任"}

    def make_object(self):
        return make_department()

    def csv_rows(self):
        return [
            {"name": "城管办", "code": "CGB", "kind": "office", "is_active": "是"},
            {"name": "桃源村村委会", "code": "TYC", "kind": "committee", "is_active": "1"},
        ]


@pytest.mark.req("R-0-elements")
class TestBusinessUnit(RegisteredModelTests):
    model = BusinessUnit
    update_data = {"employees": 12}

    @property
    def form_data(self):
        return {
            "name": "清溪五金店",
            "uscc": make_uscc("92"),
            "unit_type": "individual",
            "industry": "F",
            "status": "operating",
            "geometry": '{"type":"Point","coordinates":[119.93,30.23]}',
        }

    def make_object(self):
        return make_unit()

    def csv_rows(self):
        return [
            {
                "name": "桃源村股份经济合作社",
                "uscc": make_uscc("N2"),
                "unit_type": "collective",
                "status": "operating",
                "longitude": 119.93,
                "latitude": 30.23,
            },
            {
                "name": "清溪超市",
                "uscc": make_uscc("91"),
                "unit_type": "enterprise",
                "industry": "F",
                "status": "operating",
                "longitude": "119.94",
                "latitude": "30.24",
            },
        ]
