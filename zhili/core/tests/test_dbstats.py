"""Planner statistics are refreshed after bulk changes (zhili/core/dbstats.py)."""

import pytest
from django.db import connection, transaction

from zhili.core import dbstats
from zhili.core.dbstats import refresh_statistics, refresh_statistics_soon, wait_for_statistics
from zhili.core.importexport import STATISTICS_AFTER_ROWS, import_file
from zhili.core.registry import registry
from zhili.people.models import Tag

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-11.1")]


def statistics_rows(table: str) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [table])
        return cursor.fetchone()[0]


def clear_statistics(table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE sqlite_schema")  # makes sure sqlite_stat1 exists
            cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = %s", [table])


def test_refresh_statistics_gives_the_planner_row_counts():
    Tag.objects.bulk_create([Tag(name=f"标签{i}", category="care") for i in range(30)])
    clear_statistics("people_tag")
    refresh_statistics("people_tag")
    assert statistics_rows("people_tag") > 0


@pytest.mark.django_db(transaction=True)  # the refresh follows the import's commit
def test_a_large_import_refreshes_the_statistics_of_its_table(admin_user, tmp_path):
    import io

    clear_statistics("people_tag")
    if connection.vendor == "sqlite":
        assert statistics_rows("people_tag") == 0
    rows = "\n".join(f"批量标签{i},care" for i in range(STATISTICS_AFTER_ROWS))
    content = ("name,category\n" + rows + "\n").encode()
    result = import_file(registry.get(Tag), io.BytesIO(content), "tags.csv", admin_user)
    assert result.ok, result.as_dict()
    assert result.created == STATISTICS_AFTER_ROWS
    wait_for_statistics()  # on PostgreSQL it runs in a thread of its own, after the answer
    assert statistics_rows("people_tag") > 0


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the background refresh is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_background_refresh_runs_after_commit_and_not_before(admin_user):
    with transaction.atomic():
        refresh_statistics_soon("people_tag")
        assert dbstats._worker is None  # nothing runs while the transaction may still roll back
    worker = dbstats._worker
    assert worker is not None and worker.name == "zhili-statistics"
    wait_for_statistics()
    assert not worker.is_alive()
    assert statistics_rows("people_tag") > 0


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the background refresh is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_asks_for_no_refresh():
    with transaction.atomic():
        refresh_statistics_soon("people_tag")
        transaction.set_rollback(True)
    assert dbstats._pending == []
