from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "zhili.notices"
    label = "notices"
    verbose_name = _("Notices")

    def ready(self):
        from zhili.core.notices import add_sink
        from zhili.notices.sink import store_notice

        add_sink(store_notice)
