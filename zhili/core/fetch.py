"""Read one row by primary key without compiling a query: for lookups made on every request.

``Model.objects.get(pk=…)`` builds and compiles a query each time, about 0.25 ms of Python on
this machine class; the signed-in user is loaded that way on every request. ``fetch_by_pk``
keeps one SQL statement and the field converters per model and database, and returns the same
instance the ORM would (``Model.from_db`` with values converted as the compiler converts them:
dates parsed on SQLite, encrypted fields decrypted, booleans as ``bool``).
"""

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models

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


_m2m_plans: dict = {}


def _m2m_plan(model, name: str, connection):
    """SQL reading (source pk, target pk) pairs of one many-to-many field, target-ordered.

    None when the target's ordering or default manager needs the ORM (related lookups,
    expressions, a filtering manager): the caller then asks the ORM.
    """
    key = (model, name, connection.alias, connection.vendor)
    if key in _m2m_plans:
        return _m2m_plans[key]
    field = model._meta.get_field(name)
    target = field.related_model
    through = field.remote_field.through._meta
    quote = connection.ops.quote_name
    order = []
    for item in [*target._meta.ordering, target._meta.pk.name]:
        descending = isinstance(item, str) and item.startswith("-")
        name_only = item[1:] if descending else item
        try:
            column = target._meta.get_field(name_only).column if isinstance(item, str) else None
        except Exception:  # noqa: BLE001 - any unknown name or lookup: the ORM handles it
            column = None
        if column is None or "__" in name_only:
            _m2m_plans[key] = None
            return None
        order.append(f"r.{quote(column)}{' DESC' if descending else ''}")
    integer_keys = all(
        isinstance(m._meta.pk, (models.AutoField, models.BigAutoField, models.IntegerField))
        for m in (model, target)
    )
    if target._default_manager.all().query.where or not integer_keys:
        _m2m_plans[key] = None  # a filtering manager, or keys that need converting
        return None
    sql = (
        f"SELECT t.{quote(field.m2m_column_name())}, t.{quote(field.m2m_reverse_name())} "  # noqa: S608
        f"FROM {quote(through.db_table)} t JOIN {quote(target._meta.db_table)} r "
        f"ON r.{quote(target._meta.pk.column)} = t.{quote(field.m2m_reverse_name())} "
        f"WHERE t.{quote(field.m2m_column_name())} IN ({{}}) ORDER BY {', '.join(order)}"
    )
    _m2m_plans[key] = sql
    return sql


def m2m_pks(model, name: str, pks: list, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Return ``{pk: [target pk, …]}`` of many-to-many field ``name`` for the rows ``pks``.

    Targets come in the order of the target model's ``Meta.ordering`` (then by key), as
    ``prefetch_related`` gives them, but without building a target instance or compiling a
    query: a list that shows only the keys of its tags needs nothing more.
    """
    result: dict = {pk: [] for pk in pks}
    if not pks:
        return result
    connection = connections[using]
    sql = _m2m_plan(model, name, connection)
    if sql is None:
        field = model._meta.get_field(name)
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        ordering = [
            f"-{target}__{item[1:]}" if item.startswith("-") else f"{target}__{item}"
            for item in (*field.related_model._meta.ordering, "pk")
            if isinstance(item, str)
        ]
        pairs = through._default_manager.using(using).filter(**{f"{source}__in": pks})
        if field.related_model._default_manager.all().query.where:
            pairs = pairs.filter(**{f"{target}__in": field.related_model._default_manager.all()})
        pairs = pairs.order_by(*ordering).values_list(f"{source}_id", f"{target}_id")
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(", ".join(["%s"] * len(pks))), list(pks))
            pairs = cursor.fetchall()
    for source_pk, target_pk in pairs:
        result[source_pk].append(target_pk)
    return result
