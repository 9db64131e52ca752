"""The per-request path made cheap without changing what it answers (R-11.1).

The signed-in user and the session are read with prepared statements (``zhili.core.fetch``,
``zhili.accounts.session_store``), and API filter forms hold only the filters a request names.
Each test compares with what the ORM or an unfiltered request gives.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from zhili.core.fetch import fetch_by_pk
from zhili.people.models import Resident
from zhili.people.tests.factories import make_resident, make_tag
from zhili.places.tests.factories import make_grid

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-11.1")]


def test_fetch_by_pk_returns_what_the_orm_returns():
    user_model = get_user_model()
    user = user_model.objects.create_user("fetched", password="x", phone="13800138000", real_name="王芳")
    user.last_login = timezone.now()
    user.save()
    fetched = fetch_by_pk(user_model, user.pk)
    orm = user_model.objects.get(pk=user.pk)
    for field in user_model._meta.concrete_fields:
        assert getattr(fetched, field.attname) == getattr(orm, field.attname), field.name
    assert fetched.phone == "13800138000"  # an encrypted column comes back decrypted
    assert isinstance(fetched.last_login, datetime.datetime) and fetched.last_login.tzinfo is not None
    assert fetched.is_active is True
    assert fetched._state.adding is False and fetched._state.db == "default"


def test_fetch_by_pk_of_a_resident_parses_dates_and_decrypts():
    resident = make_resident(grid=make_grid(), phone="13912345678", birth="19750301")
    fetched = fetch_by_pk(Resident, str(resident.pk))  # a key from a URL or a session is text
    assert fetched.birth_date == datetime.date(1975, 3, 1)
    assert fetched.id_number == Resident.objects.get(pk=resident.pk).id_number
    assert fetched.phone == "13912345678"


@pytest.mark.parametrize("pk", [987654321, "not-a-number", None])
def test_fetch_by_pk_of_a_missing_or_malformed_key_is_does_not_exist(pk):
    with pytest.raises(Resident.DoesNotExist):
        fetch_by_pk(Resident, pk)


@pytest.mark.req("R-10.3-ident")
def test_a_signed_in_session_is_read_until_it_expires(client, django_user_model):
    user = django_user_model.objects.create_superuser("session-user", password="x")
    client.force_login(user)
    assert client.get("/api/people/residents/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/api/people/residents/")
    assert response.status_code in (401, 403)  # the expired row is not read: anonymous


@pytest.mark.req("R-10.3-ident")
def test_a_disabled_user_is_refused_at_the_next_request(client, django_user_model):
    user = django_user_model.objects.create_superuser("soon-disabled", password="x")
    client.force_login(user)
    assert client.get("/api/people/residents/").status_code == 200
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/people/residents/").status_code in (401, 403)


def _ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_api_filters_apply_when_the_form_holds_only_the_named_filters(admin_client):
    grid, other = make_grid(), make_grid()
    tag = make_tag()
    tagged = make_resident(grid=grid, birth="19900101")
    tagged.tags.add(tag)
    plain = make_resident(grid=grid, birth="19500101")
    elsewhere = make_resident(grid=other)
    elsewhere.tags.add(tag)
    url = "/api/people/residents/"
    assert _ids(admin_client.get(url)) == sorted([tagged.pk, plain.pk, elsewhere.pk])
    assert _ids(admin_client.get(url, {"grid": grid.pk})) == sorted([tagged.pk, plain.pk])
    assert _ids(admin_client.get(url, {"grid": grid.pk, "tags": tag.pk})) == [tagged.pk]
    assert _ids(admin_client.get(url, {"tags": tag.pk})) == sorted([tagged.pk, elsewhere.pk])
    # A date range filter by its own name, and the free-text search next to it.
    assert _ids(admin_client.get(url, {"birth_date__gte": "1980-01-01", "grid": grid.pk})) == [tagged.pk]
    # Parameters that name no filter change nothing; a bad value is still a field error.
    assert _ids(admin_client.get(url, {"grid": grid.pk, "unknown": "1"})) == sorted([tagged.pk, plain.pk])
    response = admin_client.get(url, {"grid": "abc"})
    assert response.status_code == 400 and "grid" in response.json()


def test_the_browsable_api_still_offers_every_filter(admin_client):
    grid = make_grid()
    response = admin_client.get("/api/people/residents/", {"grid": grid.pk}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("grid", "tags", "birth_date__gte", "status"):
        assert f'name="{name}"' in html, name
