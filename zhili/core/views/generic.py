"""Generic pages for every registered model: list, detail, edit, delete, history, import, export.

A view is built for an entry with ``View.as_view(entry=entry)`` (``core.urls.model_urls`` does
it); no app writes its own CRUD views. Each view checks the action with ``has_action`` and
reads objects only through ``restrict``.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from zhili.core import audit
from zhili.core.changes import history_for, record_change, snapshot
from zhili.core.filtersets import filtered_queryset
from zhili.core.forms import build_form
from zhili.core.models import ChangeAction
from zhili.core.permissions import PermissionsViolation, can_unmask, has_action, restrict
from zhili.core.related import related_panels
from zhili.core.tables import Table, display_value

ACTION_LABELS = {
    "view": gettext_lazy("view"),
    "add": gettext_lazy("add"),
    "change": gettext_lazy("change"),
    "delete": gettext_lazy("delete"),
    "import": gettext_lazy("import"),
    "export": gettext_lazy("export"),
}
PAGE_SIZES = (25, 50, 100)


class EntryView(View):
    """Base of the generic views: knows its registry entry and the action it needs."""

    entry = None
    action = "view"

    def dispatch(self, request, *args, **kwargs):
        if not has_action(request.user, self.entry.model, self.action):
            audit.emit(
                "access.denied",
                user=request.user,
                success=False,
                details={"model": self.entry.label, "action": self.action, "path": request.path},
            )
            raise PermissionDenied(
                _("You do not have permission to %(action)s %(model)s.")
                % {"action": self.action, "model": self.entry.verbose_name_plural}
            )
        return super().dispatch(request, *args, **kwargs)

    def context(self, **extra):
        entry = self.entry
        user = self.request.user
        return {
            "entry": entry,
            "can": {
                a: has_action(user, entry.model, a)
                for a in ("view", "add", "change", "delete", "import", "export")
            },
            **extra,
        }

    def get_object(self, action: str | None = None):
        queryset = restrict(self.entry.model._default_manager.all(), self.request.user, action or self.action)
        try:
            return queryset.get(pk=self.kwargs["pk"])
        except (self.entry.model.DoesNotExist, ValueError, TypeError):
            raise Http404(_("No such record, or it is outside your data scope."))


class ObjectListView(EntryView):
    template_name = "core/object_list.html"
    partial_template = "core/partials/object_table.html"

    def get(self, request):
        entry = self.entry
        filterset, queryset = filtered_queryset(entry, request)
        table_fields = entry.get_list_fields()
        sort = request.GET.get("sort", "")
        sortable = {name for name in table_fields if entry.meta.get_field(name).concrete}
        if sort.lstrip("-") in sortable:
            queryset = queryset.order_by(sort, "-pk")
        else:
            sort = ""
            queryset = queryset.order_by(*entry.ordering)
        try:
            per_page = int(request.GET.get("per_page", 25))
        except ValueError:
            per_page = 25
        per_page = per_page if per_page in PAGE_SIZES else 25
        page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
        table = Table(entry, page.object_list, request.user, fields=table_fields, sort=sort)
        query = request.GET.copy()
        query.pop("page", None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        ctx = self.context(
            filterset=filterset,
            table=table,
            page=page,
            sort=sort,
            query=query.urlencode(),
            sort_query=sort_query.urlencode(),
            page_sizes=PAGE_SIZES,
        )
        template = (
            self.partial_template
            if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results"
            else self.template_name
        )
        return render(request, template, ctx)


class ObjectDetailView(EntryView):
    template_name = "core/object_detail.html"

    def get(self, request, pk):
        obj = self.get_object()
        # Sensitive values are masked here too; holders of the unmask action get a "show"
        # button per value, whose read is audited (data.unmask, R-10.3-rbac).
        unmask = can_unmask(request.user, self.entry.model)
        fields = [
            (f.verbose_name, *display_value(obj, f), unmask_url(obj, f) if unmask else None, f.name)
            for f in [*self.entry.data_fields(), *self.entry.meta.many_to_many]
        ]
        base = [
            (self.entry.meta.get_field(n).verbose_name, *display_value(obj, self.entry.meta.get_field(n)))
            for n in ("data_source", "owner_unit", "created_at", "created_by", "updated_at", "updated_by")
        ]
        geometry = None
        if self.entry.geometry_field is not None:
            value = getattr(obj, self.entry.geometry_field.name)
            if value is not None:
                import shapely

                geometry = shapely.to_geojson(value)
        history = list(history_for(obj)[:10]) if has_action(request.user, self.entry.model, "view") else []
        return render(
            request,
            self.template_name,
            self.context(
                object=obj,
                fields=fields,
                base_fields=base,
                geometry=geometry,
                related=related_panels(obj, request.user),
                history=history,
            ),
        )


class ObjectEditView(EntryView):
    """Create (no pk) or edit an object; writes are re-checked against the user's scope."""

    template_name = "core/object_edit.html"

    def dispatch(self, request, *args, **kwargs):
        self.action = "change" if "pk" in kwargs else "add"
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, instance, data=None, files=None):
        initial = {}
        if instance is None:
            initial = dict(self.request.GET.items())
        return build_form(self.entry)(data=data, files=files, instance=instance, initial=initial)

    def get(self, request, pk=None):
        obj = self.get_object() if pk else None
        return render(request, self.template_name, self.context(form=self.get_form(obj), object=obj))

    def post(self, request, pk=None):
        obj = self.get_object() if pk else None
        form = self.get_form(obj, request.POST, request.FILES)
        if form.is_valid():
            try:
                obj = save_form(form, request.user, self.action)
            except PermissionsViolation:
                audit.emit(
                    "access.denied",
                    user=request.user,
                    success=False,
                    details={"model": self.entry.label, "action": self.action, "reason": "out_of_scope"},
                )
                form.add_error(None, _("The record would fall outside your data scope; nothing was saved."))
            except IntegrityError as exc:
                form.add_error(
                    None, _("The record conflicts with an existing one: %(error)s") % {"error": exc}
                )
            else:
                messages.success(request, _("Saved %(object)s.") % {"object": obj})
                return HttpResponseRedirect(obj.get_absolute_url())
        return render(request, self.template_name, self.context(form=form, object=obj), status=400)


