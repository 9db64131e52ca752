from zhili.core.urls import model_urls
from zhili.orgs.models import BusinessUnit, Department

app_name = "orgs"
urlpatterns = [*model_urls(Department), *model_urls(BusinessUnit)]
