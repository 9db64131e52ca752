from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "zhili.places"
    label = "places"
    verbose_name = _("Places")

    def ready(self):
        from zhili.places import register  # noqa: F401
