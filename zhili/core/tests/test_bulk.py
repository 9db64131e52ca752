"""``bulk_insert`` stores exactly what the ORM's ``save()`` stores (R-11.1 shared machinery)."""

import datetime

import pytest
from django.db import connection

from zhili.core.bulk import bulk_insert
from zhili.people.models import Resident
from zhili.places.tests.factories import make_grid, make_id_number

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-11.1")]

COLUMNS = ("id_number", "phone", "address", "birth_date", "grid_id", "name", "status")


def stored_row(pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM people_resident WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()


def test_bulk_insert_matches_save_for_encrypted_dates_and_relations():
    grid = make_grid()
    values = {"name": "李四", "phone": "13912345678", "address": "清溪镇桃源村3组", "grid": grid}
    saved = Resident(id_number=make_id_number(birth="19700215"), **values)
    saved.full_clean()
    saved.save()
    bulk = Resident(id_number=make_id_number(birth="19700215"), **values)
    bulk.full_clean()
    bulk_insert([bulk])
    assert bulk.pk and bulk._state.adding is False
    saved_row, bulk_row = stored_row(saved.pk), stored_row(bulk.pk)
    # Deterministic encryption: the same phone and address give the same stored text.
    assert bulk_row[1:] == saved_row[1:]
    assert bulk_row[1].startswith("$") and bulk_row[1] != "13912345678"
    assert bulk_row[0].startswith("$")
    fetched = Resident.objects.get(pk=bulk.pk)
    assert fetched.id_number == bulk.id_number
    assert fetched.birth_date == datetime.date(1970, 2, 15)
    assert fetched.phone == "13912345678"


def test_a_duplicate_in_a_bulk_write_is_an_integrity_error_and_nothing_stays():
    """PostgreSQL writes through COPY on the raw psycopg cursor: its unique violation must still
    reach callers (the importer's per-row fallback) as Django's ``IntegrityError``."""
    from django.db import IntegrityError, transaction

    grid = make_grid()
    number = make_id_number(birth="19850505")
    Resident.objects.create(name="原有", id_number=number, grid=grid)
    fresh = [Resident(name=f"新{i}", id_number=make_id_number(birth="19850506"), grid=grid) for i in range(3)]
    duplicate = Resident(name="重复", id_number=number, grid=grid)
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert([*fresh, duplicate])
    assert Resident.objects.count() == 1
    with transaction.atomic():
        bulk_insert(fresh)  # the connection is usable again and the good rows go in
    assert Resident.objects.count() == 4


@pytest.mark.timeout(60)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL streams rows with COPY")
def test_a_query_while_rows_stream_is_an_error_not_a_hang():
    """The rows generator runs while ``COPY`` holds the connection; a query there used to wait forever."""
    from django.db import transaction

    from zhili.core.bulk import CopyInProgress, insert_rows
    from zhili.places.models import Grid

    grid = make_grid()

    def rows():
        yield (grid.division_id, "G-COPY-1", "流式网格")
        Grid.objects.count()  # a query in the middle of the stream
        yield (grid.division_id, "G-COPY-2", "流式网格")

    with pytest.raises(CopyInProgress), transaction.atomic():
        insert_rows(Grid, ["division_id", "code", "name"], rows())
    assert Grid.objects.count() == 1


def test_time_stamps_and_change_records_store_the_instant_of_the_bulk_write():
    """On PostgreSQL the stamp shared by every row is sent as ISO 8601 text (``repeated_value``):
    it must read back as the very instant the instances carry, to the microsecond."""
    from zhili.core.changes import record_bulk_create

    grid = make_grid()
    residents = [
        Resident(name=f"时{i}", id_number=make_id_number(birth="19900101"), grid=grid) for i in range(3)
    ]
    for resident in residents:
        resident.full_clean()
    bulk_insert(residents)
    stamp = residents[0].created_at
    assert stamp.tzinfo is not None and stamp.microsecond  # a real instant, not a rounded one
    assert all(r.created_at == r.updated_at == stamp for r in residents)
    stored = set(
        Resident.objects.filter(pk__in=[r.pk for r in residents]).values_list("created_at", "updated_at")
    )
    assert stored == {(stamp, stamp)}
    record_bulk_create(residents)
    from zhili.core.changes import history_for

    times = {history_for(r).get().time for r in residents}
    assert len(times) == 1
    (recorded,) = times
    assert recorded.tzinfo is not None and abs((recorded - stamp).total_seconds()) < 60


def test_only_fields_that_compute_their_value_are_given_pre_save():
    """A plain date is read as it is; time stamps and computed boxes still go through pre_save."""
    from django.db import models

    from zhili.core.bulk import needs_pre_save
    from zhili.places.models import Building

    assert not needs_pre_save(Resident._meta.get_field("birth_date"))
    assert not needs_pre_save(Resident._meta.get_field("name"))
    assert needs_pre_save(Resident._meta.get_field("created_at"))
    assert needs_pre_save(Resident._meta.get_field("updated_at"))
    assert needs_pre_save(models.DateField(auto_now_add=True))
    assert needs_pre_save(models.TimeField(auto_now=True))
    boxes = [f for f in Building._meta.concrete_fields if type(f).__name__ == "BBoxField"]
    assert boxes and all(needs_pre_save(f) for f in boxes)
