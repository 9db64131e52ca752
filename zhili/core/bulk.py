"""Fast bulk insert for imports and generators: explicit ids, then executemany or COPY.

Django's ``bulk_create`` compiles SQL per batch and, on SQLite, splits batches at 999
parameters; for 100,000-row imports that costs more than the database work. Here the ids are
reserved first (``max(id)`` inside SQLite's write lock; the sequence on PostgreSQL), so the
caller knows every new primary key for many-to-many rows and change records without
``RETURNING``. Field ``pre_save`` (auto_now, bounding boxes) and ``get_db_prep_save`` still run,
so values are stored exactly as the ORM would store them.
"""

import datetime
import operator

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import fields as django_fields
from django.utils import timezone

#: Field classes whose database value is the Python value itself (when the class does not
#: override how values are prepared, e.g. an encrypting subclass).
PLAIN_TYPES = (
    django_fields.CharField,
    django_fields.TextField,
    django_fields.IntegerField,
    django_fields.BigIntegerField,
    django_fields.PositiveIntegerField,
    django_fields.PositiveSmallIntegerField,
    django_fields.SmallIntegerField,
    django_fields.FloatField,
    django_fields.BooleanField,
)


#: Rows ``bulk_insert`` prepares at a time: large enough that a column is encrypted in one
#: call, small enough that PostgreSQL is already inserting while the next chunk is prepared.
BULK_CHUNK = 500


