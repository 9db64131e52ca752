"""Keep the query planner's table statistics fresh.

SQLite never gathers statistics by itself. Without ``sqlite_stat1`` its planner assumes every
index narrows a lookup to about ten rows, so it picks indexes blindly: on a million residents,
"residents of grid G with tag T" walked all 5,400 residents with the tag instead of the 375 in the
grid, which took 5 ms instead of 0.1 ms. PostgreSQL's autovacuum analyses tables, but only some
time after a bulk load.

So statistics are refreshed where the data change in bulk (after an import, after the demo
build), when ``zhili up`` starts, and by an hourly job. After an import on PostgreSQL the
refresh runs in the background (``refresh_statistics_soon``): the user's answer does not wait
for it. A full ``ANALYZE`` of a million-row SQLite database takes about 0.2 s on this machine
class; ``ZHILI["SQLITE_ANALYSIS_LIMIT"]`` bounds it (SQLite's ``analysis_limit``: rows examined
per index; 0 means all) for much larger files.
"""

import logging
import threading

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger("zhili.dbstats")


def refresh_statistics(*tables: str) -> None:
    """Run ANALYZE on ``tables`` (all tables when none are given) on the default database."""
    quoted = [connection.ops.quote_name(table) for table in tables]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            limit = int(settings.ZHILI.get("SQLITE_ANALYSIS_LIMIT", 0))
            cursor.execute(f"PRAGMA analysis_limit = {limit}")
            for statement in [f"ANALYZE {name}" for name in quoted] or ["ANALYZE"]:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            # ANALYZE may not run inside a failed transaction, but it may run inside a healthy one.
            cursor.execute("ANALYZE " + ", ".join(quoted) if quoted else "ANALYZE")
    logger.debug("statistics refreshed for %s", ", ".join(tables) or "all tables")


def refresh_statistics_job() -> None:
    """The hourly job: SQLite only (PostgreSQL has autovacuum)."""
    if connection.vendor == "sqlite":
        refresh_statistics()


_pending: list[str] = []
_pending_lock = threading.Lock()
_worker: threading.Thread | None = None


def refresh_statistics_soon(*tables: str) -> None:
    """Refresh the statistics of ``tables`` once the current transaction commits, without waiting.

    On PostgreSQL, ``ANALYZE`` of a table that an import just gave 100,000 rows took about a
    twentieth of the import, and nothing in the import's answer needs it. A thread of this
    process runs it on a connection of its own (from the same bounded pool); tables asked for
    while it runs are analysed in its next round. SQLite has one writer at a time, and its
    ``ANALYZE`` is bounded by ``SQLITE_ANALYSIS_LIMIT``, so there it runs at once, as does every
    refresh when ``ZHILI["STATISTICS_IN_BACKGROUND"]`` is false.
    """
    if connection.vendor != "postgresql" or not settings.ZHILI.get("STATISTICS_IN_BACKGROUND", True):
        refresh_statistics(*tables)
        return
    transaction.on_commit(lambda: _queue(tables))


def _queue(tables) -> None:
    global _worker
    with _pending_lock:
        _pending.extend(t for t in tables if t not in _pending)
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_analyse_pending, name="zhili-statistics", daemon=True)
            _worker.start()


def _analyse_pending() -> None:
    global _worker
    try:
        while True:
            with _pending_lock:
                tables = list(_pending)
                _pending.clear()
                if not tables:
                    _worker = None
                    return
            try:
                refresh_statistics(*tables)
            except Exception:  # statistics are an optimisation: log, never break the server
                logger.exception("background statistics refresh of %s failed", ", ".join(tables))
    finally:
        connection.close()  # this thread's connection goes back to the pool


def wait_for_statistics(timeout: float | None = 60) -> None:
    """Wait until the background refreshes asked for so far have run (tests and benchmarks)."""
    worker = _worker
    if worker is not None:
        worker.join(timeout)
