from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "zhili.orgs"
    label = "orgs"
    verbose_name = _("Organizations")

    def ready(self):
        from zhili.orgs import register  # noqa: F401
