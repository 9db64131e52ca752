"""Data scope of roles through every read path: list, detail, API, export, search, map layer,
related panels — and the write re-check that rolls back (R-10.3-rbac, R-4.4)."""

import pytest
from django.db.models import Q

from zhili.audit.models import AuditEvent
from zhili.core.permissions import has_action, restrict
from zhili.people.models import Resident
from zhili.people.tests.factories import make_resident
from zhili.places.models import Building
from zhili.places.tests.factories import make_building, make_id_number
from zhili.system.models import Role
from zhili.system.tests.conftest import role

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-rbac"), pytest.mark.req("R-4.4")]


def body(response) -> str:
    assert response.status_code == 200
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8-sig")


@pytest.fixture
def worker(town, make_user):
    user = make_user("grid_a_worker", "grid_worker", department=town["a"])
    town["grid_a"].members.add(user)
    return user


@pytest.fixture
def residents(town):
    return {
        "a": make_resident(name="甲网格居民", grid=town["grid_a"], phone="13811112222", owner_unit=town["a"]),
        "sub": make_resident(name="甲子网格居民", grid=town["sub_a"], owner_unit=town["a"]),
        "b": make_resident(name="乙网格居民", grid=town["grid_b"], phone="13833334444", owner_unit=town["b"]),
    }


def test_grid_worker_sees_his_grid_and_below_only(worker, residents):
    visible = set(Resident.objects.restrict(worker, "view").values_list("name", flat=True))
    assert visible == {"甲网格居民", "甲子网格居民"}
    assert not has_action(worker, Resident, "view", residents["b"])
    assert has_action(worker, Resident, "view", residents["sub"])


def test_grid_worker_never_sees_another_grid_through_any_path(client, worker, residents, town):
    other = residents["b"]
    client.force_login(worker)
    page = client.get("/people/resident/").content.decode()
    assert "甲网格居民" in page and "乙网格居民" not in page
    assert client.get(f"/people/resident/{other.pk}/").status_code == 404
    assert client.get(f"/people/resident/{other.pk}/edit/").status_code == 404
    api = client.get("/api/people/residents/?page_size=100").json()["results"]
    assert {r["name"] for r in api} == {"甲网格居民", "甲子网格居民"}
    assert client.get(f"/api/people/residents/{other.pk}/").status_code == 404
    assert client.patch(
        f"/api/people/residents/{other.pk}/", {"name": "改"}, content_type="application/json"
    ).status_code in (403, 404)
    export = body(client.get("/people/resident/export/?format=csv"))
    assert "甲网格居民" in export and "乙网格居民" not in export
    api_export = body(client.get("/api/people/residents/export/"))
    assert "乙网格居民" not in api_export
    # global search: by name and by the full ID number (an equality lookup on the encrypted column)
    link = f'href="/people/resident/{other.pk}/"'
    assert link not in client.get("/search/?q=乙网格居民").content.decode()
    assert link not in client.get(f"/search/?q={other.id_number}").content.decode()
    mine = residents["a"]
    assert (
        f'href="/people/resident/{mine.pk}/"' in client.get(f"/search/?q={mine.id_number}").content.decode()
    )
    assert client.get(f"/api/people/residents/?search={other.id_number}").json()["results"] == []


def test_map_layer_shows_only_the_workers_grid(client, worker, town):
    mine = make_building(grid=town["grid_a"])
    other = make_building(grid=town["grid_b"])
    client.force_login(worker)
    response = client.get("/map/layers/places.building.geojson")
    assert response.status_code == 200
    ids = {f["properties"]["id"] for f in response.json()["features"]}
    assert mine.pk in ids and other.pk not in ids
    assert client.get(f"/places/building/{other.pk}/").status_code == 404


def test_write_outside_scope_is_rolled_back_and_audited(client, worker, town):
    client.force_login(worker)
    before = Resident.objects.count()
    payload = {
        "name": "越界",
        "id_number": make_id_number(birth="19700101", seq=7),
        "ethnicity": "汉族",
        "residence_type": "registered",
        "political_status": "masses",
        "status": "active",
        "grid": town["grid_b"].pk,
    }
    response = client.post("/api/people/residents/", payload, content_type="application/json")
    assert response.status_code == 403
    assert Resident.objects.count() == before
    assert AuditEvent.objects.filter(event_type="access.denied", username="grid_a_worker").exists()
    # the same write inside his grid passes
    payload["grid"] = town["grid_a"].pk
    assert client.post("/api/people/residents/", payload, content_type="application/json").status_code == 201


def test_page_write_outside_scope_is_rolled_back(client, worker, town, residents):
    client.force_login(worker)
    mine = residents["a"]
    response = client.post(
        f"/people/resident/{mine.pk}/edit/",
        {
            "name": mine.name,
            "id_number": mine.id_number,
            "ethnicity": "汉族",
            "residence_type": "registered",
            "political_status": "masses",
            "status": "active",
            "grid": town["grid_b"].pk,
        },
    )
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.grid == town["grid_a"]


