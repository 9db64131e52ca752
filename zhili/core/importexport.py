"""Bulk import (xlsx/csv, all-or-nothing, row-by-row report) and export of any registered model.

Imports stream: rows are read, converted and inserted in batches inside one transaction, so
memory does not grow with the file; if any row fails, the whole transaction is rolled back
and the report lists every failing row (R-11.1, "Import" in requirements.md).
"""

import codecs
import csv
import datetime
import io
import itertools
import operator
import re
from collections import defaultdict
from dataclasses import dataclass, field

import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import IntegrityError, models, transaction
from django.db.models.base import ModelState
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.bulk import bulk_insert, insert_rows
from zhili.core.changes import json_value, record_bulk_create
from zhili.core.dbstats import refresh_statistics_soon
from zhili.core.fields import GeometryField, parse_geometry, validate_geometry
from zhili.core.masking import is_sensitive, mask_value
from zhili.core.models import DataSource
from zhili.core.permissions import can_unmask, has_action, scope_filter

LIST_SEPARATORS = re.compile(r"[,，;；、]")
TRUE_WORDS = {"1", "true", "yes", "y", "是", "真", "√", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "假", "×", "f"}
LON_HEADERS = ("longitude", "经度")
LAT_HEADERS = ("latitude", "纬度")
# An import this large refreshes the table's planner statistics (see zhili/core/dbstats.py).
STATISTICS_AFTER_ROWS = 1000


class ImportFileError(Exception):
    """The file as a whole cannot be read (type, encoding, size, header)."""


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    total: int = 0
    created: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, row: int, field_name: str, message: str) -> None:
        """Count an error; the report keeps the ``IMPORT_MAX_ERRORS`` of the lowest rows.

        Errors do not arrive in row order (a batch's cells are converted before its relations
        are looked up and its rows checked); ``finish`` sorts them.
        """
        self.error_count += 1
        limit = settings.ZHILI["IMPORT_MAX_ERRORS"]
        self.errors.append(RowError(row, field_name, str(message)))
        if len(self.errors) >= 2 * limit:
            self.finish()

    def finish(self) -> None:
        """Order the kept errors by row and drop those past the limit."""
        self.errors.sort(key=operator.attrgetter("row"))
        del self.errors[settings.ZHILI["IMPORT_MAX_ERRORS"] :]

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "total": self.total,
            "created": self.created if self.ok else 0,
            "error_count": self.error_count,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
        }


# ---------------------------------------------------------------- reading files


def read_table(fileobj, filename: str):
    """Return ``(headers, rows)`` of an uploaded .csv or .xlsx; rows is a lazy iterator of lists."""
    name = filename.lower()
    if name.endswith(".csv"):
        return _read_csv(fileobj)
    if name.endswith(".xlsx"):
        return _read_xlsx(fileobj)
    raise ImportFileError(_("Unsupported file type: upload a .xlsx or .csv file."))


