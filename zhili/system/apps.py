from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    name = "zhili.system"
    label = "system"
    verbose_name = _("System management")

    def ready(self):
        from django.db.models.signals import post_migrate

        from zhili.core.permissions import add_scope_provider
        from zhili.demo.hooks import register_demo
        from zhili.system import register, signals  # noqa: F401
        from zhili.system.actions import create_named_action_permissions
        from zhili.system.demo import build_demo_roles, delete_demo_roles
        from zhili.system.scope import role_scope

        add_scope_provider(role_scope)
        signals.connect()
        signals.connect_invalidation()
        post_migrate.connect(create_named_action_permissions, dispatch_uid="system_named_actions")
        register_demo("system", build=build_demo_roles, delete=delete_demo_roles)
