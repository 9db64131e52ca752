"""Default FilterSets: one per registered model, shared by the list page, the API and exports."""

import copy

import django_filters
from django import forms
from django.db import models
from django.db.models import Q
from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import BBoxField, GeometryField
from zhili.core.forms import BootstrapMixin, DateInput
from zhili.core.permissions import restrict

MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class IdFilter(django_filters.Filter):
    """Filter by the primary key of a related row; out-of-range values are a form error, not a crash."""

    field_class = IdField


def _related_queryset(model):
    def queryset(request):
        queryset = model._default_manager.all()
        heavy = [f.name for f in model._meta.concrete_fields if isinstance(f, GeometryField | BBoxField)]
        if heavy:
            queryset = queryset.defer(*heavy)
        if request is not None and hasattr(queryset, "restrict"):
            queryset = queryset.restrict(request.user, "view")
        return queryset

    return queryset


class BaseFilterSet(django_filters.FilterSet):
    """Adds the free-text ``q`` search over the entry's search fields."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    search_fields: tuple[str, ...] = ()

    def search(self, queryset, name, value):
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        condition = Q()
        for field_name in self.search_fields:
            field = queryset.model._meta.get_field(field_name.split("__")[0])
            lookup = "exact" if getattr(field, "is_sensitive", False) else "icontains"
            condition |= Q(**{f"{field_name}__{lookup}": value})
        return queryset.filter(condition)


class StaticFilterSet(BaseFilterSet):
    """A FilterSet whose form fields do not depend on the request (the API's: ids, choices, dates).

    django-filter deep-copies every filter and builds a new form class for each request, which
    was a third of the CPU time of a residents list request. Here filters are copied shallowly
    (method filters re-bound to the copy) and the form class is built once per FilterSet class.
    Not for filters whose choices come from a request-dependent queryset (ModelChoiceFilter).
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            copied = copy.copy(base)
            if getattr(base, "_method", None) is not None:
                copied.method = base._method  # a FilterMethod bound to the copy, not the base
            copied.model = queryset.model
            copied.parent = self
            self.filters[name] = copied

    #: Form classes kept per set of requested filters (bounded: clients choose the sets).
    FORM_CLASSES_MAX = 256

    def get_form_class(self):
        """The form of the filters this request uses: Django deep-copies every field of a form
        for each instance, and a list request names two or three of a model's twenty filters.
        A filter left out of the form is one without a value, which filters nothing."""
        cls = type(self)
        classes = cls.__dict__.get("_static_form_classes")
        if classes is None:
            classes = {}
            cls._static_form_classes = classes
        names = self._requested_filters()
        form_class = classes.get(names)
        if form_class is None:
            fields = {name: f.field for name, f in self.filters.items() if name in names}
            form_class = type(f"{cls.__name__}Form", (self._meta.form,), fields)
            if len(classes) < self.FORM_CLASSES_MAX:
                classes[names] = form_class
        return form_class

    def _requested_filters(self) -> frozenset:
        """Names of the filters with a parameter in the query (``name`` or ``name_<suffix>`` of
        multi-value widgets), or all of them when unbound or shown as a form (browsable API)."""
        renderer = getattr(self.request, "accepted_renderer", None)
        if not self.is_bound or getattr(renderer, "format", None) == "api":
            return frozenset(self.filters)
        keys = list(self.data.keys())
        return frozenset(
            name
            for name, f in self.filters.items()
            if f.extra.get("required") or any(key == name or key.startswith(f"{name}_") for key in keys)
        )


def build_filterset(entry, *, api: bool = False) -> type[django_filters.FilterSet]:
    """Return the entry's FilterSet class, building one from the model when none is declared.

    On pages, relations to small lookup tables get a select list (restricted to what the user may
    see); relations to large tables filter by id, so "residents of household 5" is
    ``?household=5``. The API filters every relation by id: it needs no choice list, and the
    rows themselves are already restricted, so an id outside the user's scope finds nothing.
    """
    if entry.filterset is not None:
        return entry.filterset
    from zhili.core.registry import registry

    attrs = {"search_fields": entry.search_fields}
    for name in entry.get_filter_fields():
        field = entry.meta.get_field(name)
        label = field.verbose_name
        if field.many_to_many or field.many_to_one or field.one_to_one:
            target = field.related_model
            small = target in registry and registry.get(target).lookup
            if small and not api:
                attrs[name] = django_filters.ModelChoiceFilter(
                    queryset=_related_queryset(target), label=label
                )
            else:
                # Large tables: filter by id (the links of related panels); not a visible form field.
                attrs[name] = IdFilter(
                    field_name=f"{name}__pk" if field.many_to_many else name,
                    label=label,
                    widget=forms.HiddenInput,
                )
        elif field.choices:
            attrs[name] = django_filters.ChoiceFilter(choices=field.choices, label=label)
        elif isinstance(field, models.BooleanField):
            attrs[name] = django_filters.BooleanFilter(label=label)
        elif isinstance(field, models.DateField | models.DateTimeField):
            attrs[f"{name}__gte"] = django_filters.DateFilter(
                field_name=name,
                lookup_expr="gte",
                widget=DateInput,
                label=format_lazy(_("{field} from"), field=label),
            )
            attrs[f"{name}__lte"] = django_filters.DateFilter(
                field_name=name,
                lookup_expr="lte",
                widget=DateInput,
                label=format_lazy(_("{field} to"), field=label),
            )
        else:
            attrs[name] = django_filters.CharFilter(label=label)
    meta = type("Meta", (), {"model": entry.model, "fields": [], "form": _filter_form()})
    attrs["Meta"] = meta
    base = StaticFilterSet if api else BaseFilterSet
    return type(f"{entry.model.__name__}FilterSet", (base,), attrs)


def _filter_form():
    return type("FilterForm", (BootstrapMixin, forms.Form), {})


def filtered_queryset(entry, request, action: str = "view"):
    """Return (filterset, queryset) for a request: restricted first, then filtered."""
    queryset = restrict(entry.model._default_manager.all(), request.user, action)
    queryset = entry.with_related(queryset)
    filterset = build_filterset_cached(entry)(request.GET or None, queryset=queryset, request=request)
    return filterset, filterset.qs if filterset.is_bound and filterset.is_valid() else (
        queryset.none() if filterset.is_bound else queryset
    )


_cache: dict = {}


def build_filterset_cached(entry, *, api: bool = False):
    key = (entry.model, api)
    if key not in _cache:
        _cache[key] = build_filterset(entry, api=api)
    return _cache[key]
