"""Root URL configuration: pages per app, the generated API, schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from zhili.accounts import api as accounts_api
from zhili.core.api.viewsets import api_urls
from zhili.core.views import system

# The API first: its requests are the most frequent, and resolving them should not walk every
# page pattern (the "" includes below are tried in full before anything after them).
urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/cases/workflow/", include("zhili.cases.api_urls")),
    path("api/accounts/", include(accounts_api.urls())),
    path("api/", include(api_urls())),
    path("", include("zhili.dashboard.urls")),
    path("accounts/", include("zhili.accounts.urls")),
    path("orgs/", include("zhili.orgs.urls")),
    path("places/", include("zhili.places.urls")),
    path("people/", include("zhili.people.urls")),
    path("", include("zhili.geo.urls")),
    path("cases/", include("zhili.cases.urls")),
    path("notices/", include("zhili.notices.urls")),
    path("open311/v2/", include("zhili.cases.open311_urls")),
    path("iot/", include("zhili.iot.urls")),
    path("environment/", include("zhili.environment.urls")),
    path("system/", include("zhili.system.urls")),
    path("audit/", include("zhili.audit.urls")),
    path("search/", system.search, name="search"),
    path("system/changes/", system.change_log, name="change_log"),
    path("system/conformance/", system.conformance, name="conformance"),
    path("sharing/data-dictionary/", system.data_dictionary, name="data_dictionary"),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "zhili.dashboard.views.bad_request"
handler403 = "zhili.dashboard.views.permission_denied"
handler404 = "zhili.dashboard.views.page_not_found"
handler500 = "zhili.dashboard.views.server_error"