def unmask_url(obj, field) -> str | None:
    """URL that reveals one sensitive value of ``obj`` (None for other fields or empty values)."""
    from django.urls import NoReverseMatch, reverse

    from zhili.core.masking import is_sensitive

    if not is_sensitive(field) or not getattr(obj, field.name, None):
        return None
    try:
        return reverse("system:unmask", args=[obj._meta.label_lower, obj.pk, field.name])
    except NoReverseMatch:
        return None


def save_form(form, user, action: str):
    """Save a validated ModelForm as one audited, scope-checked unit of work."""
    instance = form.instance
    creating = instance.pk is None
    with transaction.atomic():
        prechange = None if creating else snapshot(type(instance)._default_manager.get(pk=instance.pk))
        obj = form.save(commit=False)
        if hasattr(obj, "updated_by_id"):
            obj.updated_by = user
            if creating:
                obj.created_by = user
                if getattr(obj, "owner_unit_id", None) is None and getattr(user, "department_id", None):
                    obj.owner_unit_id = user.department_id
        obj.save()
        form.save_m2m()
        ensure_in_scope(obj, user, action)
        record_change(
            obj, ChangeAction.CREATE if creating else ChangeAction.UPDATE, user=user, prechange=prechange
        )
    return obj


def ensure_in_scope(obj, user, action: str) -> None:
    """Raise PermissionsViolation (rolling back the transaction) if ``obj`` left the user's scope."""
    if not restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists():
        raise PermissionsViolation(obj)


class ObjectDeleteView(EntryView):
    action = "delete"
    template_name = "core/object_delete.html"

    def get(self, request, pk):
        return render(request, self.template_name, self.context(object=self.get_object()))

    def post(self, request, pk):
        obj = self.get_object()
        try:
            delete_object(obj, request.user)
        except ProtectedError as exc:
            blockers = sorted({str(o._meta.verbose_name) for o in exc.protected_objects})
            messages.error(
                request,
                _("Cannot delete %(object)s: it is still referenced by %(what)s.")
                % {"object": obj, "what": "、".join(blockers)},
            )
            return HttpResponseRedirect(obj.get_absolute_url())
        messages.success(request, _("Deleted %(object)s.") % {"object": obj})
        return HttpResponseRedirect(reverse(self.entry.url_name("list")))


def delete_object(obj, user) -> None:
    """Delete ``obj`` with its change record, in one transaction."""
    with transaction.atomic():
        prechange = snapshot(obj)
        pk = obj.pk
        obj.delete()
        obj.pk = pk
        record_change(obj, ChangeAction.DELETE, user=user, prechange=prechange, postchange=None)


class ObjectHistoryView(EntryView):
    template_name = "core/object_history.html"

    def get(self, request, pk):
        obj = self.get_object()
        page = Paginator(history_for(obj), 50).get_page(request.GET.get("page"))
        return render(request, self.template_name, self.context(object=obj, page=page))
