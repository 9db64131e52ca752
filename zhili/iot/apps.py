from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IotConfig(AppConfig):
    name = "zhili.iot"
    label = "iot"
    verbose_name = _("IoT devices and alarms")

    def ready(self):
        from zhili.iot import register  # noqa: F401
        from zhili.iot.store import _connect_signals

        _connect_signals()
        from zhili.iot import (  # noqa: F401
            alarms,
            demo,  # noqa: F401
            jobs,
        )
