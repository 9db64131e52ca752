from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "zhili.people"
    label = "people"
    verbose_name = _("People")

    def ready(self):
        from zhili.people import register  # noqa: F401
