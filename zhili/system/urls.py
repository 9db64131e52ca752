from django.urls import path

from zhili.core.urls import model_urls
from zhili.system import views
from zhili.system.models import Dictionary, DictionaryItem, Post, Role, SystemParameter

app_name = "system"
urlpatterns = [
    path("unmask/<str:label>/<int:pk>/<str:field>/", views.unmask, name="unmask"),
    *model_urls(Role),
    *model_urls(Post),
    *model_urls(Dictionary),
    *model_urls(DictionaryItem),
    *model_urls(SystemParameter),
]
