"""Fixtures: users holding the built-in roles, grids and departments (test data, not demo data)."""

import pytest

from zhili.orgs.models import Department
from zhili.places.tests.factories import make_grid
from zhili.system.models import Role


def role(code: str) -> Role:
    return Role.objects.get(code=code)


@pytest.fixture
def town(db):
    """A town government with two village committees, each with one grid and a sub-grid."""
    government = Department.objects.create(name="测试镇政府", code="T-GOV", kind="government")
    village_a = Department.objects.create(name="甲村村委会", code="T-A", kind="committee", parent=government)
    village_b = Department.objects.create(name="乙村村委会", code="T-B", kind="committee", parent=government)
    grid_a = make_grid()
    sub_a = make_grid(parent=grid_a, division=grid_a.division)
    grid_b = make_grid()
    return {
        "gov": government,
        "a": village_a,
        "b": village_b,
        "grid_a": grid_a,
        "sub_a": sub_a,
        "grid_b": grid_b,
    }


@pytest.fixture
def make_user(django_user_model):
    def make(username, *roles, department=None):
        user = django_user_model.objects.create_user(username, password="x", department=department)
        for code in roles:
            role(code).users.add(user)
        return django_user_model.objects.get(pk=user.pk)

    return make
