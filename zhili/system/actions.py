"""Named actions declared by apps become permissions roles can grant (see
``zhili.core.permissions.declare_actions``)."""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from zhili.core.permissions import named_actions


def create_named_action_permissions(sender=None, **kwargs) -> int:
    """Create the permission of every declared named action (idempotent); return how many were new."""
    created = 0
    for model, actions in named_actions().items():
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        for action, label in actions.items():
            codename = f"{action}_{model._meta.model_name}"
            _perm, was_created = Permission.objects.get_or_create(
                content_type=content_type,
                codename=codename,
                defaults={"name": f"Can {label} {model._meta.verbose_name_raw}"[:255]},
            )
            created += was_created
    from zhili.system.roles import sync_builtin_roles

    sync_builtin_roles()
    return created
