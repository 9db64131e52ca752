from zhili.cases.models import CalendarDay, Case, CaseCategory, FollowUpVisit, RoutingRule
from zhili.core.urls import model_urls

app_name = "cases"
urlpatterns = [
    *model_urls(Case),
    *model_urls(CaseCategory),
    *model_urls(RoutingRule),
    *model_urls(FollowUpVisit),
    *model_urls(CalendarDay),
]
