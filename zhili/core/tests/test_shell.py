"""The web shell: sign-in, navigation, dashboard, search, language, errors (R-0-i18n, R-0-mobile)."""

import pytest

from zhili.people.tests.factories import make_resident
from zhili.places.tests.factories import make_building

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/people/resident/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/api/people/residents/").status_code == 401  # with WWW-Authenticate: Token


@pytest.mark.req("R-0-i18n")
def test_chinese_by_default_english_on_request(client):
    assert "登录" in client.get("/accounts/login/").content.decode()
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign in" in english
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert "Sign in" in client.get("/accounts/login/").content.decode()


@pytest.mark.req("R-0-elements")
def test_dashboard_counts_and_map_layers(admin_client):
    make_building()
    make_resident()
    page = admin_client.get("/").content.decode()
    assert "town-map" in page
    assert "/map/layers/places.building.geojson" in page
    layer = admin_client.get("/map/layers/places.building.geojson").json()
    assert layer["type"] == "FeatureCollection"
    assert len(layer["features"]) == 1
    assert layer["features"][0]["properties"]["url"].startswith("/places/building/")
    assert admin_client.get("/map/layers/places.building.geojson?bbox=1,2").status_code == 400
    empty = admin_client.get("/map/layers/places.building.geojson?bbox=0,0,1,1").json()
    assert empty["features"] == []
    assert admin_client.get("/map/layers/people.resident.geojson").status_code == 404


@pytest.mark.req("R-0-mobile")
def test_shell_is_responsive(admin_client):
    page = admin_client.get("/").content.decode()
    assert 'name="viewport"' in page
    assert "offcanvas-lg" in page  # the navigation collapses into a menu at phone width


@pytest.mark.req("R-0-elements")
def test_global_search_matches_sensitive_values_only_in_full(admin_client):
    resident = make_resident(name="欧阳修")
    assert "欧阳修" in admin_client.get("/search/", {"q": "欧阳"}).content.decode()
    assert "欧阳修" in admin_client.get("/search/", {"q": resident.id_number}).content.decode()
    assert "欧阳修" not in admin_client.get("/search/", {"q": resident.id_number[:10]}).content.decode()


@pytest.mark.req("R-0-time")
def test_api_times_are_iso_8601_with_offset(admin_client):
    resident = make_resident()
    created = admin_client.get(f"/api/people/residents/{resident.pk}/").json()["created_at"]
    assert created.endswith("+08:00")


@pytest.mark.req("R-11.2.1-api")
def test_openapi_schema_and_docs_are_served_without_cdn(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    assert "/api/people/residents/" in schema["paths"]
    assert "/api/places/buildings/{id}/" in schema["paths"]
    docs = admin_client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower() and "https://" not in docs
    bundle = next(line for line in docs.splitlines() if "swagger-ui-bundle.js" in line)
    path = bundle.split('src="')[1].split('"')[0]
    assert admin_client.get(path).status_code == 200


def test_errors_are_pages_not_tracebacks(admin_client):
    assert admin_client.get("/no/such/page/").status_code == 404
    assert admin_client.get("/people/resident/abc/").status_code == 404


def test_change_log_and_conformance_pages(admin_client):
    assert admin_client.get("/system/changes/").status_code == 200
    assert admin_client.get("/system/changes/?request_id=not-a-uuid").status_code == 200
    assert admin_client.get("/system/conformance/").status_code == 200


@pytest.mark.req("R-11.1")
def test_data_dictionary_lists_every_registered_model_and_marks_sensitive_fields(admin_client):
    from zhili.core.registry import registry

    page = admin_client.get("/sharing/data-dictionary/").content.decode()
    for entry in registry:
        assert entry.meta.db_table in page
    assert "people_resident" in page
    assert "id_number" in page


def test_oversized_and_malformed_requests_are_4xx(admin_client):
    body = '{"name": "' + "x" * (11 * 1024 * 1024) + '"}'
    assert (
        admin_client.post("/api/people/residents/", body, content_type="application/json").status_code == 400
    )
    assert admin_client.post("/people/resident/add/", {"name": "x" * 100000}).status_code == 400
    assert admin_client.get("/api/people/residents/?page_size=100000").status_code == 400
    assert admin_client.get("/api/people/residents/?ordering=nonexistent").status_code == 200


@pytest.mark.req("R-10.3-input")
@pytest.mark.parametrize(
    "url",
    [
        "/people/resident/99999999999999999999/",
        "/api/people/residents/99999999999999999999/",
        "/api/people/residents/?grid=99999999999999999999",
        "/people/resident/?household=99999999999999999999",
        "/api/people/residents/?household=99999999999999999999",
        "/api/people/residents/?page=99999999999999999999",
        "/people/resident/?page=99999999999999999999",
        "/people/resident/?birth_date__gte=2024-13-45",
        "/map/layers/places.building.geojson?bbox=nan,nan,nan,nan",
        "/search/?q=%00",
        "/api/people/residents/?search=%00",
        "/people/resident/?sort=-&per_page=-1",
    ],
)
def test_malformed_query_values_never_crash(admin_client, url):
    assert admin_client.get(url).status_code < 500