def reserve_ids(model, count: int) -> list[int]:
    """Return ``count`` new primary keys for ``model`` (call inside the inserting transaction)."""
    if count == 0:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column]
            )
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {table}")  # noqa: S608 (quoted identifiers)
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert_sql(model, fields: list[models.Field]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608


def _is_plain(field: models.Field) -> bool:
    cls = type(field)
    if isinstance(field, django_fields.AutoFieldMixin):
        return True
    if field.is_relation:
        return (
            (field.many_to_one or field.one_to_one)
            and type(field).get_db_prep_save is models.ForeignKey.get_db_prep_save
            and _is_plain(field.target_field)
        )
    for base in PLAIN_TYPES:
        if isinstance(field, base):
            return (
                cls.get_prep_value is base.get_prep_value
                and cls.get_db_prep_value is base.get_db_prep_value
                and cls.get_db_prep_save is base.get_db_prep_save
            )
    return False


def column_preparers(fields: list[models.Field], conn) -> list:
    """Return, per field, None when its Python value is its database value, or else a function
    from a list of Python values to the list of their database values.

    A field may offer ``bulk_column_preparer(conn)`` to prepare a whole column at once (the
    encrypted fields do: one SM4 call per column of a chunk); other fields are prepared value by
    value, as ``get_db_prep_save`` would.
    """
    preparers = []
    for field in fields:
        if _is_plain(field):
            preparers.append(None)
        elif hasattr(field, "bulk_column_preparer"):
            preparers.append(field.bulk_column_preparer(conn))
        elif type(field) is django_fields.DateField:
            preparers.append(_each(_date_preparer(field, conn)))
        else:
            preparers.append(_each(lambda value, f=field: f.get_db_prep_save(value, conn)))
    return preparers


def _each(prepare):
    def prepare_column(values: list) -> list:
        return list(map(prepare, values))

    return prepare_column


def _date_preparer(field, conn):
    """A date goes straight to the backend's adapter (what ``DateField.get_db_prep_save`` ends in)."""
    adapt = conn.ops.adapt_datefield_value

    def prepare(value):
        return adapt(value) if type(value) is datetime.date else field.get_db_prep_save(value, conn)

    return prepare


def repeated_value(conn, value):
    """Return ``value`` in the form cheapest to send in every row of one bulk write.

    psycopg formats a ``datetime`` for a text ``COPY`` in Python, about 2 µs a value, three
    times a resident row (its two time stamps and its change record's). A value that every row
    repeats is formatted once here instead, as the ISO 8601 text PostgreSQL parses to the same
    instant. Other values, and other backends, pass unchanged.
    """
    if conn.vendor == "postgresql" and isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


#: ``pre_save`` methods that return the attribute unchanged unless the field is ``auto_now`` or
#: ``auto_now_add`` (Django's date and time fields), which ``needs_pre_save`` checks itself.
_PLAIN_PRE_SAVES = (
    models.Field.pre_save,
    models.DateField.pre_save,
    models.DateTimeField.pre_save,
    models.TimeField.pre_save,
)


def needs_pre_save(field: models.Field) -> bool:
    """Return True if the field computes its value on save (auto_now, bounding boxes…)."""
    return (
        type(field).pre_save not in _PLAIN_PRE_SAVES
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
    )


def bulk_insert(objs: list[models.Model]) -> None:
    """Insert new model instances of one model, assigning their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    conn = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    now = timezone.now()
    # Plain values are read in one C call per row (itemgetter); only the few fields that are
    # stamped, computed on save or converted (dates, encrypted text) are then patched in, the
    # converted ones a column of a chunk at a time.
    attnames = [f.attname for f in fields]
    read_row = operator.itemgetter(*attnames) if len(attnames) > 1 else lambda data: (data[attnames[0]],)
    stamped, computed, converted = [], [], []
    for index, (f, prepare) in enumerate(zip(fields, column_preparers(fields, conn), strict=True)):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            stamped.append(
                (index, f.attname, repeated_value(conn, now if prepare is None else prepare([now])[0]))
            )
            continue
        if needs_pre_save(f):
            computed.append((index, f))
        if prepare is not None:
            converted.append((index, prepare))
    for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
        obj.pk = pk
    alias = conn.alias

    def rows():
        for start in range(0, len(objs), BULK_CHUNK):
            chunk = objs[start : start + BULK_CHUNK]
            table = []
            for obj in chunk:
                data = obj.__dict__
                for _index, attname, _value in stamped:
                    data[attname] = now
                row = list(read_row(data))
                for index, _attname, value in stamped:
                    row[index] = value
                for index, field in computed:
                    row[index] = field.pre_save(obj, True)
                table.append(row)
            for index, prepare in converted:
                for row, value in zip(table, prepare([row[index] for row in table]), strict=True):
                    row[index] = value
            yield from table
            for obj in chunk:
                state = obj._state
                state.adding = False
                state.db = alias

    # A generator, so that on PostgreSQL each chunk is prepared (encrypted…) while the server is
    # still inserting the rows sent before it: client and server work at the same time.
    write_rows(conn, model, fields, rows())


class CopyInProgress(RuntimeError):
    """A query was attempted while rows streamed to PostgreSQL with ``COPY`` (a bug in the caller)."""


def _refuse_queries_during_copy(execute, sql, params, many, context):
    raise CopyInProgress(
        "The database was queried while rows were being streamed to it: prepare values that "
        f"need the database before calling write_rows (query: {sql[:80]})"
    )


def insert_rows(model, field_names: list[str], rows) -> None:
    """Insert already prepared database values (no instances) into ``model``'s table.

    ``rows`` is a sequence or an iterator of tuples (see ``write_rows``).
    """
    if isinstance(rows, list | tuple) and not rows:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    write_rows(connections[DEFAULT_DB_ALIAS], model, fields, rows)


def write_rows(conn, model, fields: list[models.Field], rows) -> None:
    """Send prepared rows to the database in as few round trips as the backend allows.

    SQLite runs in-process, so ``executemany`` of one prepared statement is cheapest. A server
    pays a network round trip per statement; on PostgreSQL one ``COPY … FROM STDIN`` streams every
    row in a single command (psycopg formats the rows in C), which measured about 8× faster than
    ``executemany`` for resident rows. ``COPY`` checks constraints like ``INSERT`` does, so a
    duplicate still raises ``IntegrityError`` and the caller's transaction rolls it back.

    ``rows`` may be a generator: it is consumed while the ``COPY`` is open, so the server
    inserts the rows already sent while the generator prepares the next. It must not use the
    database: the connection is busy with the ``COPY``, and a query would wait for it forever,
    so one raises ``CopyInProgress`` instead.
    """
    if conn.vendor == "postgresql":
        quote = conn.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        # The raw psycopg cursor bypasses Django's wrapper, so its errors are translated here
        # (a unique violation must reach the caller as ``django.db.IntegrityError``).
        sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        with (
            conn.execute_wrapper(_refuse_queries_during_copy),
            conn.cursor() as cursor,
            conn.wrap_database_errors,
            cursor.cursor.copy(sql) as copy,
        ):
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        return
    with conn.cursor() as cursor:
        cursor.executemany(insert_sql(model, fields), rows)
