"""Connects the chained store to the audit seam and registers its scheduled jobs."""

import logging

from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations

from zhili.audit import store
from zhili.core import audit
from zhili.core.jobs import register_job

audit.add_sink(store.sink)
# The chained store is the audit trail now; the foundation's JSON-lines file copy is kept only on
# request (ZHILI["AUDIT_JSON_LOG"] = True), since writing it doubled the cost of every event.
if not settings.ZHILI.get("AUDIT_JSON_LOG", False):
    logging.getLogger("zhili.audit").setLevel(logging.WARNING)
register_job("audit_checkpoint", store.setting("AUDIT_CHECKPOINT_SECONDS"), store.checkpoint_job)
register_job("audit_prune", 24 * 3600, store.prune_job)

_original_flush = BaseDatabaseOperations.execute_sql_flush


def _flush_with_permit(self, sql_list):
    """Django's ``flush`` (test teardown, ``manage.py flush``) empties every table, audit included."""
    vendor = self.connection.vendor
    if vendor == "postgresql":
        sql_list = ["SET zhili.audit_maintenance = 'on'", *sql_list, "SET zhili.audit_maintenance = 'off'"]
    elif vendor == "sqlite" and any("audit_auditevent" in sql for sql in sql_list):
        sql_list = [
            "CREATE TABLE IF NOT EXISTS audit_maintenance (permit integer NOT NULL)",
            "INSERT INTO audit_maintenance (permit) VALUES (1)",
            *sql_list,
            "DELETE FROM audit_maintenance",
        ]
    return _original_flush(self, sql_list)


BaseDatabaseOperations.execute_sql_flush = _flush_with_permit
