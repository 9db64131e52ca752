"""Read one row by primary key without compiling a query: for lookups made on every request.

``Model.objects.get(pk=…)`` builds and compiles a query each time, about 0.25 ms of Python on
this machine class; the signed-in user is loaded that way on every request. ``fetch_by_pk``
keeps one SQL statement and the field converters per model and database, and returns the same
instance the ORM would (``Model.from_db`` with values converted as the compiler converts them:
dates parsed on SQLite, encrypted fields decrypted, booleans as ``bool``).
"""

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections

_plans: dict = {}


def _plan(model, connection):
    key = (model, connection.alias, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = list(meta.concrete_fields)
        columns = ", ".join(quote(f.column) for f in fields)
        sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if functions:
                converters.append((index, column, functions))
        plan = _plans[key] = (sql, [f.attname for f in fields], converters)
    return plan


def fetch_by_pk(model, pk, using: str = DEFAULT_DB_ALIAS):
    """Return the ``model`` instance whose primary key is ``pk``; raise ``model.DoesNotExist``."""
    connection = connections[using]
    sql, attnames, converters = _plan(model, connection)
    try:
        value = model._meta.pk.get_db_prep_value(model._meta.pk.to_python(pk), connection)
    except (TypeError, ValueError, ValidationError) as exc:
        raise model.DoesNotExist(f"{model.__name__} {pk!r} does not exist") from exc
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} {pk!r} does not exist")
    row = list(row)
    for index, column, functions in converters:
        value = row[index]
        for convert in functions:
            value = convert(value, column, connection)
        row[index] = value
    return model.from_db(using, attnames, row)
