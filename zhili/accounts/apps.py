from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "zhili.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from zhili.accounts import register, schema, signals  # noqa: F401
