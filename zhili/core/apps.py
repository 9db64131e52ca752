from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "zhili.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from zhili.core import checks  # noqa: F401  (registers system checks)
