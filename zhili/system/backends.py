"""Permissions granted through roles (R-10.3-rbac).

``user.has_perm("people.view_resident")`` is true when one of the user's roles holds the
permission. Roles and their scopes are read once per user object (one request) and cached on it.
"""

from dataclasses import dataclass, field

from django.contrib.auth.backends import BaseBackend


@dataclass
class RoleGrant:
    """What one role contributes: its permissions and the rows they apply to."""

    pk: int
    code: str
    duty: str
    data_scope: str
    permissions: frozenset = field(default_factory=frozenset)
    custom_units: tuple = ()
    custom_grids: tuple = ()


CACHE_ATTR = "_zhili_role_grants"


def role_grants(user) -> list[RoleGrant]:
    """The user's roles as ``RoleGrant`` (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.pk:
        return []
    cached = getattr(user, CACHE_ATTR, None)
    if cached is not None:
        return cached
    from zhili.system.models import Role

    grants = {}
    roles = Role.objects.filter(users=user).values_list("pk", "code", "duty", "data_scope")
    for pk, code, duty, scope in roles:
        grants[pk] = RoleGrant(pk=pk, code=code, duty=duty, data_scope=scope)
    if grants:
        perms = {}
        rows = Role.permissions.through.objects.filter(role_id__in=grants).values_list(
            "role_id", "permission__content_type__app_label", "permission__codename"
        )
        for role_id, app_label, codename in rows:
            perms.setdefault(role_id, set()).add(f"{app_label}.{codename}")
        custom = [g.pk for g in grants.values() if g.data_scope == "custom"]
        units, grids = {}, {}
        if custom:
            for role_id, unit_id in Role.custom_units.through.objects.filter(role_id__in=custom).values_list(
                "role_id", "department_id"
            ):
                units.setdefault(role_id, []).append(unit_id)
            for role_id, grid_id in Role.custom_grids.through.objects.filter(role_id__in=custom).values_list(
                "role_id", "grid_id"
            ):
                grids.setdefault(role_id, []).append(grid_id)
        for grant in grants.values():
            grant.permissions = frozenset(perms.get(grant.pk, ()))
            grant.custom_units = tuple(units.get(grant.pk, ()))
            grant.custom_grids = tuple(grids.get(grant.pk, ()))
    result = list(grants.values())
    setattr(user, CACHE_ATTR, result)
    return result


def clear_cache(user) -> None:
    for attr in (
        CACHE_ATTR,
        "_zhili_scope_cache",
        "_zhili_scope_ctx",
        "_perm_cache",
        "_user_perm_cache",
        "_group_perm_cache",
    ):
        if hasattr(user, attr):
            delattr(user, attr)


def duties(user) -> set[str]:
    return {g.duty for g in role_grants(user) if g.duty != "none"}


class RoleBackend(BaseBackend):
    """Authorises only (never authenticates): the union of the permissions of the user's roles."""

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        perms = set()
        for grant in role_grants(user_obj):
            perms |= grant.permissions
        return perms

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return False
        return any(perm in grant.permissions for grant in role_grants(user_obj))
