from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "zhili.dashboard"
    label = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self):
        from zhili.core.registry import registry

        registry.add_nav_link(
            "system",
            _("Change log"),
            "change_log",
            icon="journal-text",
            perm="core.view_changerecord",
            order=80,
        )
        registry.add_nav_link(
            "system", _("Conformance report"), "conformance", icon="patch-check", staff_only=True, order=90
        )
        registry.add_nav_link("sharing", _("API documentation"), "api-docs", icon="braces", order=10)
        registry.add_nav_link("sharing", _("Data dictionary"), "data_dictionary", icon="book", order=20)
