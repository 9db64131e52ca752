from django.urls import path

from zhili.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("map/layers/<str:label>.geojson", views.layer, name="layer"),
]