def detect_encoding(sample: bytes) -> str:
    """Return ``utf-8-sig`` if the sample decodes as UTF-8, else ``gb18030`` (a superset of GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        decoder.decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK encoded.")) from None


def _read_csv(fileobj):
    binary = fileobj if not hasattr(fileobj, "file") else fileobj.file
    binary.seek(0)
    sample = binary.read(256 * 1024)
    binary.seek(0)
    if b"\x00" in sample:
        raise ImportFileError(_("The file is not a text CSV file."))
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    reader = csv.reader(text)

    def rows():
        try:
            yield from reader
        except UnicodeDecodeError:
            raise ImportFileError(
                _("Line %(line)s cannot be decoded as %(encoding)s.")
                % {"line": reader.line_num + 1, "encoding": "UTF-8" if encoding.startswith("utf") else "GBK"}
            ) from None
        except csv.Error as exc:
            raise ImportFileError(
                _("Line %(line)s is not valid CSV: %(error)s") % {"line": reader.line_num, "error": exc}
            ) from None

    iterator = rows()
    headers = next(iterator, None)
    if headers is None:
        raise ImportFileError(_("The file is empty."))
    return headers, iterator


def _read_xlsx(fileobj):
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError(
            _("The file is not a valid .xlsx workbook (%(error)s).") % {"error": exc}
        ) from None
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    headers = next(iterator, None)
    if headers is None:
        raise ImportFileError(_("The file is empty."))
    return [str(h) if h is not None else "" for h in headers], iterator


# ---------------------------------------------------------------- columns


def _header_names(field_obj) -> set[str]:
    names = {field_obj.name.lower()}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            names.add(str(field_obj.verbose_name).strip().lower())
    return names


def _clean_header(header) -> str:
    return str(header or "").strip().rstrip("*").strip().lower()


def _is_point_only(field_obj) -> bool:
    return isinstance(field_obj, GeometryField) and field_obj.geom_types == ("Point",)


def import_columns(entry) -> list[models.Field]:
    return [entry.meta.get_field(name) for name in entry.get_import_fields()]


def template_headers(entry) -> list[str]:
    """Return the header row of the entry's import template (required columns end with ``*``)."""
    headers = []
    for field_obj in import_columns(entry):
        if _is_point_only(field_obj):
            headers += [_("Longitude"), _("Latitude")]
            continue
        required = not field_obj.blank and not field_obj.many_to_many
        headers.append(f"{field_obj.verbose_name}{'*' if required else ''}")
    return headers


def natural_key_of(model) -> str:
    from zhili.core.registry import registry

    if model in registry and registry.get(model).natural_key:
        return registry.get(model).natural_key
    return "pk"


def _choice_map(field_obj) -> dict[str, object]:
    mapping = {}
    for value, label in field_obj.flatchoices:
        mapping[str(value).lower()] = value
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                mapping[str(label).strip().lower()] = value
    return mapping


def _is_blank_row(cells) -> bool:
    """True if every cell is empty or whitespace (a loop: this runs once per imported row)."""
    for cell in cells:  # noqa: SIM110 (a plain loop costs a fifth of all() over a generator)
        if cell is not None and (type(cell) is not str or cell.strip()):
            return False
    return True


def _as_text(value) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


DATE_PATTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def parse_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _as_text(value)
    match = DATE_PATTERN.match(text) or (re.match(r"^(\d{4})(\d{2})(\d{2})$", text))
    if not match:
        raise ValidationError(_("Not a date (use YYYY-MM-DD): %(value)s"), params={"value": text})
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValidationError(_("Not a real date: %(value)s"), params={"value": text}) from None


def parse_datetime(value) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        result = value
    else:
        text = _as_text(value).replace("/", "-")
        try:
            result = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                _("Not a date and time (use ISO 8601): %(value)s"), params={"value": text}
            ) from None
    if timezone.is_naive(result):
        result = timezone.make_aware(result)
    return result


