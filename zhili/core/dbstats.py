"""Keep the query planner's table statistics fresh.

SQLite never gathers statistics by itself. Without ``sqlite_stat1`` its planner assumes every
index narrows a lookup to about ten rows, so it picks indexes blindly: on a million residents,
"residents of grid G with tag T" walked all 5,400 residents with the tag instead of the 375 in the
grid, which took 5 ms instead of 0.1 ms. PostgreSQL's autovacuum analyses tables, but only some
time after a bulk load.

So statistics are refreshed where the data change in bulk (after an import, after the demo
build), when ``zhili up`` starts, and by an hourly job. A full ``ANALYZE`` of a million-row SQLite
database takes about 0.2 s on this machine class; ``ZHILI["SQLITE_ANALYSIS_LIMIT"]`` bounds it
(SQLite's ``analysis_limit``: rows examined per index; 0 means all) for much larger files.
"""

import logging

from django.conf import settings
from django.db import connection

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
