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