class ColumnConverter:
    """Converts one cell to a model value; relations are resolved later, per batch."""

    def __init__(self, field_obj):
        self.field = field_obj
        self.required = not field_obj.blank and not field_obj.many_to_many
        self.max_length = (
            getattr(field_obj, "max_length", None)
            if isinstance(field_obj, models.CharField | models.TextField)
            else None
        )
        # Django's own length and NUL validators are checked inline (hot path); the rest run as usual.
        self.validators = [
            v
            for v in field_obj.validators
            if not isinstance(v, MaxLengthValidator | ProhibitNullCharactersValidator)
        ]
        self.plain_text = (
            isinstance(field_obj, models.CharField | models.TextField)
            and not isinstance(field_obj, GeometryField)
            and not field_obj.choices
        )
        self.choices = _choice_map(field_obj) if field_obj.choices else None
        self.relation = field_obj.related_model if field_obj.is_relation else None
        self.key = natural_key_of(self.relation) if self.relation else None

    def fast(self):
        """Return this converter specialised for text cells of plain text, choice and key columns.

        A CSV file has only text cells, and these columns are most of any file: the general
        ``__call__`` costs about twice as much per cell. Every other case (a number or date from
        XLSX, an empty cell, a NUL character, a value too long or not a choice) goes to
        ``__call__``, which gives the same value or the same error.
        """
        general = self.__call__
        if self.field.many_to_many or (
            not self.plain_text and self.relation is None and self.choices is None
        ):
            return general
        plain, relation, choices = self.plain_text, self.relation is not None, self.choices
        max_length, validators = self.max_length, tuple(self.validators)
        missing = object()

        def convert(raw):
            if type(raw) is not str:
                return general(raw)
            text = raw.strip()
            if not text or "\x00" in text:
                return general(raw)
            if plain:
                if max_length is not None and len(text) > max_length:
                    return general(raw)
                for validator in validators:
                    validator(text)
                return text
            if relation:
                return text
            value = choices.get(text.lower(), missing)
            if value is missing:
                return general(raw)
            for validator in validators:
                validator(value)
            return value

        return convert

    def __call__(self, raw):
        f = self.field
        if type(raw) is str:
            text = raw.strip()
        else:
            text = raw if isinstance(raw, datetime.date | datetime.datetime) else _as_text(raw)
        if text == "" or text is None:
            if self.required and f.default is models.NOT_PROVIDED:
                raise ValidationError(_("This field is required."))
            if f.many_to_many:
                return []
            if f.has_default():
                return f.get_default()
            return None if f.null else ""
        if isinstance(text, str) and "\x00" in text:
            raise ValidationError(_("Null characters are not allowed."))
        if self.plain_text:
            if self.max_length is not None and len(text) > self.max_length:
                raise ValidationError(
                    _("At most %(n)s characters (this value has %(len)s)."),
                    params={"n": self.max_length, "len": len(text)},
                )
            for validator in self.validators:
                validator(text)
            return text
        if f.many_to_many:
            return [part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()]
        if self.relation is not None:
            return text
        if self.choices is not None:
            key = str(text).lower()
            if key not in self.choices:
                raise ValidationError(_("Unknown choice %(value)s."), params={"value": text})
            value = self.choices[key]
        elif isinstance(f, models.BooleanField):
            key = str(text).lower()
            if key in TRUE_WORDS:
                value = True
            elif key in FALSE_WORDS:
                value = False
            else:
                raise ValidationError(_("Not a yes/no value: %(value)s"), params={"value": text})
        elif isinstance(f, models.DateTimeField):
            value = parse_datetime(raw)
        elif isinstance(f, models.DateField):
            value = parse_date(raw)
        elif isinstance(f, GeometryField):
            value = parse_geometry(text)
            validate_geometry(value, f.geom_types)
            return value
        else:
            value = f.to_python(text)
        for validator in self.validators:
            validator(value)
        return value


# ---------------------------------------------------------------- import


def _match_columns(entry, headers) -> tuple[list[tuple[int, models.Field]], tuple[int, int] | None]:
    cleaned = [_clean_header(h) for h in headers]
    mapping = []
    point = None
    for field_obj in import_columns(entry):
        if _is_point_only(field_obj):
            lon = next(
                (i for i, h in enumerate(cleaned) if h in LON_HEADERS or h == _("Longitude").lower()), None
            )
            lat = next(
                (i for i, h in enumerate(cleaned) if h in LAT_HEADERS or h == _("Latitude").lower()), None
            )
            if lon is not None and lat is not None:
                point = (lon, lat)
            continue
        names = _header_names(field_obj)
        index = next((i for i, h in enumerate(cleaned) if h in names), None)
        if index is not None:
            mapping.append((index, field_obj))
        elif not field_obj.blank and not field_obj.many_to_many and field_obj.default is models.NOT_PROVIDED:
            raise ImportFileError(
                _("Required column missing: %(column)s") % {"column": field_obj.verbose_name}
            )
    if not mapping:
        raise ImportFileError(_("No column of the file matches the template."))
    return mapping, point


