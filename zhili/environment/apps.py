from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnvironmentConfig(AppConfig):
    name = "zhili.environment"
    label = "environment"
    verbose_name = _("Environment")

    def ready(self):
        from zhili.core.jobs import register_job
        from zhili.demo.hooks import register_demo
        from zhili.environment import register, rules, signals  # noqa: F401
        from zhili.environment.demo import build_environment_demo, delete_environment_demo
        from zhili.environment.jobs import recompute_recent_days

        rules.register()
        from zhili.environment.tracks import on_readings
        from zhili.iot.hooks import register_reading_listener

        register_reading_listener(on_readings)
        register_demo("environment", build=build_environment_demo, delete=delete_environment_demo)
        register_job("environment.daily_aqi", 3600, recompute_recent_days)
