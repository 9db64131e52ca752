"""The model registry: register a model once, get pages, API, import/export, search and history.

Each app declares its registrations in ``<app>/register.py`` (imported from ``AppConfig.ready``)::

    registry.register(Resident, group="community", icon="person",
                      search_fields=("name", "id_number"), list_fields=("name", "sex", "grid"))

Anything not declared (form, filterset, serializer, table columns) is built from the model by
``core.builders``. ``model_urls(Model)`` then gives the app's URL patterns with grep-able names
such as ``people:resident_list``.
"""

import re
from dataclasses import dataclass, field

from django.db import models
from django.utils.functional import cached_property

from zhili.core.fields import BBoxField, GeometryField

NAV_GROUPS = ("party", "town", "social", "community", "rural", "sharing", "system")


def kebab_plural(name: str) -> str:
    """Return the REST collection name for a model class name: ``BusinessUnit`` → ``business-units``."""
    words = re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()
    if words.endswith(("s", "x", "ch", "sh")):
        return words + "es"
    if words.endswith("y") and words[-2:-1] not in "aeiou":
        return words[:-1] + "ies"
    return words + "s"


@dataclass
class ModelEntry:
    """What the machinery knows about one registered model. Options are keyword arguments of
    ``register``; every one of them has a default derived from the model."""

    model: type[models.Model]
    group: str = "community"
    icon: str = "table"
    list_fields: tuple[str, ...] | None = None
    search_fields: tuple[str, ...] = ()
    filter_fields: tuple[str, ...] | None = None
    form_fields: tuple[str, ...] | None = None
    import_fields: tuple[str, ...] | None = None
    export_fields: tuple[str, ...] | None = None
    ordering: tuple[str, ...] = ("-pk",)
    #: Field of this model that identifies a row in imports of other models (e.g. "code").
    natural_key: str | None = None
    #: True for small reference tables (divisions, grids, tags): FK filters show a select list.
    lookup: bool = False
    form: type | None = None
    filterset: type | None = None
    serializer: type | None = None
    api_name: str | None = None
    select_related: tuple[str, ...] = ()
    nav: bool = True
    order: int = 100
    extra: dict = field(default_factory=dict)

    @property
    def meta(self):
        return self.model._meta

    @property
    def app_label(self) -> str:
        return self.meta.app_label

    @property
    def model_name(self) -> str:
        return self.meta.model_name

    @property
    def label(self) -> str:
        return self.meta.label_lower

    @property
    def verbose_name(self):
        return self.meta.verbose_name

    @property
    def verbose_name_plural(self):
        return self.meta.verbose_name_plural

    def url_name(self, view: str) -> str:
        return f"{self.app_label}:{self.model_name}_{view}"

    @property
    def api_path(self) -> str:
        return f"{self.app_label}/{self.api_name or kebab_plural(self.model.__name__)}"

    @cached_property
    def geometry_field(self) -> GeometryField | None:
        for f in self.meta.concrete_fields:
            if isinstance(f, GeometryField):
                return f
        return None

    def data_fields(self) -> list[models.Field]:
        """Return the concrete fields that carry the record's own data (not bookkeeping)."""
        from zhili.core.models import BaseModel

        skip = set(BaseModel.BASE_FIELDS) | {"path", "depth", "password"}
        return [
            f
            for f in self.meta.concrete_fields
            if f.name not in skip and not f.primary_key and not isinstance(f, BBoxField)
        ]

    def get_list_fields(self) -> tuple[str, ...]:
        if self.list_fields:
            return self.list_fields
        names = [f.name for f in self.data_fields() if not isinstance(f, GeometryField | models.TextField)]
        return tuple(names[:7])

    def get_form_fields(self) -> tuple[str, ...]:
        if self.form_fields:
            return self.form_fields
        names = [f.name for f in self.data_fields() if f.editable]
        names += [f.name for f in self.meta.many_to_many if f.editable]
        return tuple(names)

    def get_import_fields(self) -> tuple[str, ...]:
        if self.import_fields:
            return self.import_fields
        return tuple(
            n for n in self.get_form_fields() if not isinstance(self.meta.get_field(n), GeometryField)
        ) + (
            ("geometry",)
            if self.geometry_field is not None and self.geometry_field.name == "geometry"
            else ()
        )

    def get_export_fields(self) -> tuple[str, ...]:
        if self.export_fields:
            return self.export_fields
        names = ["id", *(f.name for f in self.data_fields()), *(f.name for f in self.meta.many_to_many)]
        return (*names, "data_source", "created_at", "updated_at")

    def with_related(self, queryset):
        """Return ``queryset`` joined to the entry's ``select_related`` relations, without their
        geometry columns: list pages show a related record's name, never its shape."""
        if not self.select_related:
            return queryset
        deferred = []
        for path in self.select_related:
            model = self.model
            for part in path.split("__"):
                model = model._meta.get_field(part).related_model
            deferred += [
                f"{path}__{f.name}"
                for f in model._meta.concrete_fields
                if isinstance(f, GeometryField | BBoxField)
            ]
        queryset = queryset.select_related(*self.select_related)
        return queryset.defer(*deferred) if deferred else queryset

    def get_filter_fields(self) -> tuple[str, ...]:
        if self.filter_fields is not None:
            return self.filter_fields
        names = []
        for f in self.data_fields():
            if f.choices or isinstance(f, models.BooleanField) or f.is_relation:
                names.append(f.name)
        names += [f.name for f in self.meta.many_to_many]
        return tuple(names)


class Registry:
    """All registered models, in registration order."""

    def __init__(self):
        self._entries: dict[type[models.Model], ModelEntry] = {}
        self.nav_links: list[dict] = []

    def register(self, model: type[models.Model], **options) -> ModelEntry:
        """Register ``model`` with the machinery and return its entry."""
        if model in self._entries:
            raise ValueError(f"{model._meta.label} is registered twice")
        entry = ModelEntry(model=model, **options)
        if entry.group not in NAV_GROUPS:
            raise ValueError(f"{model._meta.label}: unknown navigation group {entry.group!r}")
        self._entries[model] = entry
        return entry

    def add_nav_link(
        self,
        group: str,
        label,
        url_name: str,
        *,
        icon: str = "link",
        perm: str | None = None,
        order: int = 50,
        staff_only: bool = False,
    ) -> None:
        """Add a page that is not a model list (dashboard, map, reports) to the navigation."""
        self.nav_links.append(
            {
                "group": group,
                "label": label,
                "url_name": url_name,
                "icon": icon,
                "perm": perm,
                "order": order,
                "staff_only": staff_only,
            }
        )

    def get(self, model) -> ModelEntry:
        return self._entries[model]

    def get_by_label(self, label: str) -> ModelEntry | None:
        for entry in self._entries.values():
            if entry.label == label:
                return entry
        return None

    def __contains__(self, model) -> bool:
        return model in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self):
        return len(self._entries)


registry = Registry()
register = registry.register
