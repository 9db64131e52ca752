"""Test-wide setup: an isolated data folder, while the conformance report lands where `zhili
conformance` and the admin page look for it (./zhili-data unless ZHILI_CONFORMANCE_REPORT is set)."""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault(
    "ZHILI_CONFORMANCE_REPORT",
    str(Path(os.environ.get("ZHILI_DATA", "zhili-data")).resolve() / "conformance.json"),
)
os.environ["ZHILI_DATA"] = tempfile.mkdtemp(prefix="zhili-test-")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Test on an SQLite file, not Django's default in-memory database.

    Django's live server hands one in-memory SQLite connection to all of its request threads.
    When the browser sends two requests at once, one thread can hold SQLite's connection mutex
    while it waits for the GIL in a Python SQL function (Django registers several), and the
    other hold the GIL while it waits for the mutex: the test hangs. With a file, every thread
    opens its own connection, as ``zhili up`` does.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(Path(os.environ["ZHILI_DATA"]) / "test.sqlite3")


@pytest.fixture(autouse=True)
def _background_statistics_end_with_their_test():
    """A large import on PostgreSQL analyses its table in a thread after commit; let it finish
    (and give back its connection) before the next test cleans the database."""
    yield
    from zhili.core.dbstats import wait_for_statistics

    wait_for_statistics()
