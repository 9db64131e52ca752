import itertools

from zhili.people.models import Household, Resident, Tag
from zhili.places.tests.factories import make_house, make_id_number

_seq = itertools.count(1)


def make_household(grid=None, house=None, household_type="permanent"):
    n = next(_seq)
    house = house or make_house()
    return Household.objects.create(
        number=f"H{n:06d}",
        household_type=household_type,
        house=house,
        grid=grid or house.building.grid,
        head_name="户主",
    )


def make_resident(name="张三", grid=None, birth="19800101", **kwargs):
    return Resident.objects.create(name=name, id_number=make_id_number(birth=birth), grid=grid, **kwargs)


def make_tag(name=None):
    return Tag.objects.create(name=name or f"标签{next(_seq)}")
