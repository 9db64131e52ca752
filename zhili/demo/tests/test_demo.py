"""The demo town: valid identifiers and geometry, consistent people, determinism, reset, size."""

import datetime
import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from stdnum.cn import ric

from zhili.core.geo import length_m
from zhili.core.identifiers import parse_resident_id, validate_resident_id, validate_uscc
from zhili.demo import codes
from zhili.demo.builder import build_demo
from zhili.demo.codes import IdNumberFactory
from zhili.orgs.models import BusinessUnit, Department
from zhili.people.models import FloatingRegistration, Household, Resident, Tag
from zhili.places.models import Building, Division, Grid, House, Road

SMALL = 0.05  # 5 % of the standard density: about 750 residents, built in a second or two
DEMO_MODELS = (
    Department,
    Division,
    Grid,
    Road,
    Building,
    House,
    BusinessUnit,
    Tag,
    Household,
    Resident,
    FloatingRegistration,
)
GEO_MODELS = (Division, Grid, Road, Building, BusinessUnit)


@pytest.fixture
def small_town(db):
    return build_demo(scale=1, density=SMALL)


def _snapshot():
    residents = list(
        Resident.objects.order_by("household__number", "pk").values_list(
            "id_number", "name", "relation", "address"
        )
    )
    buildings = [(b.code, b.address, b.geometry.wkt) for b in Building.objects.order_by("code")]
    units = list(BusinessUnit.objects.order_by("uscc").values_list("uscc", "name"))
    return residents, buildings, units


@pytest.mark.req("R-0-elements", "R-7.1-people", "R-8.1-grid")
def test_every_record_is_labelled_demo(small_town):
    for model in DEMO_MODELS:
        assert model.objects.exists(), model
        assert not model.objects.exclude(data_source="demo").exists(), model
    assert Division.objects.get(level="town").name == "清溪镇（演示）"
    assert Department.objects.get(parent=None).name == "清溪镇人民政府（演示）"
    assert all("演示" in name for name in BusinessUnit.objects.values_list("name", flat=True))
    users = get_user_model().objects.all()
    assert users.exists()
    assert not users.filter(is_superuser=True).exists()
    assert not any(u.has_usable_password() for u in users)
    assert all(u.email.endswith("@demo.invalid") for u in users)


@pytest.mark.req("R-0-elements", "R-8.1-grid")
def test_town_structure(small_town):
    assert Division.objects.filter(level="town").count() == 1
    villages = Division.objects.exclude(level="town")
    assert villages.count() == 8
    assert {d.level for d in villages} == {"village", "community"}
    town = Division.objects.get(level="town")
    assert all(d.parent_id == town.pk and d.path.startswith(town.path) for d in villages)
    assert all(len(d.code) == 12 and d.code.startswith("330110") for d in Division.objects.all())
    levels = Counter(Grid.objects.values_list("level", flat=True))
    assert (levels[1], levels[2], levels[3]) == (1, 8, 40)
    for grid in Grid.objects.filter(level=3):
        assert grid.parent.level == 2 and grid.parent.division_id == grid.division_id
        assert grid.leader is not None and grid.leader.department.kind == "committee"
        assert 1 <= grid.members.count() <= 2
        assert grid.depth == 2
    committees = Department.objects.filter(kind="committee")
    assert committees.count() == 8
    assert Department.objects.exclude(kind="committee").count() == 13  # government and 12 offices


@pytest.mark.req("R-7.1-people")
def test_identifiers_are_valid(small_town):
    numbers = list(Resident.objects.values_list("id_number", "sex", "birth_date"))
    assert len({n for n, _s, _b in numbers}) == len(numbers)
    for number, sex, born in numbers:
        validate_resident_id(number)
        assert ric.is_valid(number), number
        assert parse_resident_id(number) == (born, sex)
    codes_ = list(BusinessUnit.objects.values_list("uscc", flat=True))
    assert len(set(codes_)) == len(codes_)
    for code in codes_:
        validate_uscc(code)
        assert code[2:8] == "330110"
    assert any(code.startswith("N2") for code in codes_)  # rural collective economic organisations
    assert any(code.startswith("92") for code in codes_)  # individual businesses


@pytest.mark.req("R-0-elements", "R-8.1-grid")
def test_geometry_is_valid_and_nested(small_town):
    for model in GEO_MODELS:
        for obj in model.objects.all():
            assert obj.geometry is not None and obj.geometry.is_valid, (model, obj.pk)
            minx, miny, maxx, maxy = obj.geometry.bounds
            assert (obj.bbox_minx, obj.bbox_miny, obj.bbox_maxx, obj.bbox_maxy) == (minx, miny, maxx, maxy)
            assert minx > 119.5 and maxx < 120.5 and miny > 29.9 and maxy < 30.6
    grids = {g.pk: g for g in Grid.objects.all()}
    for building in Building.objects.all():
        assert grids[building.grid_id].geometry.contains(building.geometry), building.code
        assert grids[building.grid_id].level == 3
    for unit in BusinessUnit.objects.all():
        assert grids[unit.grid_id].geometry.contains(unit.geometry), unit.name
    for grid in grids.values():
        if grid.level >= 3:
            assert grid.geometry.difference(grids[grid.parent_id].geometry).area < 1e-12
    villages = [d.geometry for d in Division.objects.exclude(level="town")]
    for i, a in enumerate(villages):
        for b in villages[i + 1 :]:
            assert a.intersection(b).area < 1e-12
    for road in Road.objects.all():
        assert road.length_m == pytest.approx(length_m(road.geometry), abs=0.1)
        assert road.length_m > 0


