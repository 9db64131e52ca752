"""The one permission path: every list, detail, API, export and search goes through restrict()."""

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Q

from zhili.core import permissions
from zhili.people.models import Resident
from zhili.people.tests.factories import make_resident
from zhili.places.tests.factories import make_grid

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-rbac")]


@pytest.fixture
def grid_scope():
    """A scope provider limiting residents to a user's grids (the seam the security layer fills)."""

    def provider(user, model, action):
        if model is Resident and not user.is_superuser:
            return Q(grid__members=user)
        return None

    permissions.add_scope_provider(provider)
    yield provider
    permissions._scope_providers.remove(provider)


@pytest.fixture
def worker(django_user_model):
    user = django_user_model.objects.create_user("worker", password="x")
    perms = Permission.objects.filter(
        content_type__app_label="people",
        codename__in=["view_resident", "export_resident", "add_resident", "change_resident"],
    )
    user.user_permissions.add(*perms)
    return user


def test_restrict_without_permission_is_empty(django_user_model):
    make_resident()
    user = django_user_model.objects.create_user("nobody")
    assert not Resident.objects.restrict(user, "view").exists()
    assert not permissions.has_action(user, Resident, "view")


def test_scope_reaches_list_detail_api_export_and_search(client, worker, grid_scope):
    mine, other = make_grid(), make_grid()
    mine.members.add(worker)
    inside = make_resident(name="网格内", grid=mine)
    outside = make_resident(name="网格外", grid=other)
    client.force_login(worker)
    page = client.get("/people/resident/").content.decode()
    assert "网格内" in page and "网格外" not in page
    assert client.get(f"/people/resident/{inside.pk}/").status_code == 200
    assert client.get(f"/people/resident/{outside.pk}/").status_code == 404
    assert [r["id"] for r in client.get("/api/people/residents/").json()["results"]] == [inside.pk]
    assert client.get(f"/api/people/residents/{outside.pk}/").status_code == 404
    export = b"".join(client.get("/people/resident/export/?format=csv").streaming_content).decode("utf-8-sig")
    assert "网格内" in export and "网格外" not in export
    search = client.get("/search/", {"q": "网格"}).content.decode()
    assert "网格内" in search and "网格外" not in search


def test_a_write_that_leaves_the_scope_is_rolled_back(client, worker, grid_scope):
    mine, other = make_grid(), make_grid()
    mine.members.add(worker)
    resident = make_resident(grid=mine)
    client.force_login(worker)
    response = client.patch(
        f"/api/people/residents/{resident.pk}/", {"grid": other.pk}, content_type="application/json"
    )
    assert response.status_code == 403
    resident.refresh_from_db()
    assert resident.grid == mine


def test_sensitive_fields_are_masked_without_the_unmask_permission(client, worker):
    resident = make_resident(phone="13812345678")
    client.force_login(worker)
    body = client.get(f"/api/people/residents/{resident.pk}/").json()
    assert body["phone"] == "138****5678"
    assert body["id_number"] == resident.id_number[:6] + "********" + resident.id_number[-4:]
    assert resident.id_number not in client.get(f"/people/resident/{resident.pk}/").content.decode()
    worker.user_permissions.add(Permission.objects.get(codename="unmask_resident"))
    client.force_login(type(worker).objects.get(pk=worker.pk))
    url = f"/api/people/residents/{resident.pk}/"
    assert client.get(url).json()["phone"] == "138****5678"  # clear values only when asked for
    assert client.get(url, {"unmask": "true"}).json()["phone"] == "13812345678"
    worker.user_permissions.remove(Permission.objects.get(codename="unmask_resident"))
    client.force_login(type(worker).objects.get(pk=worker.pk))
    assert client.get(url, {"unmask": "true"}).json()["phone"] == "138****5678"  # asking is not enough


def test_navigation_shows_only_permitted_pages(client, worker):
    client.force_login(worker)
    page = client.get("/").content.decode()
    assert "/people/resident/" in page
    assert "/places/building/" not in page
    assert "/system/conformance/" not in page


def test_custom_views_check_and_fetch_through_the_one_permission_path(django_user_model, worker, grid_scope):
    """require_action refuses (and audits the refusal); get_in_scope hides records out of scope."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from zhili.audit.models import AuditEvent

    mine, other = make_grid(), make_grid()
    mine.members.add(worker)
    inside, outside = make_resident(grid=mine), make_resident(grid=other)
    nobody = django_user_model.objects.create_user("nobody")

    permissions.require_action(worker, Resident, "view")  # allowed: returns quietly
    before = AuditEvent.objects.filter(event_type="access.denied").count()
    with pytest.raises(PermissionDenied):
        permissions.require_action(nobody, Resident, "view")
    assert AuditEvent.objects.filter(event_type="access.denied").count() == before + 1
    with pytest.raises(PermissionDenied):
        permissions.require_action(nobody, Resident, "view", audit_refusal=False)
    assert AuditEvent.objects.filter(event_type="access.denied").count() == before + 1

    assert permissions.get_in_scope(Resident, worker, inside.pk) == inside
    for pk in (outside.pk, 10**9, "not-a-number"):
        with pytest.raises(Http404):
            permissions.get_in_scope(Resident, worker, pk)