def test_unit_and_below_and_unit_scopes(town, make_user, residents):
    village_head = make_user("cun_a", "village_staff", department=town["a"])
    assert set(Resident.objects.restrict(village_head).values_list("name", flat=True)) == {
        "甲网格居民",
        "甲子网格居民",
    }
    gov_unit = Role.objects.create(name="本级", code="gov-unit", data_scope="unit")
    gov_unit.permissions.set(role("grid_worker").permissions.all())
    at_gov = make_user("gov_unit", department=town["gov"])
    gov_unit.users.add(at_gov)
    assert not Resident.objects.restrict(at_gov).exists()  # residents belong to the villages
    below = Role.objects.create(name="本级及以下", code="gov-below", data_scope="unit_and_below")
    below.permissions.set(role("grid_worker").permissions.all())
    below.users.add(at_gov)
    at_gov = type(at_gov).objects.get(pk=at_gov.pk)
    assert Resident.objects.restrict(at_gov).count() == 3  # roles OR together


def test_custom_scope_units_and_grids(town, make_user, residents):
    custom = Role.objects.create(name="自定义", code="custom-b", data_scope="custom")
    custom.permissions.set(role("grid_worker").permissions.all())
    custom.custom_grids.add(town["grid_b"])
    user = make_user("custom_user")
    custom.users.add(user)
    user = type(user).objects.get(pk=user.pk)
    assert list(Resident.objects.restrict(user).values_list("name", flat=True)) == ["乙网格居民"]
    custom.custom_units.add(town["a"])
    user = type(user).objects.get(pk=user.pk)
    assert Resident.objects.restrict(user).count() == 3


def test_self_scope_includes_own_records(town, make_user):
    user = make_user("self_only", "grid_worker")
    own = make_resident(name="自己录入", created_by=user)
    make_resident(name="别人录入")
    assert list(Resident.objects.restrict(user).values_list("pk", flat=True)) == [own.pk]


def test_office_staff_sees_everything_and_department_staff_is_read_only(town, make_user, residents):
    office = make_user("office", "office_staff", department=town["gov"])
    assert Resident.objects.restrict(office).count() == 3
    dept = make_user("dept", "department_staff", department=town["gov"])
    assert has_action(dept, Resident, "view")
    assert not has_action(dept, Resident, "change")
    assert not Resident.objects.restrict(dept, "change").exists()


def test_reference_data_is_visible_whole(worker, town):
    from zhili.places.models import Grid

    assert Grid.objects.restrict(worker).filter(pk=town["grid_b"].pk).exists()
    assert not Building.objects.restrict(worker).filter(Q(grid=town["grid_b"])).exists()


def test_no_role_means_no_access(django_user_model, residents):
    nobody = django_user_model.objects.create_user("no_role", password="x")
    assert not restrict(Resident.objects.all(), nobody).exists()


def test_navigation_follows_roles(client, town, make_user):
    Role.objects.filter(code="audit_admin").update(require_2fa=False)  # 2FA enrolment is tested by accounts
    auditor = make_user("auditor", "audit_admin")
    client.force_login(auditor)
    page = client.get("/").content.decode()
    assert "/audit/" in page and "/people/resident/" not in page
    worker = make_user("nav_worker", "grid_worker")
    client.force_login(worker)
    page = client.get("/").content.decode()
    assert "/people/resident/" in page and "/audit/" not in page and "/system/role/" not in page


def test_import_outside_scope_is_refused_whole(client, worker, town):
    from django.contrib.auth.models import Permission
    from django.core.files.uploadedfile import SimpleUploadedFile

    role("grid_worker").permissions.add(Permission.objects.get(codename="import_resident"))
    client.force_login(type(worker).objects.get(pk=worker.pk))
    header = "name,id_number,ethnicity,grid,residence_type,political_status,status\n"
    rows = [
        f"甲导入,{make_id_number(birth='19700202', seq=21)},汉族,{town['grid_a'].code},registered,masses,active",
        f"乙导入,{make_id_number(birth='19700303', seq=23)},汉族,{town['grid_b'].code},registered,masses,active",
    ]
    upload = SimpleUploadedFile("r.csv", (header + "\n".join(rows) + "\n").encode())
    before = Resident.objects.count()
    response = client.post("/api/people/residents/import/", {"file": upload})
    assert response.status_code == 400
    assert Resident.objects.count() == before  # all or nothing
    upload = SimpleUploadedFile("r.csv", (header + rows[0] + "\n").encode())
    assert client.post("/api/people/residents/import/", {"file": upload}).status_code == 200
    assert Resident.objects.filter(name="甲导入", grid=town["grid_a"]).exists()
