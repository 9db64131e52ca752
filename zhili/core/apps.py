from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "zhili.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.db.models.signals import post_migrate

        from zhili.core import checks  # noqa: F401  (registers system checks)
        from zhili.core.fields import drop_pattern_indexes

        post_migrate.connect(drop_pattern_indexes, dispatch_uid="core_drop_pattern_indexes")
