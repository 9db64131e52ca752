"""Roles: separation of duties (三员分立), audited changes, named actions, per-record unmask
(R-10.3-rbac, R-10.3-audit)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from zhili.audit.models import AuditEvent
from zhili.core.permissions import declare_actions, has_action, named_actions
from zhili.people.models import Resident
from zhili.people.tests.factories import make_resident
from zhili.system.actions import create_named_action_permissions
from zhili.system.models import Role
from zhili.system.tests.conftest import role

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-rbac")]


def test_builtin_roles_exist_with_permissions():
    codes = set(Role.objects.filter(builtin=True).values_list("code", flat=True))
    assert {
        "system_admin",
        "security_admin",
        "audit_admin",
        "town_leader",
        "office_staff",
        "grid_worker",
    } <= codes
    assert role("audit_admin").permissions.filter(codename="view_auditevent").exists()
    assert not role("system_admin").permissions.filter(content_type__app_label="audit").exists()
    assert not role("system_admin").permissions.filter(codename__startswith="unmask_").exists()
    assert role("grid_worker").permissions.filter(codename="view_resident").exists()
    assert all(role(c).require_2fa for c in ("system_admin", "security_admin", "audit_admin"))


def test_nobody_holds_two_administrator_duties_model(make_user):
    user = make_user("admin1", "system_admin")
    with pytest.raises(ValidationError), transaction.atomic():
        role("audit_admin").users.add(user)
    with pytest.raises(ValidationError), transaction.atomic():
        user.roles.add(role("security_admin"))
    assert set(user.roles.values_list("code", flat=True)) == {"system_admin"}
    user.roles.add(role("town_leader"))  # a non-administrator role is fine


def test_nobody_holds_two_administrator_duties_form_and_api(client, make_user, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    holder = make_user("sysadm", "system_admin")
    client.force_login(admin)
    audit_role = role("audit_admin")
    response = client.post(
        f"/system/role/{audit_role.pk}/edit/",
        {
            "name": audit_role.name,
            "code": audit_role.code,
            "duty": "audit_admin",
            "data_scope": "all",
            "users": [holder.pk],
        },
    )
    assert response.status_code == 400
    assert "三员分立" in response.content.decode()
    response = client.patch(
        f"/api/system/roles/{audit_role.pk}/", {"users": [holder.pk]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "users" in response.json()
    assert not audit_role.users.filter(pk=holder.pk).exists()


def test_role_changes_are_audited(make_user):
    user = make_user("someone")
    grid_worker = role("grid_worker")
    grid_worker.users.add(user)
    assert AuditEvent.objects.filter(
        event_type="rbac.role_users.grant", object_id=str(grid_worker.pk)
    ).exists()
    perm = Permission.objects.get(codename="delete_resident")
    grid_worker.permissions.add(perm)
    event = AuditEvent.objects.filter(event_type="rbac.permissions.grant").latest("id")
    assert "people.delete_resident" in event.details
    grid_worker.users.remove(user)
    assert AuditEvent.objects.filter(event_type="rbac.role_users.revoke").exists()


def test_permission_change_takes_effect_for_new_requests(make_user):
    user = make_user("w", "grid_worker")
    assert not has_action(user, Resident, "delete")
    role("grid_worker").permissions.add(Permission.objects.get(codename="delete_resident"))
    assert has_action(type(user).objects.get(pk=user.pk), Resident, "delete")


def test_named_actions_become_grantable_permissions(make_user):
    declare_actions(Resident, {"verify": "verify"})
    try:
        create_named_action_permissions()
        perm = Permission.objects.get(codename="verify_resident")
        custom = Role.objects.create(name="核验员", code="verifier", data_scope="all")
        custom.permissions.add(perm, Permission.objects.get(codename="view_resident"))
        user = make_user("verifier")
        custom.users.add(user)
        user = type(user).objects.get(pk=user.pk)
        assert has_action(user, Resident, "verify")
        assert "verify" in named_actions(Resident)
    finally:
        from zhili.core import permissions

        permissions._named_actions.pop(Resident, None)


def test_per_record_unmask_is_audited(client, make_user):
    resident = make_resident(phone="13912345678")
    office = make_user("office1", "office_staff")
    client.force_login(office)
    page = client.get(f"/people/resident/{resident.pk}/").content.decode()
    assert "13912345678" not in page and "139****5678" in page
    assert f"/system/unmask/people.resident/{resident.pk}/phone/" in page
    assert "13912345678" not in client.get("/people/resident/").content.decode()  # lists stay masked
    response = client.post(f"/system/unmask/people.resident/{resident.pk}/phone/")
    assert response.json() == {"value": "13912345678"}
    event = AuditEvent.objects.filter(event_type="data.unmask", username="office1").latest("id")
    assert event.object_id == str(resident.pk) and '"phone"' in event.details
    assert client.get(f"/system/unmask/people.resident/{resident.pk}/phone/").status_code == 405
    assert client.post(f"/system/unmask/people.resident/{resident.pk}/name/").status_code == 404


def test_unmask_needs_the_permission_and_the_scope(client, make_user, town):
    resident = make_resident(phone="13912345678", grid=town["grid_b"])
    leader = make_user("leader", "town_leader")  # views all, no unmask
    client.force_login(leader)
    assert (
        f"/system/unmask/people.resident/{resident.pk}/"
        not in client.get(f"/people/resident/{resident.pk}/").content.decode()
    )
    assert client.post(f"/system/unmask/people.resident/{resident.pk}/phone/").status_code == 403
    worker = make_user("gw", "grid_worker")
    town["grid_a"].members.add(worker)
    client.force_login(worker)
    assert client.post(f"/system/unmask/people.resident/{resident.pk}/phone/").status_code == 404
    assert AuditEvent.objects.filter(event_type="access.denied", username="leader").exists()
