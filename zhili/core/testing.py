"""Generic tests that every registered model gets; a model's test file supplies data only.

    class TestResident(RegisteredModelTests):
        model = Resident
        form_data = {...}                 # a valid create form (UI and API)
        update_data = {"phone": "..."}    # a change applied to make_object()
        def make_object(self): ...        # one saved object
        def csv_rows(self): ...           # valid import rows keyed by field name

Each test runs as three kinds of user: an administrator (all permissions), a viewer (view only)
and a user without permissions; it asserts the response, the database and the change record.
"""

import csv
import io
import json

import openpyxl
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from zhili.core.changes import history_for
from zhili.core.importexport import import_columns
from zhili.core.models import ChangeAction, ChangeRecord
from zhili.core.registry import registry


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


class RegisteredModelTests(TestCase):
    """List/detail/create/edit/delete/history/import/export/API tests for one registered model."""

    model = None
    form_data: dict = {}
    update_data: dict = {}
    __test__ = False

    #: What a model's test class must define (checked when the class is defined):
    #: ``make_object(self)`` returns one saved object; ``csv_rows(self)`` returns at least two
    #: valid import rows keyed by field name (``longitude``/``latitude`` for points).
    REQUIRED_DATA = ("make_object", "csv_rows")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__test__ = cls.model is not None
        if cls.__test__:
            missing = [name for name in cls.REQUIRED_DATA if not callable(getattr(cls, name, None))]
            if missing:
                raise TypeError(
                    f"{cls.__name__} must define " + " and ".join(f"{name}()" for name in missing)
                )

    # -- data supplied by the model's test file -------------------------------------------------

    def api_data(self) -> dict:
        """Return a valid API create payload (defaults to ``form_data``)."""
        return dict(self.form_data)

    # -- set-up ----------------------------------------------------------------------------------

    @classmethod
    def setUpTestData(cls):
        user_model = get_user_model()
        cls.admin = user_model.objects.create_superuser("t_admin", password="x")
        cls.viewer = user_model.objects.create_user("t_viewer", password="x")
        cls.nobody = user_model.objects.create_user("t_nobody", password="x")
        view_perms = Permission.objects.filter(codename__startswith="view_")
        cls.viewer.user_permissions.add(*view_perms)

    def setUp(self):
        self.entry = registry.get(self.model)

    def url(self, view, *args):
        from django.urls import reverse

        return reverse(self.entry.url_name(view), args=args)

    def api_url(self, pk=None):
        base = f"/api/{self.entry.api_path}/"
        return base if pk is None else f"{base}{pk}/"

    def login(self, user):
        self.client.force_login(user)

    def last_change(self, obj_pk, action):
        return ChangeRecord.objects.filter(object_id=str(obj_pk), action=action).order_by("-id").first()

    def _table_file(self, rows, fmt="csv", encoding="utf-8", headers_as="name"):
        columns = import_columns(self.entry)
        headers, keys = [], []
        for field in columns:
            if getattr(field, "geom_types", None) == ("Point",):
                headers += ["经度", "纬度"] if headers_as == "verbose" else ["longitude", "latitude"]
                keys += ["longitude", "latitude"]
            else:
                headers.append(f"{field.verbose_name}" if headers_as == "verbose" else field.name)
                keys.append(field.name)
        table = [headers] + [[_cell(row.get(k)) for k in keys] for row in rows]
        if fmt == "xlsx":
            workbook = openpyxl.Workbook()
            for line in table:
                workbook.active.append(line)
            buffer = io.BytesIO()
            workbook.save(buffer)
            return SimpleUploadedFile("data.xlsx", buffer.getvalue())
        text = io.StringIO()
        csv.writer(text).writerows(table)
        return SimpleUploadedFile("data.csv", text.getvalue().encode(encoding))

    def _import(self, upload):
        self.login(self.admin)
        return self.client.post(self.url("import"), {"file": upload})

    def assertImported(self, response, before: int, rows: list) -> None:  # noqa: N802 (unittest style)
        """Assert that an import page answered 200 and created one object per row."""
        context = response.context
        self.assertEqual(
            response.status_code,
            200,
            (context["result"] and context["result"].errors) or context["file_error"],
        )
        self.assertEqual(self.model.objects.count(), before + len(rows))

    # -- pages -----------------------------------------------------------------------------------

    def test_list_needs_view_permission(self):
        self.make_object()
        self.login(self.nobody)
        self.assertEqual(self.client.get(self.url("list")).status_code, 403)
        self.login(self.viewer)
        response = self.client.get(self.url("list"))
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, self.url("add"))

    def test_list_filters_search_sort_and_pages(self):
        obj = self.make_object()
        self.login(self.viewer)
        for column in self.entry.get_list_fields():
            for sort in (column, f"-{column}"):
                response = self.client.get(self.url("list"), {"sort": sort})
                self.assertEqual(response.status_code, 200, sort)
        response = self.client.get(self.url("list"), {"q": str(obj)[:4], "per_page": 50, "page": 1})
        self.assertEqual(response.status_code, 200)
        response = self.client.get(self.url("list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "<html")
        for name in self.entry.get_filter_fields():
            response = self.client.get(self.url("list"), {name: "not-a-valid-value-∞"})
            self.assertIn(response.status_code, (200, 400), name)

    def test_detail_shows_object_and_history(self):
        obj = self.make_object()
        self.login(self.nobody)
        self.assertEqual(self.client.get(self.url("detail", obj.pk)).status_code, 403)
        self.login(self.viewer)
        response = self.client.get(self.url("detail", obj.pk))
        self.assertContains(response, str(obj))
        self.assertEqual(self.client.get(self.url("history", obj.pk)).status_code, 200)
        self.assertEqual(self.client.get(self.url("detail", 10**9)).status_code, 404)

    def test_create_records_change(self):
        self.login(self.viewer)
        self.assertEqual(self.client.post(self.url("add"), self.form_data).status_code, 403)
        self.login(self.admin)
        before = self.model.objects.count()
        response = self.client.post(self.url("add"), self.form_data)
        self.assertEqual(
            response.status_code, 302, getattr(response, "context", None) and response.context["form"].errors
        )
        self.assertEqual(self.model.objects.count(), before + 1)
        obj = self.model.objects.latest("pk")
        record = self.last_change(obj.pk, ChangeAction.CREATE)
        self.assertIsNotNone(record)
        self.assertEqual(record.user, self.admin)
        self.assertIsNotNone(record.request_id)
        self.assertEqual(obj.created_by, self.admin)

    def test_create_with_bad_input_saves_nothing(self):
        self.login(self.admin)
        before = self.model.objects.count()
        response = self.client.post(self.url("add"), {})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.model.objects.count(), before)

    def test_edit_records_before_and_after(self):
        obj = self.make_object()
        self.login(self.admin)
        form = self.client.get(self.url("edit", obj.pk)).context["form"]
        data = {}
        for name, field in form.fields.items():
            value = form[name].value()
            if value is not None:
                data[name] = field.widget.format_value(value) if hasattr(value, "geom_type") else value
        data.update(self.update_data)
        response = self.client.post(self.url("edit", obj.pk), data)
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        record = self.last_change(obj.pk, ChangeAction.UPDATE)
        self.assertIsNotNone(record)
        self.assertIsNotNone(record.prechange_data)
        self.assertIsNotNone(record.postchange_data)
        changed = {field for field, _before, _after in record.diff()}
        for key in self.update_data:
            field = self.model._meta.get_field(key)
            self.assertIn(field.attname if field.is_relation else key, changed)

    def test_delete_records_change(self):
        obj = self.make_object()
        self.login(self.viewer)
        self.assertEqual(self.client.post(self.url("delete", obj.pk)).status_code, 403)
        self.login(self.admin)
        self.assertEqual(self.client.get(self.url("delete", obj.pk)).status_code, 200)
        self.assertEqual(self.client.post(self.url("delete", obj.pk)).status_code, 302)
        self.assertFalse(self.model.objects.filter(pk=obj.pk).exists())
        record = self.last_change(obj.pk, ChangeAction.DELETE)
        self.assertIsNotNone(record.prechange_data)

    # -- import / export -------------------------------------------------------------------------

    def test_import_template_downloads(self):
        self.login(self.admin)
        for fmt in ("xlsx", "csv"):
            response = self.client.get(self.url("import_template"), {"format": fmt})
            self.assertEqual(response.status_code, 200)
            self.assertGreater(len(b"".join(response.streaming_content)), 10)

    def test_import_csv_utf8_and_gbk(self):
        rows = self.csv_rows()
        before = self.model.objects.count()
        response = self._import(self._table_file(rows, "csv", "utf-8"))
        self.assertImported(response, before, rows)
        created = self.model.objects.order_by("-pk")[: len(rows)]
        self.assertTrue(all(o.data_source == "import" for o in created))
        # Every imported object's history starts with the import's create record.
        self.assertEqual(
            [history_for(o).filter(action=ChangeAction.CREATE).count() for o in created], [1] * len(rows)
        )
        self.model.objects.filter(pk__in=[o.pk for o in created]).delete()
        response = self._import(self._table_file(rows, "csv", "gbk", headers_as="verbose"))
        self.assertImported(response, before, rows)

    def test_import_xlsx(self):
        rows = self.csv_rows()
        before = self.model.objects.count()
        response = self._import(self._table_file(rows, "xlsx", headers_as="verbose"))
        self.assertImported(response, before, rows)

    def test_import_is_all_or_nothing(self):
        rows = self.csv_rows()
        broken = dict(rows[-1])
        required = [f.name for f in import_columns(self.entry) if not f.blank and not f.many_to_many]
        broken[required[0]] = ""
        before = self.model.objects.count()
        response = self._import(self._table_file([*rows, broken], "csv"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.model.objects.count(), before)
        result = response.context["result"]
        self.assertFalse(result.ok)
        self.assertIn(len(rows) + 2, {e.row for e in result.errors})

    def test_import_rejects_unreadable_files(self):
        for name, content in (
            ("data.txt", b"a,b"),
            ("data.xlsx", b"not a zip"),
            ("data.csv", b"\x00\x01\x02"),
        ):
            response = self._import(SimpleUploadedFile(name, content))
            self.assertEqual(response.status_code, 400, name)
            self.assertTrue(response.context["file_error"])

    def test_export_csv_and_xlsx(self):
        obj = self.make_object()
        self.login(self.viewer)
        self.assertEqual(self.client.get(self.url("export")).status_code, 403)
        self.login(self.admin)
        response = self.client.get(self.url("export"), {"format": "csv"})
        self.assertEqual(response.status_code, 200)
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        self.assertIn(str(obj.pk), [row[0] for row in rows[1:]])
        response = self.client.get(self.url("export"), {"format": "xlsx"})
        workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
        ids = [row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
        self.assertIn(str(obj.pk), [str(i) for i in ids])

    # -- API -------------------------------------------------------------------------------------

    def test_api_list_and_detail(self):
        obj = self.make_object()
        self.assertIn(self.client.get(self.api_url()).status_code, (401, 403))
        self.login(self.nobody)
        self.assertEqual(self.client.get(self.api_url()).status_code, 403)
        self.login(self.viewer)
        response = self.client.get(self.api_url(), {"count": "true"})
        self.assertEqual(response.status_code, 200)
        self.assertGreaterEqual(response.json()["count"], 1)
        response = self.client.get(self.api_url(obj.pk))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["id"], obj.pk)
        self.assertEqual(self.client.get(self.api_url(10**9)).status_code, 404)

    def test_api_search_and_filters(self):
        """The API's FilterSet (shared across requests) searches and filters each request anew."""
        obj = self.make_object()
        self.login(self.viewer)
        if self.entry.search_fields:
            term = obj
            for part in self.entry.search_fields[0].split("__"):
                term = getattr(term, part, None)
            if term not in (None, ""):
                found = self.client.get(self.api_url(), {"q": str(term), "page_size": 100}).json()["results"]
                self.assertIn(obj.pk, [row["id"] for row in found])
            missing = self.client.get(self.api_url(), {"q": "没有这样的记录zz"}).json()["results"]
            self.assertEqual(missing, [])
        for name in self.entry.get_filter_fields():
            field = self.model._meta.get_field(name)
            if field.many_to_one and getattr(obj, field.attname) is not None:
                value = getattr(obj, field.attname)
                rows = self.client.get(self.api_url(), {name: value, "page_size": 100}).json()["results"]
                self.assertIn(obj.pk, [row["id"] for row in rows])
                self.assertEqual(self.client.get(self.api_url(), {name: "x"}).status_code, 400)

    def test_api_create_update_delete(self):
        self.login(self.viewer)
        self.assertEqual(
            self.client.post(self.api_url(), self.api_data(), content_type="application/json").status_code,
            403,
        )
        self.login(self.admin)
        response = self.client.post(self.api_url(), self.api_data(), content_type="application/json")
        self.assertEqual(response.status_code, 201, response.content)
        pk = response.json()["id"]
        self.assertIsNotNone(self.last_change(pk, ChangeAction.CREATE))
        response = self.client.patch(self.api_url(pk), self.update_data, content_type="application/json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertIsNotNone(self.last_change(pk, ChangeAction.UPDATE))
        self.assertEqual(self.client.delete(self.api_url(pk)).status_code, 204)
        self.assertIsNotNone(self.last_change(pk, ChangeAction.DELETE))

    def test_api_bad_input_is_a_400_with_field_errors(self):
        self.login(self.admin)
        response = self.client.post(self.api_url(), "{not json", content_type="application/json")
        self.assertEqual(response.status_code, 400)
        response = self.client.post(self.api_url(), {}, content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIsInstance(response.json(), dict)
        response = self.client.post(self.api_url(), "a=b", content_type="text/plain")
        self.assertEqual(response.status_code, 415)
        response = self.client.get(self.api_url(), {"page": "x"})
        self.assertEqual(response.status_code, 400)

    def test_api_import_and_export(self):
        self.login(self.admin)
        rows = self.csv_rows()
        before = self.model.objects.count()
        response = self.client.post(f"{self.api_url()}import/", {"file": self._table_file(rows, "csv")})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["created"], len(rows))
        self.assertEqual(self.model.objects.count(), before + len(rows))
        response = self.client.get(f"{self.api_url()}export/", {"file_format": "csv"})
        self.assertEqual(response.status_code, 200)

    def test_global_search_finds_object(self):
        obj = self.make_object()
        if not self.entry.search_fields:
            return
        self.login(self.viewer)
        field = self.entry.search_fields[0]
        value = obj
        for part in field.split("__"):
            value = getattr(value, part)
        response = self.client.get("/search/", {"q": str(value)})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, obj.get_absolute_url())


def json_body(response) -> dict:
    return json.loads(response.content)
