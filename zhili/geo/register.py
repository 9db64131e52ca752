"""Registrations of the geo app: layer styles as data, nav links, default thematic maps and links."""

from django.utils.translation import gettext_lazy as _

from zhili.core.registry import register, registry
from zhili.demo.hooks import register_demo
from zhili.geo.demo import build_water_demo, delete_water_demo
from zhili.geo.layers import layers
from zhili.geo.models import LayerStyle

register(
    LayerStyle,
    group="system",
    icon="palette",
    natural_key="layer",
    search_fields=("layer", "title"),
    list_fields=("layer", "title", "is_public", "kind", "attribute", "order"),
    ordering=("order", "layer"),
    order=60,
)
registry.add_nav_link("town", _("Digital-twin map"), "geo:map", icon="map", order=1)
registry.add_nav_link(
    "town", _("3D view"), "geo:view3d", icon="badge-3d", perm="places.view_building", order=2
)

# Linked records shown in a feature's popup (two hops: building → house → resident).
layers.add_related("places.building", _("Residents"), "people.resident", "house__building")
layers.add_related("places.building", _("Households"), "people.household", "house__building")

layers.add_thematic("people.residents_by_grid", _("Residents per grid"), source="people.resident", by="grid")
layers.add_thematic(
    "places.buildings_by_division", _("Buildings per village"), source="places.building", by="division"
)
layers.add_thematic(
    "people.residents_heat",
    _("Where residents live (heat)"),
    source="people.resident",
    kind="heat",
    by="house__building",
)
layers.add_thematic(
    "places.floor_area_heat",
    _("Building floors (heat)"),
    source="places.building",
    kind="heat",
    by="",
    attribute="floors",
)

register_demo("geo", build=build_water_demo, delete=delete_water_demo)
