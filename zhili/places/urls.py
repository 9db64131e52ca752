from zhili.core.urls import model_urls
from zhili.places.models import Building, Division, Grid, House, Road, WaterBody

app_name = "places"
urlpatterns = [
    *model_urls(Division),
    *model_urls(Grid),
    *model_urls(Building),
    *model_urls(House),
    *model_urls(Road),
    *model_urls(WaterBody),
]
