from django.urls import path

from zhili.core.urls import model_urls
from zhili.environment import api, views
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

app_name = "environment"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard.json", views.dashboard_data, name="dashboard_data"),
    path("ioc/", views.ioc, name="ioc"),
    path("aqi/recompute/", views.recompute, name="recompute"),
    path("aqi/calculator/", views.calculator, name="calculator"),
    path("api/aqi/", api.AQICalculatorView.as_view(), name="api_aqi"),
    path("station/<int:pk>/", views.station, name="station"),
    path("dust/", views.dust_map, name="dust_map"),
    path("dust/surface.json", views.dust_surface, name="dust_surface"),
    path("dust/why.json", views.dust_why, name="dust_why"),
    path("sites.geojson", views.sites_geojson, name="sites_geojson"),
    path("sites/", views.sites_overview, name="sites_overview"),
    path("site/<int:pk>/dashboard/", views.site_dashboard, name="site_dashboard"),
    path("site/<int:pk>/check-tracks/", views.site_check_tracks, name="site_check_tracks"),
    *model_urls(ConstructionSite),
    *model_urls(AllowedRoute),
    *model_urls(Camera),
    *model_urls(Vehicle),
    *model_urls(ViolationEvent),
    *model_urls(DailyAQI),
    *model_urls(AttainmentTarget),
    *model_urls(DustFactor),
    *model_urls(SiteVisit),
]
