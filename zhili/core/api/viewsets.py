"""The REST viewset every registered model gets, and the router that collects them."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from zhili.core import audit
from zhili.core.api.serializers import attach_m2m_pks, build_serializer, pk_only_m2m
from zhili.core.changes import record_change, snapshot
from zhili.core.filtersets import build_filterset_cached
from zhili.core.importexport import export_rows, import_file
from zhili.core.models import ChangeAction
from zhili.core.permissions import restrict
from zhili.core.views.bulk import table_response
from zhili.core.views.generic import ensure_in_scope

VIEWSET_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "import_file": "import",
    "export": "export",
}


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .xlsx or .csv file laid out like the import template.")


class ImportReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    total = serializers.IntegerField()
    created = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class EntryViewSet(viewsets.ModelViewSet):
    """CRUD, filters, search, ordering, import and export for one registered model."""

    entry = None

    @property
    def model(self):
        return self.entry.model

    @property
    def model_action(self):
        return VIEWSET_ACTIONS.get(self.action)

    def get_queryset(self):
        queryset = restrict(
            self.entry.model._default_manager.all(), self.request.user, self.model_action or "view"
        )
        m2m = self._m2m_names()
        if self.action == "list" and self.paginator is not None:
            # Shown as keys only: read for the page by ``paginate_queryset``, not prefetched.
            m2m = [name for name in m2m if name not in self._keys_only_m2m()]
        if m2m:
            queryset = queryset.prefetch_related(*m2m)
        if not self.request.query_params.get("ordering"):
            queryset = queryset.order_by(*self.entry.ordering)
        return queryset

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and self.action == "list":
            keys_only = self._keys_only_m2m()
            attach_m2m_pks(page, [name for name in self._m2m_names() if name in keys_only])
        return page

    def _keys_only_m2m(self) -> frozenset:
        return pk_only_m2m(self.get_serializer_class(), self.get_serializer_context())

    def _m2m_names(self) -> list[str]:
        return [f.name for f in self.entry.meta.many_to_many if f.name in self.entry.get_form_fields()]

    def perform_create(self, serializer):
        user = self.request.user
        with transaction.atomic():
            extra = {}
            if hasattr(self.entry.model, "data_source"):
                extra = {"created_by": user, "updated_by": user, "data_source": "api"}
                if not serializer.validated_data.get("owner_unit") and getattr(user, "department_id", None):
                    extra["owner_unit_id"] = user.department_id
            obj = serializer.save(**extra)
            ensure_in_scope(obj, user, "add")
            record_change(obj, ChangeAction.CREATE, user=user)

    def perform_update(self, serializer):
        user = self.request.user
        with transaction.atomic():
            prechange = snapshot(serializer.instance)
            extra = {"updated_by": user} if hasattr(self.entry.model, "updated_by") else {}
            obj = serializer.save(**extra)
            ensure_in_scope(obj, user, "change")
            record_change(obj, ChangeAction.UPDATE, user=user, prechange=prechange)

    def perform_destroy(self, instance):
        from zhili.core.views.generic import delete_object

        delete_object(instance, self.request.user)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        # 400: the report of failing rows, or field errors ({"file": [...]}) for an unreadable file
        responses={200: ImportReportSerializer, 400: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[parsers.MultiPartParser])
    def import_file(self, request):
        """Import a .xlsx/.csv file: every row or none; the report lists each failing row."""
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        result = import_file(self.entry, file, file.name, request.user)
        return Response(result.as_dict(), status=200 if result.ok else 400)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv", "xlsx"])],
        responses={(200, "text/csv"): bytes},
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        """Download the filtered list as CSV or XLSX (``?file_format=xlsx``; ``format`` is DRF's)."""
        fmt = "xlsx" if request.query_params.get("file_format") == "xlsx" else "csv"
        queryset = self.filter_queryset(self.get_queryset())
        audit.emit(
            "data.export",
            user=request.user,
            details={
                "model": self.entry.label,
                "format": fmt,
                "via": "api",
                "filters": {k: v for k, v in request.query_params.items() if k != "format"},
            },
        )
        return table_response(
            export_rows(self.entry, queryset, request.user), f"{self.entry.model_name}.{fmt}", fmt
        )


def build_viewset(entry) -> type[EntryViewSet]:
    """Return the viewset class of a registry entry."""
    search = [
        f"{name}"
        if not getattr(entry.meta.get_field(name.split("__")[0]), "is_sensitive", False)
        else f"={name}"
        for name in entry.search_fields
    ]
    ordering = [name for name in entry.get_list_fields() if entry.meta.get_field(name).concrete] + ["id"]
    return type(
        f"{entry.model.__name__}ViewSet",
        (EntryViewSet,),
        {
            "entry": entry,
            "serializer_class": build_serializer(entry),
            "filterset_class": build_filterset_cached(entry, api=True),
            "search_fields": search,
            "ordering_fields": ordering,
            "queryset": entry.model._default_manager.none(),
            "__doc__": f"{entry.model.__name__}: list, filter, create, edit, delete, import and export.",
        },
    )


def api_urls() -> list:
    """Return the URL patterns of the REST API of every registered model."""
    from django.urls import include, path
    from rest_framework.routers import DefaultRouter
    from rest_framework.urlpatterns import format_suffix_patterns

    from zhili.core.registry import registry

    # One router per app under ``<app>/``: a request descends only into its own app's patterns
    # instead of trying the patterns of every model before it (a tenth of a list request's
    # Python time went to URL resolving). URL names are the same as with one router.
    root = DefaultRouter()
    apps: dict[str, DefaultRouter] = {}
    for entry in registry:
        viewset = build_viewset(entry)
        basename = f"{entry.app_label}-{entry.model_name}"
        root.register(entry.api_path, viewset, basename=basename)
        prefix, _, rest = entry.api_path.partition("/")
        if prefix not in apps:
            apps[prefix] = DefaultRouter()
            apps[prefix].include_root_view = False  # the one root view is ``root``'s
        apps[prefix].register(rest, viewset, basename=basename)
    patterns = [path(f"{prefix}/", include(router.urls)) for prefix, router in apps.items()]
    # The API root (``/api/``) lists every endpoint, as DefaultRouter's own root view does.
    patterns += format_suffix_patterns([path("", root.get_api_root_view(), name=root.root_view_name)])
    return patterns
