from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "zhili.geo"
    label = "geo"
    verbose_name = _("Map and geo services")

    def ready(self):
        from zhili.geo import register, signals  # noqa: F401