def import_file(entry, fileobj, filename: str, user) -> ImportResult:
    """Import every row of the file or none; return the report."""
    size = getattr(fileobj, "size", None)
    if size is not None and size > settings.ZHILI_IMPORT_MAX_BYTES:
        raise ImportFileError(_("The file is larger than the import limit."))
    headers, rows = read_table(fileobj, filename)
    importer = Importer(entry, user)
    result = importer.run(headers, rows)
    audit.emit(
        "data.import",
        user=user,
        success=result.ok,
        details={
            "model": entry.label,
            "file": filename,
            "rows": result.total,
            "created": result.created if result.ok else 0,
            "errors": result.error_count,
        },
    )
    return result


class Importer:
    """Validates and inserts rows in batches inside one transaction (rolled back on any error)."""

    def __init__(self, entry, user):
        self.entry = entry
        self.model = entry.model
        self.user = user
        self.batch_size = settings.ZHILI["IMPORT_BATCH_SIZE"]
        self.owner_unit_id = getattr(user, "department_id", None)
        self.is_base_model = hasattr(self.model, "data_source")
        fields = [f for f in self.model._meta.concrete_fields if not f.primary_key]
        self.static_defaults = {self.model._meta.pk.attname: None}
        self.dynamic_defaults = []
        for f in fields:
            if f.has_default() and callable(f.default):
                self.dynamic_defaults.append((f.attname, f))
            else:
                self.static_defaults[f.attname] = f.get_default()

    def run(self, headers, rows) -> ImportResult:
        result = ImportResult()
        mapping, point = _match_columns(self.entry, headers)
        # Rows are dicts keyed by attname (m2m: by name): hashing a text is far cheaper than
        # hashing a Field, and a converted row updates the new instance's __dict__ as it is.
        self.converters = [
            (index, field_obj, field_obj.name if field_obj.many_to_many else field_obj.attname,
             ColumnConverter(field_obj).fast(), field_obj.many_to_many)
            for index, field_obj in mapping
        ]  # fmt: skip
        self.width = max(index for index, _field in mapping) + 1
        self.relations = {
            key: field_obj
            for _index, field_obj, key, _convert, _m2m in self.converters
            if field_obj.is_relation
        }
        self.point_field = next((f for f in import_columns(self.entry) if _is_point_only(f)), None)
        self.point = point
        with transaction.atomic():
            reader = self._data_rows(rows, result)
            while batch := list(itertools.islice(reader, self.batch_size)):
                self._process(batch, result)
            if result.total == 0:
                raise ImportFileError(_("The file has no data rows."))
            if not result.ok:
                transaction.set_rollback(True)
        result.finish()
        if result.ok and result.created >= STATISTICS_AFTER_ROWS:
            links = [f.remote_field.through._meta.db_table for f in self.model._meta.local_many_to_many]
            refresh_statistics_soon(self.model._meta.db_table, *links)
        return result

    @staticmethod
    def _data_rows(rows, result):
        """Yield ``(row number, cells)`` of the rows that are not blank, counting them."""
        for rownum, cells in enumerate(rows, start=2):
            if cells is None or _is_blank_row(cells):
                continue
            result.total += 1
            yield rownum, cells

    def _convert(self, rownum, cells, result):
        values, m2m, ok = {}, {}, True
        if len(cells) < self.width:  # a short row: its missing cells are empty
            cells = [*cells, *([None] * (self.width - len(cells)))]
        for index, field_obj, key, convert, is_m2m in self.converters:
            try:
                value = convert(cells[index])
            except ValidationError as exc:
                result.add_error(rownum, str(field_obj.verbose_name), "; ".join(exc.messages))
                ok = False
                continue
            if is_m2m:
                m2m[key] = value
            else:
                values[key] = value
        if self.point is not None:
            try:
                lon = float(_as_text(cells[self.point[0]]))
                lat = float(_as_text(cells[self.point[1]]))
                geom = shapely.Point(lon, lat)
                validate_geometry(geom, ("Point",))
                values[self.point_field.attname] = geom
            except (ValueError, IndexError, ValidationError):
                result.add_error(rownum, _("Longitude") + "/" + _("Latitude"), _("Not a valid coordinate."))
                ok = False
        return (values, m2m) if ok else None

    def _resolve(self, parsed, result):
        """Replace natural keys of relations by primary keys, one query per relation per batch."""
        if not self.relations:
            return [(rownum, values, m2m) for rownum, (values, m2m) in parsed]
        wanted = defaultdict(set)
        for _rownum, (values, m2m) in parsed:
            for name, field_obj in self.relations.items():
                value = m2m.get(name) if field_obj.many_to_many else values.get(name)
                if value not in (None, "", []):
                    wanted[name].update(value if field_obj.many_to_many else [value])
        resolved = {}
        for name, keys in wanted.items():
            field_obj = self.relations[name]
            target = field_obj.related_model
            key = natural_key_of(target)
            queryset = target._default_manager.all()
            if hasattr(queryset, "restrict"):
                queryset = queryset.restrict(self.user, "view")
            lookup_keys = list(keys)
            if key == "pk":
                lookup_keys = [k for k in keys if str(k).isdigit()]
            resolved[name] = {
                str(k): pk for k, pk in queryset.filter(**{f"{key}__in": lookup_keys}).values_list(key, "pk")
            }
        good = []
        for rownum, (values, m2m) in parsed:
            ok = True
            for name, field_obj in self.relations.items():
                raw = m2m.get(name) if field_obj.many_to_many else values.get(name)
                if raw in (None, "", []):
                    continue
                table = resolved.get(name, {})
                if field_obj.many_to_many:
                    missing = [k for k in raw if str(k) not in table]
                    m2m[name] = [table[str(k)] for k in raw if str(k) in table]
                else:
                    missing = [] if str(raw) in table else [raw]
                    values[name] = table.get(str(raw))
                if missing:
                    result.add_error(
                        rownum,
                        str(field_obj.verbose_name),
                        _("Not found (or outside your data scope): %(keys)s")
                        % {"keys": "、".join(map(str, missing))},
                    )
                    ok = False
            if ok:
                good.append((rownum, values, m2m))
        return good

    def _blank(self):
        """Return a new, unsaved instance with field defaults, without the cost of ``Model.__init__``."""
        obj = self.model.__new__(self.model)
        obj._state = ModelState()
        data = obj.__dict__
        data.update(self.static_defaults)
        for attname, field_obj in self.dynamic_defaults:
            data[attname] = field_obj.get_default()
        return obj

    def _build(self, rownum, values, result):
        obj = self._blank()
        data = obj.__dict__
        data.update(values)
        if self.is_base_model:
            data["data_source"] = DataSource.IMPORT
            data["created_by_id"] = data["updated_by_id"] = self.user.pk
            if data.get("owner_unit_id") is None:
                data["owner_unit_id"] = self.owner_unit_id
        try:
            obj.clean()
        except ValidationError as exc:
            for name, messages in (
                exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
            ):
                label = (
                    str(self.model._meta.get_field(name).verbose_name) if name and name != "__all__" else ""
                )
                result.add_error(rownum, label, "; ".join(messages))
            return None
        return obj

    def _process(self, batch, result):
        """Convert, resolve, check and insert one batch of ``(row number, cells)``."""
        parsed = []
        for rownum, cells in batch:
            converted = self._convert(rownum, cells, result)
            if converted is not None:
                parsed.append((rownum, converted))
        objs = []
        for rownum, values, m2m in self._resolve(parsed, result):
            obj = self._build(rownum, values, result)
            if obj is not None:
                objs.append((rownum, obj, m2m))
        if not objs:
            return
        created = self._insert(objs, result)
        if not created:
            return
        if not self._within_scope([obj.pk for _rownum, obj, _m2m in created]):
            result.add_error(created[0][0], "", _("Rows fall outside your data scope."))
            return
        self._set_m2m(created)
        record_bulk_create(
            [obj for _rownum, obj, _m2m in created],
            user=self.user,
            message=_("Imported from file"),
        )
        result.created += len(created)

    def _within_scope(self, ids) -> bool:
        """Return True if the user may import every new row (read back through the scope filter)."""
        if not has_action(self.user, self.model, "import"):
            return False
        condition = scope_filter(self.user, self.model, "import")
        if not condition:
            return True  # an unrestricted scope: no query needed
        return self.model._default_manager.filter(condition, pk__in=ids).count() == len(ids)

    def _insert(self, objs, result):
        try:
            with transaction.atomic():
                bulk_insert([obj for _rownum, obj, _m2m in objs])
            return objs
        except IntegrityError:
            pass
        created = []
        for rownum, obj, m2m in objs:
            try:
                with transaction.atomic():
                    bulk_insert([obj])
                created.append((rownum, obj, m2m))
            except IntegrityError:
                result.add_error(rownum, "", _("Duplicates an existing record or another row of the file."))
        return created

    def _set_m2m(self, created):
        links = defaultdict(list)
        for _rownum, obj, m2m in created:
            for name, pks in m2m.items():
                field_obj = self.relations[name]
                through = getattr(self.model, name).through
                source = field_obj.m2m_field_name() + "_id"
                target = field_obj.m2m_reverse_field_name() + "_id"
                links[(through, source, target)].extend((obj.pk, pk) for pk in pks)
        for (through, source, target), rows in links.items():
            insert_rows(through, [source, target], rows)


