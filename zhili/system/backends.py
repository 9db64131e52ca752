"""Permissions granted through roles (R-10.3-rbac).

``user.has_perm("people.view_resident")`` is true when one of the user's roles holds the
permission. Roles and their scopes are read once per user object (one request) and cached on it.
"""

from dataclasses import dataclass, field

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from zhili.accounts.backends import FastUserLookupMixin


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
#: user pk -> (authz version, grants, direct permissions, scope context); per process.
_process_cache: dict = {}
_PROCESS_CACHE_MAX = 5000


def authz_version() -> int:
    """The current value of the authorization change counter (one indexed read)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM system_authzstate WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def bump_version() -> None:
    """Invalidate every process's cached grants (called by the signals of ``zhili.system``)."""
    from django.db.models import F

    from zhili.system.models import AuthzState

    if not AuthzState.objects.filter(pk=1).update(version=F("version") + 1):
        AuthzState.objects.get_or_create(pk=1)
    _process_cache.clear()


def cached_entry(user) -> dict:
    """The user's cached authorization data, re-validated once per user object (request)."""
    entry = user.__dict__.get("_zhili_authz")
    if entry is not None:
        return entry
    version = authz_version()
    entry = _process_cache.get(user.pk)
    if entry is None or entry["version"] != version:
        entry = {"version": version}
        if len(_process_cache) > _PROCESS_CACHE_MAX:
            _process_cache.clear()
        _process_cache[user.pk] = entry
    user.__dict__["_zhili_authz"] = entry
    return entry


def role_grants(user) -> list[RoleGrant]:
    """The user's roles as ``RoleGrant`` (cached per process, validated by the version counter)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.pk:
        return []
    cached = getattr(user, CACHE_ATTR, None)
    if cached is not None:
        return cached
    entry = cached_entry(user)
    if "grants" in entry:
        setattr(user, CACHE_ATTR, entry["grants"])
        return entry["grants"]
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
    entry["grants"] = result
    setattr(user, CACHE_ATTR, result)
    return result


def direct_permissions(user) -> set:
    """Permissions granted directly or through groups (not roles), cached like the grants."""
    entry = cached_entry(user)
    if "direct" not in entry:
        from django.contrib.auth.backends import ModelBackend

        backend = ModelBackend()
        entry["direct"] = frozenset(backend.get_user_permissions(user) | backend.get_group_permissions(user))
    return entry["direct"]


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


class RoleBackend(FastUserLookupMixin, ModelBackend):
    """Authorises only (never authenticates): the union of the permissions of the user's roles
    and of those granted directly or through groups (read from the same cache, so a request
    costs one version read instead of ModelBackend's two permission queries)."""

    def authenticate(self, request, **credentials):
        return None  # authenticating is left to ModelBackend (and the accounts app)

    # get_user() is the accounts backend's: sessions recorded with this backend (force_login,
    # login() without a backend) still find their user.

    def get_user_permissions(self, user_obj, obj=None):
        return set() if obj is not None else set(self.get_all_permissions(user_obj))

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        perms = set(direct_permissions(user_obj))
        for grant in role_grants(user_obj):
            perms |= grant.permissions
        return perms

    def has_perm(self, user_obj, perm, obj=None):
        """Answer from the cache; a denial is final (PermissionDenied stops Django from asking
        ModelBackend, which would query the permission tables again)."""
        if obj is not None:
            return False
        if user_obj.is_active and not user_obj.is_anonymous:
            if any(perm in grant.permissions for grant in role_grants(user_obj)):
                return True
            if perm in direct_permissions(user_obj):
                return True
        raise PermissionDenied
