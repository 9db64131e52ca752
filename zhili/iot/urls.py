from django.urls import path

from zhili.core.registry import registry
from zhili.core.urls import model_urls
from zhili.iot import api, views
from zhili.iot.models import Alarm, DeadLetter, Device, DeviceCredential, Metric, Rule


def _with_detail(model, view_class):
    """The model's generic pages with its own detail page (same URL name)."""
    entry = registry.get(model)
    patterns = model_urls(model)
    for i, pattern in enumerate(patterns):
        if pattern.name == f"{entry.model_name}_detail":
            patterns[i] = path(str(pattern.pattern), view_class.as_view(entry=entry), name=pattern.name)
    return patterns


app_name = "iot"
urlpatterns = [
    path("alarms/live/", views.alarm_board, name="alarm_board"),
    path("alarms/stream/", views.alarm_stream, name="alarm_stream"),
    path("alarms/feed/", views.alarm_feed, name="alarm_feed"),
    path("alarm/<int:pk>/acknowledge/", views.alarm_acknowledge, name="alarm_acknowledge"),
    path("alarm/<int:pk>/close/", views.alarm_close, name="alarm_close"),
    path("alarm/<int:pk>/open-case/", views.alarm_open_case, name="alarm_open_case"),
    path("api/alarms/<int:pk>/acknowledge/", api.acknowledge, name="api_alarm_acknowledge"),
    path("api/alarms/<int:pk>/close/", api.close, name="api_alarm_close"),
    path("api/alarms/<int:pk>/open-case/", api.open_case, name="api_alarm_open_case"),
    path("map/", views.device_map, name="device_map"),
    path("map/devices.geojson", views.device_geojson, name="device_geojson"),
    path("device/<int:pk>/credentials/issue/", views.credential_issue, name="credential_issue"),
    path("devicecredential/<int:pk>/revoke/", views.credential_revoke, name="credential_revoke"),
    path("device/<int:pk>/series/", views.device_series, name="device_series"),
    path("rule/export.json", views.rules_export, name="rules_export"),
    path("ingest/<str:code>/", views.http_ingest, name="http_ingest"),
    path("rule/import-json/", views.rules_import, name="rules_import"),
    *_with_detail(Device, views.DeviceDetailView),
    *model_urls(Metric),
    *model_urls(DeviceCredential),
    *model_urls(Rule),
    *_with_detail(Alarm, views.AlarmDetailView),
    *model_urls(DeadLetter),
]