# ---------------------------------------------------------------- export


def export_columns(entry) -> list:
    return [
        entry.meta.get_field(name) if name != "id" else entry.meta.pk for name in entry.get_export_fields()
    ]


def export_rows(entry, queryset, user):
    """Yield the header row then one row per object, as text a person and a re-import can read."""
    fields = export_columns(entry)
    unmask = can_unmask(user, entry.model)
    sensitive = [f.name for f in fields if getattr(f, "is_sensitive", False)]
    if unmask and sensitive:
        audit.emit(
            "data.unmask", user=user, details={"model": entry.label, "via": "export", "fields": sensitive}
        )
    yield [str(f.verbose_name) for f in fields]
    relations = [f.name for f in fields if f.is_relation and not f.many_to_many]
    m2m = [f.name for f in fields if f.many_to_many]
    queryset = queryset.select_related(*relations)
    if m2m:
        queryset = queryset.prefetch_related(*m2m)
    for obj in queryset.iterator(chunk_size=2000):
        yield [export_value(obj, f, unmask) for f in fields]


def export_value(obj, field_obj, unmask: bool, timespec: str = "auto"):
    """The cell of ``obj``'s ``field_obj`` in an export: relations by natural key, choices by
    label, date-times in local time as ISO 8601 (``timespec`` as for ``datetime.isoformat``),
    sensitive values masked unless ``unmask``."""
    if field_obj.many_to_many:
        key = natural_key_of(field_obj.related_model)
        return "、".join(str(getattr(o, key)) for o in getattr(obj, field_obj.name).all())
    value = getattr(obj, field_obj.name)
    if value is None:
        return ""
    if field_obj.is_relation:
        return str(getattr(value, natural_key_of(field_obj.related_model)))
    if field_obj.choices:
        return str(getattr(obj, f"get_{field_obj.name}_display")())
    if isinstance(field_obj, models.DateTimeField):
        return timezone.localtime(value).isoformat(timespec=timespec)
    if is_sensitive(field_obj) and not unmask:
        return mask_value(field_obj, value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    result = json_value(value)
    return result if isinstance(result, int | float) else str(result)


class _Echo:
    def write(self, value):
        return value


def csv_stream(rows):
    """Yield CSV text (UTF-8 with BOM, so that Excel opens Chinese text correctly)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def write_xlsx(rows, target) -> None:
    """Write rows to an .xlsx file with constant memory (write-only workbook)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    workbook.save(target)
