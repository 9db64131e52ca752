from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    name = "zhili.system"
    label = "system"
    verbose_name = _("System management")

    def ready(self):
        from zhili.system import register  # noqa: F401
