"""Encrypted columns carry no PostgreSQL ``text_pattern_ops`` index (``drop_pattern_indexes``)."""

import pytest
from django.apps import apps
from django.db import connection

from zhili.people.models import Resident

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="only PostgreSQL adds pattern (_like) indexes to text columns",
    ),
]


def index_definitions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_no_encrypted_column_has_a_pattern_index():
    sensitive = [
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        for field in model._meta.local_concrete_fields
        if getattr(field, "is_sensitive", False) and (field.unique or field.db_index)
    ]
    assert (Resident._meta.db_table, "id_number") in sensitive
    for table, column in sensitive:
        definitions = index_definitions(table)
        assert not [d for d in definitions.values() if "pattern_ops" in d and f"({column} " in d], definitions
        # The unique index itself stays: it is what refuses a duplicate ID number.
        assert [d for d in definitions.values() if "UNIQUE" in d and f"({column})" in d], definitions


def test_plain_text_columns_keep_their_pattern_index():
    definitions = index_definitions("people_household")
    assert [d for d in definitions.values() if "text_pattern_ops" in d or "varchar_pattern_ops" in d]
