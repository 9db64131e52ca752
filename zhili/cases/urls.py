from django.urls import path

from zhili.cases import views
from zhili.cases.models import CalendarDay, Case, CaseCategory, FollowUpVisit, RoutingRule
from zhili.core.registry import registry
from zhili.core.urls import model_urls

app_name = "cases"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/similar/", views.similar, name="similar"),
    path("follow/<str:token>/", views.follow, name="follow"),
    path("follow/<str:token>/qr.svg", views.follow_qr, name="follow_qr"),
    path("hotline/", views.hotline, name="hotline"),
    path("photo/<str:signed>/", views.photo, name="photo"),
    path("queue/", views.queue, name="queue"),
    path("queue/dispatch/", views.bulk_dispatch, name="bulk_dispatch"),
    path("map/", views.case_map, name="map"),
    path("map/data/", views.map_data, name="map_data"),
    path("statistics/", views.statistics, name="stats"),
    path("case/<int:pk>/", views.CaseDetailView.as_view(entry=registry.get(Case)), name="case_detail"),
    path("case/<int:pk>/action/<str:name>/", views.case_action, name="case_action"),
    *model_urls(Case),
    *model_urls(CaseCategory),
    *model_urls(RoutingRule),
    *model_urls(FollowUpVisit),
    *model_urls(CalendarDay),
]
