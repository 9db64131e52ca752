"""Per-record unmask: one sensitive value of one record, shown on request and audited."""

from django.http import Http404, JsonResponse
from django.views.decorators.http import require_POST

from zhili.core import audit
from zhili.core.masking import is_sensitive
from zhili.core.permissions import has_action, restrict
from zhili.core.registry import registry


@require_POST
def unmask(request, label: str, pk: int, field: str):
    """Return ``{"value": …}`` in clear if the user holds the unmask action and sees the record."""
    entry = registry.get_by_label(label)
    if entry is None:
        raise Http404
    try:
        model_field = entry.meta.get_field(field)
    except Exception as exc:  # FieldDoesNotExist
        raise Http404 from exc
    if not is_sensitive(model_field):
        raise Http404
    obj = restrict(entry.model._default_manager.filter(pk=pk), request.user, "view").first()
    if obj is None:
        raise Http404
    if not has_action(request.user, entry.model, "unmask", obj):
        audit.emit(
            "access.denied",
            user=request.user,
            obj=obj,
            success=False,
            details={"action": "unmask", "field": field},
        )
        return JsonResponse({"detail": "forbidden"}, status=403)
    audit.emit("data.unmask", user=request.user, obj=obj, details={"field": field, "via": "detail"})
    return JsonResponse({"value": getattr(obj, field) or ""})
