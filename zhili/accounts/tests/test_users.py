"""User management (系统管理 › 用户): registration review, admin creation, disable, delete, reset (R-4.4, R-10.3-first)."""

import pytest

from zhili.accounts.models import User, UserSession, UserStatus
from zhili.accounts.tests.helpers import post_login

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-ident")]


def register(client, **extra):
    data = {
        "username": "newcomer",
        "real_name": "李新",
        "phone": "13800001111",
        "password1": "Tz9kpw4Lq-2026",
        "password2": "Tz9kpw4Lq-2026",
        **extra,
    }
    return client.post("/accounts/register/", data)


def test_self_registration_waits_for_review_then_approval(client, admin_user, audit_events):
    assert client.get("/accounts/register/").status_code == 200
    response = register(client)
    assert response.status_code == 200 and "waiting for review" in response.content.decode()
    user = User.objects.get(username="newcomer")
    assert user.status == UserStatus.PENDING and not user.is_active
    response = post_login(client, "newcomer", "Tz9kpw4Lq-2026")
    assert response.status_code == 200 and "waiting for review" in response.content.decode()
    admin = client.__class__()
    admin.force_login(admin_user)
    assert "newcomer" in admin.get("/accounts/users/?status=pending").content.decode()
    assert admin.post(f"/accounts/users/{user.pk}/approve/").status_code == 302
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE and user.is_active
    assert post_login(client, "newcomer", "Tz9kpw4Lq-2026").status_code == 302
    types = [e["type"] for e in audit_events]
    assert "user.create" in types and "user.approve" in types


def test_registration_refuses_weak_passwords_and_taken_usernames(client, official):
    response = register(client, password1="woaini1314", password2="woaini1314")
    assert response.status_code == 400 and not User.objects.filter(username="newcomer").exists()
    assert register(client, username="official").status_code == 400


def test_rejected_registration(client, admin_user):
    register(client)
    user = User.objects.get(username="newcomer")
    client.force_login(admin_user)
    client.post(f"/accounts/users/{user.pk}/reject/")
    user.refresh_from_db()
    assert user.status == UserStatus.REJECTED and not user.is_active


@pytest.mark.req("R-10.3-first")
def test_admin_creates_a_user_with_a_one_time_password(client, admin_user, audit_events):
    client.force_login(admin_user)
    response = client.post(
        "/accounts/users/new/", {"username": "gridworker", "real_name": "赵网格", "phone": "13900002222"}
    )
    assert response.status_code == 200
    password = response.context["password"]
    user = User.objects.get(username="gridworker")
    assert user.must_change_password and user.check_password(password) and user.is_active
    other = client.__class__()
    assert post_login(other, "gridworker", password).status_code == 302
    response = other.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    assert "user.create" in [e["type"] for e in audit_events]


def test_admin_resets_a_password_and_ends_the_users_sessions(client, admin_user, official, audit_events):
    victim = client.__class__()
    victim.force_login(official)
    client.force_login(admin_user)
    response = client.post(f"/accounts/users/{official.pk}/reset_password/")
    password = response.context["password"]
    official.refresh_from_db()
    assert official.must_change_password and official.check_password(password)
    assert victim.get("/accounts/profile/").status_code == 302
    assert "auth.password_reset" in [e["type"] for e in audit_events]


def test_disable_enable_and_soft_delete(client, admin_user, official, audit_events):
    victim = client.__class__()
    victim.force_login(official)
    client.force_login(admin_user)
    client.post(f"/accounts/users/{official.pk}/disable/")
    official.refresh_from_db()
    assert official.status == UserStatus.DISABLED and not official.is_active
    assert victim.get("/accounts/profile/").status_code == 302
    client.post(f"/accounts/users/{official.pk}/enable/")
    official.refresh_from_db()
    assert official.is_active
    client.post(f"/accounts/users/{official.pk}/delete/")
    official.refresh_from_db()
    assert official.deleted_at is not None and not official.is_active
    assert "official" not in client.get("/accounts/users/").content.decode()
    assert client.get(f"/accounts/users/{official.pk}/").status_code == 404
    assert not UserSession.objects.filter(user=official, ended_at__isnull=True).exists()
    types = [e["type"] for e in audit_events]
    assert {"user.disable", "user.delete"} <= set(types)


