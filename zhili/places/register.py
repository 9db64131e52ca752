from zhili.core.registry import register
from zhili.places.models import Building, Division, Grid, House, Road, WaterBody

register(
    Division,
    group="social",
    icon="map",
    lookup=True,
    natural_key="code",
    search_fields=("name", "code"),
    list_fields=("code", "name", "level", "parent"),
    ordering=("code",),
    order=10,
)
register(
    Grid,
    group="social",
    icon="grid-3x3",
    lookup=True,
    natural_key="code",
    search_fields=("name", "code"),
    list_fields=("code", "name", "level", "division", "parent", "leader"),
    ordering=("code",),
    select_related=("division", "parent", "leader"),
    order=20,
)
register(
    Building,
    group="community",
    icon="building",
    natural_key="code",
    search_fields=("code", "name", "address"),
    list_fields=("code", "name", "address", "use", "floors", "grid"),
    select_related=("grid",),
    order=30,
)
register(
    House,
    group="community",
    icon="door-open",
    natural_key="code",
    search_fields=("code",),
    list_fields=("code", "building", "unit", "floor", "room", "use"),
    select_related=("building",),
    order=40,
)
register(
    Road,
    group="community",
    icon="signpost-split",
    natural_key="code",
    search_fields=("name", "code"),
    list_fields=("code", "name", "road_class", "lanes", "length_m", "division"),
    order=50,
)
register(
    WaterBody,
    group="community",
    icon="water",
    natural_key="code",
    search_fields=("name", "code"),
    list_fields=("code", "name", "kind", "division"),
    order=55,
)
