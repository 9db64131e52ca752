"""Map pages, the map JSON API, GIS import/export, and the OGC services at /ogc/."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.decorators.http import require_GET

from zhili.core.urls import model_urls
from zhili.geo import views
from zhili.geo.models import LayerStyle
from zhili.geo.ogc import features_api, wfs, wms, wmts


def service(view):
    """OGC endpoints authenticate themselves (session, API token, or public layers)."""
    return login_not_required(require_GET(view))


app_name = "geo"
urlpatterns = [
    *[path(f"geo/{p.pattern}", p.callback, name=p.name) for p in model_urls(LayerStyle)],
    path("geo/map/", views.map_page, name="map"),
    path("geo/3d/", views.view_3d, name="view3d"),
    path("geo/layers/<str:name>/export/", views.gis_export, name="export"),
    path("geo/layers/<str:name>/import/", views.gis_import, name="import"),
    path("geo/api/layers/", views.layer_list, name="layer_list"),
    path("geo/api/layers/<str:name>/features/", views.features, name="features"),
    path("geo/api/layers/<str:name>/features/<int:pk>/", views.feature_detail, name="feature"),
    path("geo/api/query/", views.spatial_query, name="query"),
    path("geo/api/measure/", views.measure, name="measure"),
    path("geo/api/thematic/<str:name>/", views.thematic, name="thematic"),
    path("geo/api/village/<int:pk>/", views.village, name="village"),
    path("ogc/wms", service(wms.wms), name="wms"),
    path("ogc/wfs", service(wfs.wfs), name="wfs"),
    path("ogc/wmts", service(wmts.wmts_kvp), name="wmts"),
    path(
        "ogc/wmts/1.0.0/WMTSCapabilities.xml",
        service(wmts.wmts_rest_capabilities),
        name="wmts_rest_capabilities",
    ),
    path(
        "ogc/wmts/<str:layer>/<str:style>/<str:matrix_set>/<str:matrix>/<str:row>/<str:col>.png",
        service(wmts.wmts_rest),
        name="wmts_tile",
    ),
    path("ogc/features/", service(features_api.landing), name="oapif_landing"),
    path("ogc/features/conformance", service(features_api.conformance), name="oapif_conformance"),
    path("ogc/features/collections", service(features_api.collections), name="oapif_collections"),
    path("ogc/features/collections/<str:name>", service(features_api.collection), name="oapif_collection"),
    path("ogc/features/collections/<str:name>/items", service(features_api.items), name="oapif_items"),
    path("ogc/features/collections/<str:name>/items/<int:pk>", service(features_api.item), name="oapif_item"),
]