def test_admin_cannot_disable_or_delete_self(client, admin_user):
    client.force_login(admin_user)
    client.post(f"/accounts/users/{admin_user.pk}/delete/")
    admin_user.refresh_from_db()
    assert admin_user.deleted_at is None and admin_user.is_active


def test_unlock(client, admin_user, official):
    from datetime import timedelta

    from django.utils import timezone

    User.objects.filter(pk=official.pk).update(locked_until=timezone.now() + timedelta(minutes=10))
    client.force_login(admin_user)
    client.post(f"/accounts/users/{official.pk}/unlock/")
    official.refresh_from_db()
    assert not official.is_locked


def test_user_management_needs_permissions(client, official, admin_user):
    client.force_login(official)
    assert client.get("/accounts/users/").status_code == 403
    assert client.get(f"/accounts/users/{admin_user.pk}/").status_code == 403
    assert client.post("/accounts/users/new/", {"username": "x", "real_name": "x"}).status_code == 403
    assert client.post(f"/accounts/users/{admin_user.pk}/reset_password/").status_code == 403
    assert client.post(f"/accounts/users/{admin_user.pk}/delete/").status_code == 403
    assert client.post(f"/accounts/users/{admin_user.pk}/approve/").status_code == 403


def test_unknown_action_and_get_are_refused(client, admin_user, official):
    client.force_login(admin_user)
    assert client.post(f"/accounts/users/{official.pk}/explode/").status_code == 403
    assert client.get(f"/accounts/users/{official.pk}/disable/").status_code == 405


def test_edit_user_and_posts(client, admin_user, official):
    from zhili.system.models import Post

    post = Post.objects.create(name="网格员测试岗", code="test-grid-post")
    client.force_login(admin_user)
    response = client.post(
        f"/accounts/users/{official.pk}/edit/",
        {"username": "official", "real_name": "王芳芳", "phone": "", "email": "", "posts": [post.pk]},
    )
    assert response.status_code == 302
    official.refresh_from_db()
    assert official.real_name == "王芳芳" and list(official.posts.all()) == [post]


def test_demo_style_users_with_unusable_passwords_are_active(django_user_model):
    user = django_user_model(username="demo_grid", real_name="演示")
    user.set_unusable_password()
    user.save()
    assert user.is_active and user.status == UserStatus.ACTIVE


def test_users_api_is_read_only_and_needs_permission(client, admin_user, official):
    from zhili.accounts.tokens import create_token

    _t, raw = create_token(admin_user, "sync", scopes=["accounts:read"])
    auth = {"HTTP_AUTHORIZATION": f"Token {raw}"}
    response = client.get("/api/accounts/users/?search=official", **auth)
    assert response.status_code == 200
    rows = response.json()["results"] if "results" in response.json() else response.json()
    assert (
        [r["username"] for r in rows] == ["official"] and "phone" not in rows[0] and "password" not in rows[0]
    )
    assert client.get(f"/api/accounts/users/{official.pk}/", **auth).json()["status"] == "active"
    assert client.post("/api/accounts/users/", {"username": "x"}, **auth).status_code in (403, 405)
    _t, other = create_token(official, "mine", scopes=["read"])
    assert client.get("/api/accounts/users/", HTTP_AUTHORIZATION=f"Token {other}").status_code == 403
    _t, people_only = create_token(admin_user, "people", scopes=["people:read"])
    assert client.get("/api/accounts/users/", HTTP_AUTHORIZATION=f"Token {people_only}").status_code == 403


def test_phone_is_masked_without_the_unmask_permission(client, official, django_user_model):
    from django.contrib.auth.models import Permission

    official.phone = "13812345678"
    official.save()
    viewer = django_user_model.objects.create_user("viewer", password="Tz9kpw4Lq-2026")
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_user", content_type__app_label="accounts")
    )
    client.force_login(viewer)
    page = client.get(f"/accounts/users/{official.pk}/").content.decode()
    assert "13812345678" not in page and "138****5678" in page
    viewer.user_permissions.add(
        Permission.objects.get(codename="unmask_user", content_type__app_label="accounts")
    )
    viewer = django_user_model.objects.get(pk=viewer.pk)
    client.force_login(viewer)
    assert "13812345678" in client.get(f"/accounts/users/{official.pk}/").content.decode()
