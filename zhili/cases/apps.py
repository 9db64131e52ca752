from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "zhili.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from zhili.cases import calendar, register, scopes, sla  # noqa: F401
        from zhili.cases.demo import build_demo, delete_demo
        from zhili.demo.hooks import register_demo

        calendar.connect()
        register_demo("cases", build=build_demo, delete=delete_demo)
