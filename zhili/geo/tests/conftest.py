"""A small test town (not demo data): two grids, buildings at known places, residents, users."""

import shutil

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Q
from shapely.geometry import box

from zhili.core import permissions
from zhili.people.tests.factories import make_resident
from zhili.places.tests.factories import make_building, make_division, make_grid, make_house

PASSWORD = "Zhili-Test-2026!"
WEST = box(119.900, 30.200, 119.950, 30.250)
EAST = box(119.950, 30.200, 120.000, 30.250)


def grid_scope(user, model, action):
    """Test data scope: a user in the 'grid workers' test group sees buildings of their grids only."""
    if model._meta.label_lower != "places.building" or user.is_superuser:
        return None
    if not user.groups.filter(name="grid workers").exists():
        return None
    return Q(grid__members=user)


@pytest.fixture
def tile_dir(settings, tmp_path):
    settings.ZHILI = {**settings.ZHILI, "TILE_CACHE_DIR": str(tmp_path / "tiles")}
    yield tmp_path / "tiles"
    shutil.rmtree(tmp_path / "tiles", ignore_errors=True)


@pytest.fixture
def town(django_user_model, tile_dir):
    from django.contrib.auth.models import Group

    division = make_division(geometry=box(119.9, 30.2, 120.0, 30.3))
    village = make_division(
        level="village", parent=division, name="桃源村", geometry=box(119.9, 30.2, 120.0, 30.25)
    )
    west = make_grid(division=village, geometry=WEST)
    east = make_grid(division=village, geometry=EAST)
    west_buildings = [
        make_building(grid=west, lon=119.905 + i * 0.004, lat=30.205 + i * 0.004) for i in range(10)
    ]
    east_buildings = [
        make_building(grid=east, lon=119.955 + i * 0.004, lat=30.205 + i * 0.004) for i in range(5)
    ]
    for b in west_buildings + east_buildings:
        b.division = village
        b.save()
    house = make_house(building=west_buildings[0])
    make_resident(name="王秀英", grid=west, house=house)
    make_resident(name="赵建华", grid=west, house=house)
    admin = django_user_model.objects.create_superuser("geo_admin", password=PASSWORD)
    worker = django_user_model.objects.create_user("geo_worker", password=PASSWORD)
    group = Group.objects.create(name="grid workers")
    worker.groups.add(group)
    worker.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_building", "view_grid", "view_division"])
    )
    west.members.add(worker)
    outsider = django_user_model.objects.create_user("geo_outsider", password=PASSWORD)
    permissions.add_scope_provider(grid_scope)
    yield {
        "division": division,
        "village": village,
        "west": west,
        "east": east,
        "west_buildings": west_buildings,
        "east_buildings": east_buildings,
        "house": house,
        "admin": admin,
        "worker": worker,
        "outsider": outsider,
    }
    permissions._scope_providers.remove(grid_scope)


def token_for(user) -> str:
    from zhili.accounts.tokens import create_token

    _token, raw = create_token(user, "geo tests")
    return raw
