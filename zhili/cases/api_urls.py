from django.urls import path

from zhili.cases import api

app_name = "cases_api"
urlpatterns = [
    path("<int:pk>/actions/<str:name>/", api.CaseActionView.as_view(), name="action"),
    path("<int:pk>/timeline/", api.CaseTimelineView.as_view(), name="timeline"),
    path("open/", api.OpenCaseView.as_view(), name="open"),
]
