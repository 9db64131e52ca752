"""The one permission path (R-10.3-rbac).

Every list, detail, API, export, import, map layer and search passes its queryset through
``restrict(queryset, user, action)``. Actions are Django permissions
``<app_label>.<action>_<model_name>`` (view, add, change, delete, import, export, unmask, and
named actions apps declare). Data scope is one ``Q`` from ``scope_filter``; the security layer
fills it per role (all / unit and below / unit / self / custom) without touching any caller.
"""

from django.db.models import Model, Q, QuerySet

_scope_providers = []


def add_scope_provider(provider) -> None:
    """Register ``provider(user, model, action) -> Q | None``; results are ANDed together."""
    if provider not in _scope_providers:
        _scope_providers.append(provider)


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


def can_unmask(user, model) -> bool:
    """Return True if ``user`` may see the model's sensitive fields in clear."""
    return has_action(user, model, "unmask")


class PermissionsViolation(Exception):
    """A write left an object outside what the user may touch; the transaction is rolled back."""
