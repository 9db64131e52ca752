"""Keys the machinery stamps carry no database constraint; keys users choose keep theirs (ADR 0005)."""

import pytest
from django.apps import apps
from django.db import connection

from zhili.core.changes import record_change
from zhili.core.models import BaseModel, ChangeAction, ChangeRecord
from zhili.people.models import Resident
from zhili.places.tests.factories import make_grid, make_id_number

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-11.1")]


def foreign_key_columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {column for c in constraints.values() if c["foreign_key"] for column in c["columns"]}


def test_authors_and_history_keys_have_no_constraint_and_chosen_keys_keep_theirs():
    base_models = [m for m in apps.get_models() if issubclass(m, BaseModel)]
    assert Resident in base_models
    for model in base_models:
        keys = foreign_key_columns(model._meta.db_table)
        assert not keys & {"created_by_id", "updated_by_id"}, model
        assert "owner_unit_id" in keys, model  # chosen in forms and files: the database checks it
    assert "grid_id" in foreign_key_columns(Resident._meta.db_table)
    assert not foreign_key_columns(ChangeRecord._meta.db_table) & {"user_id", "content_type_id"}


def test_deleting_a_user_still_clears_their_authorship_and_keeps_the_history(django_user_model):
    author = django_user_model.objects.create_user("author", password="Author-pass-2024!")
    resident = Resident(name="张三", id_number=make_id_number(seq=7), grid=make_grid())
    resident.created_by = resident.updated_by = author
    resident.save()
    record_change(resident, ChangeAction.CREATE, user=author)
    author.delete()
    resident.refresh_from_db()
    assert resident.created_by_id is None and resident.updated_by_id is None
    [record] = ChangeRecord.objects.filter(object_id=str(resident.pk))
    assert record.user_id is None and record.user_name == "author"
