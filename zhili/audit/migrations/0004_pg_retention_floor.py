"""On PostgreSQL, even the maintenance permit cannot remove recent audit events.

0003 let pruning and the test flush through with a transaction-local setting, which the
application's own database role can set. Now, with or without the permit, UPDATE is always
refused; DELETE passes only for events older than the 180-day retention floor (R-10.3-audit),
which pruning archives first; TRUNCATE passes only in Django's test databases (``test_…``).
So the application's role cannot change or delete any event inside the retention period.
"""

from django.db import migrations

PG_FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
  IF current_setting('zhili.audit_maintenance', true) = 'on' THEN
    IF TG_OP = 'DELETE' AND OLD.time < now() - interval '180 days' THEN
      RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE' AND left(current_database(), 5) = 'test_' THEN
      RETURN NULL;
    END IF;
  END IF;
  RAISE EXCEPTION USING MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused (R-10.3-audit)';
END $$ LANGUAGE plpgsql;
"""
PG_REVERSE = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('zhili.audit_maintenance', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION USING MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused (R-10.3-audit)';
END $$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]
    operations = [migrations.RunPython(forward, reverse)]
