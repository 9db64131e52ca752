"""Audit every role, permission and user-role change, whoever makes it (UI, API, shell), and
refuse a second administrator duty at the database layer too (三员分立, R-10.3-rbac)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed

from zhili.core import audit
from zhili.core.context import current_request_meta
from zhili.system.models import Duty, Role, duty_conflicts, separation_error


def _actor():
    request = current_request_meta().get("request")
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


def role_users_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action == "pre_add":
        if reverse:  # user.roles.add(role, …)
            roles = list(Role.objects.filter(pk__in=pk_set))
            duties = {r.duty for r in roles if r.duty != Duty.NONE}
            existing = set(instance.roles.exclude(duty=Duty.NONE).values_list("duty", flat=True))
            if len(duties | existing) > 1:
                raise separation_error([instance])
        else:
            users = list(get_user_model().objects.filter(pk__in=pk_set))
            conflicts = duty_conflicts(instance.duty, users, exclude_role=instance)
            if conflicts:
                raise separation_error(conflicts)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    verb = {"post_add": "grant", "post_remove": "revoke", "post_clear": "clear"}[action]
    if reverse:
        roles = list(Role.objects.filter(pk__in=pk_set or []).values_list("code", flat=True))
        audit.emit(
            f"rbac.user_roles.{verb}",
            user=_actor(),
            obj=instance,
            details={"user": instance.username, "roles": roles},
        )
    else:
        users = list(get_user_model().objects.filter(pk__in=pk_set or []).values_list("username", flat=True))
        audit.emit(
            f"rbac.role_users.{verb}",
            user=_actor(),
            obj=instance,
            details={"role": instance.code, "users": users},
        )
    _clear_caches(instance if reverse else None)


def role_perms_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from django.contrib.auth.models import Permission

    verb = {"post_add": "grant", "post_remove": "revoke", "post_clear": "clear"}[action]
    perms = [
        f"{a}.{c}"
        for a, c in Permission.objects.filter(pk__in=pk_set or []).values_list(
            "content_type__app_label", "codename"
        )
    ]
    target = instance.code if isinstance(instance, Role) else str(instance)
    audit.emit(
        f"rbac.permissions.{verb}",
        user=_actor(),
        obj=instance if not reverse else None,
        details={"holder": target, "holder_type": instance._meta.label_lower, "permissions": sorted(perms)},
    )


def role_scope_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        audit.emit(
            "rbac.role_scope",
            user=_actor(),
            obj=instance if isinstance(instance, Role) else None,
            details={"field": model._meta.label_lower, "action": action, "ids": sorted(pk_set or [])},
        )


def _clear_caches(user) -> None:
    from zhili.system.backends import clear_cache

    if user is not None:
        clear_cache(user)


def connect() -> None:
    user_model = get_user_model()
    m2m_changed.connect(role_users_changed, sender=Role.users.through, dispatch_uid="system_role_users")
    m2m_changed.connect(role_perms_changed, sender=Role.permissions.through, dispatch_uid="system_role_perms")
    m2m_changed.connect(
        role_perms_changed, sender=user_model.user_permissions.through, dispatch_uid="system_user_perms"
    )
    m2m_changed.connect(
        role_perms_changed, sender=Group.permissions.through, dispatch_uid="system_group_perms"
    )
    m2m_changed.connect(
        role_scope_changed, sender=Role.custom_units.through, dispatch_uid="system_role_units"
    )
    m2m_changed.connect(
        role_scope_changed, sender=Role.custom_grids.through, dispatch_uid="system_role_grids"
    )


def _bump(*args, **kwargs) -> None:
    from zhili.system.backends import bump_version

    bump_version()


def _bump_m2m(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _bump()


def _bump_user(sender, instance, update_fields=None, created=False, **kwargs) -> None:
    # sign-ins save last_login only: no change to permissions or scope
    if created or (update_fields and set(update_fields) <= {"last_login", "password"}):
        return
    _bump()


def connect_invalidation() -> None:
    """Every change that can alter a permission or a scope bumps the authorization version."""
    from django.db.models.signals import post_delete, post_save

    from zhili.places.models import Grid

    user_model = get_user_model()
    for sender in (
        Role.users.through,
        Role.permissions.through,
        Role.custom_units.through,
        Role.custom_grids.through,
        user_model.user_permissions.through,
        user_model.groups.through,
        Group.permissions.through,
        Grid.members.through,
    ):
        m2m_changed.connect(_bump_m2m, sender=sender, dispatch_uid=f"authz_bump_{sender._meta.label_lower}")
    for model in (Role, Grid, Group):
        post_save.connect(_bump, sender=model, dispatch_uid=f"authz_bump_save_{model._meta.label_lower}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"authz_bump_delete_{model._meta.label_lower}")
    post_save.connect(_bump_user, sender=user_model, dispatch_uid="authz_bump_user")
    post_delete.connect(_bump, sender=user_model, dispatch_uid="authz_bump_user_delete")
    from django.apps import apps

    department = apps.get_model("orgs", "Department")
    post_save.connect(_bump, sender=department, dispatch_uid="authz_bump_department")
