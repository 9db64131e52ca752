from zhili.core.urls import model_urls
from zhili.people.models import FloatingRegistration, Household, Resident, Tag

app_name = "people"
urlpatterns = [
    *model_urls(Resident),
    *model_urls(Household),
    *model_urls(FloatingRegistration),
    *model_urls(Tag),
]
