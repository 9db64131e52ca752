"""The API's fast representation path gives exactly what DRF's generic path gives."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from zhili.core.api.serializers import build_serializer
from zhili.core.registry import registry
from zhili.orgs.tests.factories import make_department, make_unit
from zhili.people.tests.factories import make_household, make_resident, make_tag
from zhili.places.tests.factories import make_grid, make_road

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-11.2.1-api")]


def test_fast_representation_matches_drf(admin_user):
    grid = make_grid()
    resident = make_resident(grid=grid, phone="13800001111", address="清溪镇桃源村1组2号")
    resident.tags.add(make_tag())
    make_household()
    make_road()
    make_unit(geometry="POINT (119.93 30.23)", division=grid.division, grid=grid)
    make_department(parent=make_department())
    request = APIRequestFactory().get("/")
    request.user = admin_user
    for entry in registry:
        serializer_class = build_serializer(entry)
        for obj in entry.model._default_manager.all()[:5]:
            serializer = serializer_class(context={"request": request})
            expected = serializers.ModelSerializer.to_representation(serializer, obj)
            assert serializer.fast_representation(obj) == dict(expected), entry.label


def test_default_serializers_reuse_their_reading_plan():
    """Built serializers never rebuild their fields to read: the plan is kept on the class.

    DRF would build every field on every request; that was a fifth of a residents list request.
    """
    from zhili.people.models import Resident

    serializer_class = build_serializer(registry.get(Resident))
    plan = serializer_class()._representation_plan()
    assert [name for name, how, _arg in plan if how == "drf"] == []
    assert serializer_class.__dict__["_class_plan"] is plan
    assert serializer_class()._representation_plan() is plan


def _tagged_residents():
    from zhili.people.models import Tag

    grid = make_grid()
    tags = [Tag.objects.create(name=name, category=category) for name, category in
            [("独居老人", "b"), ("党员", "a"), ("残疾人", "a")]]  # fmt: skip
    residents = [make_resident(grid=grid) for _ in range(4)]
    residents[0].tags.set(tags)
    residents[1].tags.set(tags[:1])
    residents[3].tags.set(tags[1:])
    return residents


@pytest.mark.req("R-11.1")
@pytest.mark.parametrize("path", ["sql", "orm"])
def test_keys_of_many_to_many_fields_are_what_prefetch_gives(path, monkeypatch):
    """``m2m_pks`` reads the keys in the target's order, by its own SQL or (fallback) the ORM."""
    from zhili.core import fetch
    from zhili.people.models import Resident

    residents = _tagged_residents()
    if path == "orm":
        monkeypatch.setattr(fetch, "_m2m_plan", lambda *args: None)
    pks = [r.pk for r in residents]
    expected = {r.pk: [t.pk for t in r.tags.all()] for r in Resident.objects.prefetch_related("tags")}
    assert fetch.m2m_pks(Resident, "tags", pks) == expected
    assert expected[residents[0].pk] != sorted(expected[residents[0].pk])  # ordered by category, name
    assert expected[residents[2].pk] == []


@pytest.mark.req("R-11.1")
def test_a_list_page_reads_its_tag_keys_in_one_query(admin_client, django_assert_num_queries):
    residents = _tagged_residents()
    expected = {r.pk: sorted(t.pk for t in r.tags.all()) for r in residents}
    url = "/api/people/residents/?page_size=2"
    admin_client.get(url)
    # session, user, the page, the tag keys of the page (keys only: no tag row is read)
    with django_assert_num_queries(4) as queries:
        body = admin_client.get(url).json()
    assert "people_resident_tags" in queries.captured_queries[-1]["sql"]
    assert '"name"' not in queries.captured_queries[-1]["sql"].split("FROM")[0]
    assert body["next"]
    for row in body["results"] + admin_client.get(body["next"]).json()["results"]:
        assert sorted(row["tags"]) == expected[row["id"]]
