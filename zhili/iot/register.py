from django.utils.translation import gettext_lazy as _

from zhili.core.registry import register, registry
from zhili.iot.models import Alarm, DeadLetter, Device, DeviceCredential, Metric, Rule

register(
    Device,
    group="town",
    icon="broadcast-pin",
    natural_key="code",
    search_fields=("code", "name", "address"),
    list_fields=("code", "name", "device_type", "status", "last_seen_at", "battery", "grid"),
    filter_fields=("device_type", "status", "enabled", "grid"),
    form_fields=(
        "code",
        "name",
        "device_type",
        "geometry",
        "address",
        "grid",
        "metrics",
        "vendor",
        "enabled",
        "require_signature",
        "rate_limit",
        "offline_after_s",
        "installed_on",
        "description",
        "owner_unit",
    ),
    select_related=("grid",),
    order=10,
)
register(
    Metric,
    group="town",
    icon="rulers",
    natural_key="code",
    lookup=True,
    search_fields=("code", "name"),
    list_fields=("code", "name", "unit", "min_value", "max_value", "device_types"),
    ordering=("code",),
    order=11,
    nav=True,
)
register(
    DeviceCredential,
    group="town",
    icon="key",
    list_fields=(
        "device",
        "kind",
        "username",
        "key_id",
        "active",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ),
    filter_fields=("kind", "active"),
    form_fields=("device", "kind", "username", "active", "expires_at"),
    import_fields=("device", "kind", "username", "active", "expires_at"),
    export_fields=(
        "id",
        "device",
        "kind",
        "username",
        "key_id",
        "active",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_at",
    ),
    search_fields=("device__code", "username", "key_id"),
    select_related=("device",),
    order=12,
    nav=False,
)
register(
    Rule,
    group="town",
    icon="sliders",
    natural_key="code",
    search_fields=("code", "name"),
    list_fields=("code", "name", "kind", "device_type", "metric", "severity", "enabled"),
    filter_fields=("device_type", "severity", "enabled", "metric"),
    select_related=("metric", "device"),
    order=13,
)
register(
    Alarm,
    group="town",
    icon="bell",
    search_fields=("message", "device__code", "device__name"),
    list_fields=("raised_at", "device", "rule", "severity", "status", "message", "escalation_level"),
    filter_fields=("status", "severity", "rule", "device"),
    form_fields=("device", "rule", "severity", "status", "message", "value", "close_note"),
    select_related=("device", "rule"),
    ordering=("-raised_at",),
    order=14,
)
register(
    DeadLetter,
    group="town",
    icon="envelope-x",
    search_fields=("device_code", "topic", "detail"),
    list_fields=("received_at", "channel", "device_code", "reason", "detail", "repeat_count"),
    form_fields=(
        "channel",
        "reason",
        "device_code",
        "device",
        "topic",
        "detail",
        "payload",
        "repeat_count",
        "received_at",
    ),
    filter_fields=("channel", "reason"),
    ordering=("-received_at",),
    order=15,
)

registry.add_nav_link(
    "town", _("Live alarms"), "iot:alarm_board", icon="bell-fill", perm="iot.view_alarm", order=8
)
registry.add_nav_link(
    "town", _("Device map"), "iot:device_map", icon="geo-alt", perm="iot.view_device", order=9
)
registry.add_nav_link(
    "town",
    _("Rules import/export (JSON)"),
    "iot:rules_import",
    icon="filetype-json",
    perm="iot.import_rule",
    order=16,
)
