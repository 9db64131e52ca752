import pytest
from django.core.exceptions import ValidationError

from zhili.orgs.tests.factories import make_department

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-4.1.5-settings")]


def test_paths_support_unit_and_below_queries_and_follow_moves():
    town = make_department()
    office = make_department(parent=town)
    team = make_department(parent=office)
    other = make_department()
    assert team.path == f"/{town.pk}/{office.pk}/{team.pk}/"
    assert team.depth == 2
    assert set(town.descendants()) == {town, office, team}
    assert list(team.ancestors()) == [town, office]
    office.parent = other
    office.save()
    team.refresh_from_db()
    assert team.path == f"/{other.pk}/{office.pk}/{team.pk}/"
    assert set(other.descendants(include_self=False)) == {office, team}


def test_a_node_cannot_move_under_its_own_subtree():
    town = make_department()
    office = make_department(parent=town)
    town.parent = office
    with pytest.raises(ValidationError):
        town.clean()
