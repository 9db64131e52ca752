"""The one permission path (R-10.3-rbac).

Every list, detail, API, export, import, map layer and search passes its queryset through
``restrict(queryset, user, action)``. Actions are Django permissions
``<app_label>.<action>_<model_name>`` (view, add, change, delete, import, export, unmask, and
named actions apps declare). Data scope is one ``Q`` from ``scope_filter``; the security layer
fills it per role (all / unit and below / unit / self / custom) without touching any caller.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

_scope_providers = []
_scope_paths: dict = {}
_named_actions: dict = {}


def add_scope_provider(provider) -> None:
    """Register ``provider(user, model, action) -> Q | None``; results are ANDed together."""
    if provider not in _scope_providers:
        _scope_providers.append(provider)


def declare_scope(model, *, unit=None, grid=None, owner=None, reference: bool = False) -> None:
    """Tell the data-scope layer how ``model`` rows relate to units, grids and their author.

    ``unit``/``grid``/``owner`` are lookup paths to the owning department, the grid and the user
    (e.g. ``grid="building__grid"``); ``reference=True`` marks reference data everyone who may view
    the model sees whole (divisions, tags). Undeclared models are discovered automatically:
    ``owner_unit``, a foreign key to places.Grid (directly or one hop away) and ``created_by``.
    """
    _scope_paths[model] = {"unit": unit, "grid": grid, "owner": owner, "reference": reference}


def declared_scope(model) -> dict | None:
    return _scope_paths.get(model)


def declare_actions(model, actions: dict) -> None:
    """Declare named actions of ``model`` beyond view/add/change/delete/import/export/unmask.

    ``declare_actions(Case, {"approve": _("Approve"), "dispatch": _("Dispatch")})`` creates the
    permissions ``<app>.approve_case`` … after migrate, so roles can grant them and views call
    ``has_action(user, Case, "approve")``.
    """
    _named_actions.setdefault(model, {}).update(actions)


def named_actions(model=None) -> dict:
    """The declared named actions: of one model, or ``{model: {action: label}}`` for all."""
    if model is not None:
        return dict(_named_actions.get(model, {}))
    return {m: dict(a) for m, a in _named_actions.items()}


def perm_name(model, action: str) -> str:
    meta = model._meta
    return f"{meta.app_label}.{action}_{meta.model_name}"


def has_action(user, model, action: str, obj: Model | None = None) -> bool:
    """Return True if ``user`` may perform ``action`` on ``model`` (and on ``obj`` if given)."""
    if user is None or not user.is_active or not user.is_authenticated:
        return False
    if not user.has_perm(perm_name(model, action)):
        return False
    if obj is not None:
        return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()
    return True


def scope_filter(user, model, action: str) -> Q:
    """Return the data-scope condition for ``user`` on ``model`` (everything by default)."""
    condition = Q()
    for provider in _scope_providers:
        extra = provider(user, model, action)
        if extra is not None:
            condition &= extra
    return condition


def restrict(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    """Return the part of ``queryset`` that ``user`` may act on with ``action``."""
    model = queryset.model
    if not has_action(user, model, action):
        return queryset.none()
    condition = scope_filter(user, model, action)
    return queryset.filter(condition) if condition else queryset


def require_action(
    user, model, action: str, obj: Model | None = None, *, message=None, audit_refusal: bool = True
) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may perform ``action``; the refusal is audited.

    The check custom (non-generic) views make. Under DRF pass ``audit_refusal=False``: the API's
    exception handler audits every 403 already.
    """
    if has_action(user, model, action, obj):
        return
    if audit_refusal:
        from zhili.core import audit

        audit.emit(
            "access.denied",
            user=user,
            success=False,
            details={"model": model._meta.label_lower, "action": action},
        )
    raise PermissionDenied(message or _("You do not have permission to do this."))


def get_in_scope(model_or_queryset, user, pk, action: str = "view"):
    """Return the record ``pk`` if ``user`` may act on it with ``action``, else raise ``Http404``.

    A record outside the user's data scope answers exactly like a missing one.
    """
    queryset = (
        model_or_queryset._default_manager.all() if isinstance(model_or_queryset, type) else model_or_queryset
    )
    try:
        return restrict(queryset, user, action).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such record, or it is outside your data scope.")) from None


def can_unmask(user, model) -> bool:
    """Return True if ``user`` may see the model's sensitive fields in clear."""
    return has_action(user, model, "unmask")


class PermissionsViolation(Exception):
    """A write left an object outside what the user may touch; the transaction is rolled back."""
