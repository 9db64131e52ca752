from django.utils.translation import gettext_lazy as _

from zhili.core.registry import register, registry
from zhili.environment.models import (
    AllowedRoute,
    AttainmentTarget,
    Camera,
    ConstructionSite,
    DailyAQI,
    DustFactor,
    SiteVisit,
    Vehicle,
    ViolationEvent,
)

register(
    ConstructionSite,
    group="town",
    icon="cone-striped",
    natural_key="code",
    search_fields=("code", "name", "project", "contractor"),
    list_fields=("code", "name", "project", "contractor", "status", "start_date", "end_date", "grid"),
    filter_fields=("status", "grid"),
    select_related=("grid",),
    order=40,
)
register(
    AllowedRoute,
    group="town",
    icon="sign-turn-right",
    search_fields=("name", "site__name"),
    list_fields=("site", "name", "tolerance_m"),
    select_related=("site",),
    order=41,
)
register(
    Camera,
    group="town",
    icon="camera-video",
    search_fields=("name", "site__name"),
    list_fields=("site", "name", "stream_url", "edge_ai", "device"),
    filter_fields=("site", "edge_ai"),
    select_related=("site", "device"),
    order=42,
)
register(
    Vehicle,
    group="town",
    icon="truck",
    natural_key="plate",
    search_fields=("plate", "company", "cargo"),
    list_fields=("plate", "kind", "driver", "cargo", "company", "site", "gps_device"),
    filter_fields=("kind", "site"),
    select_related=("site", "gps_device"),
    order=43,
)
register(
    ViolationEvent,
    group="town",
    icon="exclamation-octagon",
    search_fields=("site__name", "vehicle__plate", "description"),
    list_fields=("occurred_at", "kind", "site", "vehicle", "camera", "source", "status"),
    filter_fields=("kind", "source", "status", "site"),
    select_related=("site", "vehicle", "camera"),
    ordering=("-occurred_at", "-pk"),
    order=44,
)
register(
    DailyAQI,
    group="town",
    icon="calendar3",
    search_fields=("device__name", "device__code"),
    list_fields=("date", "device", "aqi", "level", "primary_pollutants", "pm25", "pm10", "o3_8h"),
    filter_fields=("device", "level", "profile"),
    select_related=("device",),
    ordering=("-date", "device"),
    order=35,
)
register(
    AttainmentTarget,
    group="town",
    icon="bullseye",
    list_fields=("year", "pollutant", "target", "note"),
    filter_fields=("pollutant",),
    ordering=("-year", "pollutant"),
    order=36,
)
register(
    DustFactor,
    group="town",
    icon="wind",
    list_fields=("kind", "grades", "weight", "radius_m", "active"),
    ordering=("kind",),
    order=37,
)

registry.add_nav_link(
    "town", _("Environment dashboard"), "environment:dashboard", icon="cloud-haze2", order=30
)
registry.add_nav_link("town", _("Operations big screen"), "environment:ioc", icon="display", order=31)
registry.add_nav_link("town", _("Dust analysis"), "environment:dust_map", icon="wind", order=32)
registry.add_nav_link("town", _("Site supervision"), "environment:sites_overview", icon="cone", order=34)
registry.add_nav_link("town", _("AQI calculator"), "environment:calculator", icon="calculator", order=33)
register(
    SiteVisit,
    group="town",
    icon="geo-alt",
    search_fields=("vehicle__plate", "site__name"),
    list_fields=("vehicle", "site", "entered_at", "left_at", "dwell_minutes", "off_route_m"),
    filter_fields=("site", "vehicle"),
    select_related=("vehicle", "site"),
    ordering=("-entered_at", "-pk"),
    order=45,
)