@pytest.mark.req("R-7.1-people", "R-8.1-grid")
def test_households_and_residents_are_consistent(small_town):
    households = Household.objects.select_related("house__building")
    types = Counter(h.household_type for h in households)
    total = sum(types.values())
    assert 0.7 < types["permanent"] / total < 0.9
    assert 0.08 < types["floating"] / total < 0.22
    assert 0.01 < types["empty"] / total < 0.1
    for household in households:
        assert household.grid_id == household.house.building.grid_id
        assert household.address.startswith(household.house.building.address)
        members = list(household.members.all())
        if household.household_type == "empty":
            assert members == []
            continue
        assert [m.relation for m in members].count("head") == 1
        assert household.head_name == next(m.name for m in members if m.relation == "head")
        for member in members:
            assert member.grid_id == household.grid_id and member.house_id == household.house_id
            expected = "floating" if household.household_type == "floating" else member.residence_type
            assert member.residence_type == expected
    reference = datetime.date(2025, 12, 31)
    places = {place.label: place for place in (codes.LOCAL, *codes.NEARBY, *(p for _w, p in codes.ORIGINS))}
    for resident in Resident.objects.filter(residence_type="floating"):
        registrations = list(resident.floating_registrations.all())
        adult = resident.birth_date <= reference.replace(year=reference.year - 16)
        assert len(registrations) == (1 if adult else 0)
        for reg in registrations:
            reg.full_clean()
            # the registration names today's county; the ID carries the code it had at birth
            assert resident.id_number[:6] in places[reg.origin].codes
    ages = [(reference - r.birth_date).days // 365 for r in Resident.objects.all()]
    assert min(ages) < 6 and max(ages) > 80
    assert House.objects.count() >= Household.objects.count()
    assert House.objects.filter(code="").count() == 0


@pytest.mark.req("R-7.1-people")
def test_same_seed_gives_the_same_town(db):
    # One clock for both builds: readings and cases count back from ``now``, so builds that
    # straddle the turn of an hour would otherwise differ (and did, once, in CI).
    now = timezone.now()
    counts = build_demo(scale=1, density=SMALL, now=now)
    first = _snapshot()
    assert build_demo(scale=1, density=SMALL, reset=True, now=now) == counts
    assert _snapshot() == first


def test_the_build_clock_dates_the_time_relative_records(db):
    """Readings end at the hour of the build's ``now``, not at the wall clock's."""
    from zhili.iot.demo import HISTORY_INTERVAL_S
    from zhili.iot.models import Reading
    from zhili.iot.store import to_ms

    now = timezone.now() - datetime.timedelta(days=3, hours=5)
    build_demo(scale=1, density=SMALL, now=now)
    latest = Reading.objects.order_by("-ts").values_list("ts", flat=True).first()
    # History ends at the start of the build's hour: its last step begins one interval before.
    hour = now.replace(minute=0, second=0, microsecond=0)
    assert to_ms(hour) - HISTORY_INTERVAL_S * 1000 <= latest < to_ms(hour)


@pytest.mark.req("R-0-elements")
def test_existing_demo_is_kept_and_reset_keeps_user_records(small_town):
    manual_tag = Tag.objects.create(name="志愿者")
    house = House.objects.filter(data_source="demo").first()
    manual = Resident.objects.create(name="张三", id_number="11010519491231002X", house=house)
    out = io.StringIO()
    assert build_demo(scale=1, density=SMALL, stdout=out) == {}
    assert "already exists" in out.getvalue()
    assert Resident.objects.filter(data_source="demo").count() == small_town["people.Resident"]
    counts = build_demo(scale=1, density=SMALL, reset=True, stdout=out)
    assert counts == small_town
    assert Tag.objects.filter(pk=manual_tag.pk).exists()
    manual.refresh_from_db()
    assert manual.house is None  # its demo house was deleted; the user's record stays
    assert Resident.objects.filter(data_source="demo").count() == counts["people.Resident"]


def test_id_number_factory_is_unique_and_bounded():
    factory = IdNumberFactory()
    born = datetime.date(2010, 5, 17)  # 330110 (余杭区) exists since 2001
    men = {factory.issue("330110", born, "M") for _ in range(500)}
    women = {factory.issue("330110", born, "F") for _ in range(499)}
    assert len(men) == 500 and len(women) == 499
    assert all(int(n[16]) % 2 == 1 for n in men) and all(int(n[16]) % 2 == 0 for n in women)
    assert all(ric.is_valid(n) for n in men | women)
    with pytest.raises(ValueError, match="More than"):
        factory.issue("330110", born, "M")


def test_every_place_has_a_valid_code_for_every_birth_year():
    places = [codes.LOCAL, *codes.NEARBY, *(place for _weight, place in codes.ORIGINS)]
    for place in places:
        for year in range(1920, 2026):
            code = codes.code_for_year(place, year)
            assert code, (place.label, year)
            assert ric.is_valid(IdNumberFactory().issue(code, datetime.date(year, 6, 1), "F"))


@pytest.mark.django_db
@pytest.mark.req("R-0-elements", "R-7.1-people", "R-8.1-grid")
def test_standard_scale_one_counts():
    counts = build_demo(scale=1)
    assert counts["places.Division"] == 9
    assert counts["places.Building"] == 2000
    assert counts["people.Household"] == 6000
    assert counts["people.Resident"] == 15000
    assert counts["orgs.BusinessUnit"] == 300
    assert Grid.objects.filter(level=3).count() == 40
    assert House.objects.count() >= 6000
    assert Resident.objects.count() == 15000
    party = Resident.objects.filter(political_status__in=("party", "probationary")).count()
    assert 0.04 < party / 15000 < 0.09
