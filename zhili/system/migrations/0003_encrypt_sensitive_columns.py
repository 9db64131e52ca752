"""Encrypt sensitive values stored before encryption at rest existed (R-10.3-crypto).

On PostgreSQL the columns become ``text`` first (the ciphertext is longer than the plaintext
limit, which forms and the API still enforce). Tables created from now on get ``text`` directly.
"""

from django.db import migrations

from zhili.core.fields import SensitiveCharField

APPS = ("accounts", "orgs", "places", "people")


def encrypt_existing(apps, schema_editor):
    from zhili.core import crypto

    connection = schema_editor.connection
    qn = connection.ops.quote_name
    for label in APPS:
        try:
            models = apps.get_app_config(label).get_models()
        except LookupError:
            continue
        for model in models:
            fields = [f for f in model._meta.concrete_fields if isinstance(f, SensitiveCharField)]
            if not fields:
                continue
            table, pk = model._meta.db_table, model._meta.pk.column
            with connection.cursor() as cursor:
                for field in fields:
                    if connection.vendor == "postgresql":
                        cursor.execute(f"ALTER TABLE {qn(table)} ALTER COLUMN {qn(field.column)} TYPE text")
                    cursor.execute(
                        f"SELECT {qn(pk)}, {qn(field.column)} FROM {qn(table)} "
                        f"WHERE {qn(field.column)} IS NOT NULL AND {qn(field.column)} <> ''"
                    )
                    changes = [
                        (crypto.encrypt(value), row_pk)
                        for row_pk, value in cursor.fetchall()
                        if not crypto.is_encrypted(value)
                    ]
                    if changes:
                        cursor.executemany(
                            f"UPDATE {qn(table)} SET {qn(field.column)} = %s WHERE {qn(pk)} = %s", changes
                        )


class Migration(migrations.Migration):
    dependencies = [
        ("system", "0002_builtin_roles"),
        ("accounts", "0003_api_token"),
        ("orgs", "0003_lean_indexes"),
        ("places", "0002_lean_indexes"),
        ("people", "0003_lean_indexes"),
    ]
    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
