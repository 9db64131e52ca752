"""Sessions: idle and absolute timeouts, sign out everywhere, online users and force sign-out (R-10.3-ident)."""

import pytest
from django.test import Client, override_settings

from zhili.accounts import sessions
from zhili.accounts.models import UserSession

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-ident")]


def age(client, key, seconds):
    session = client.session
    session[key] -= seconds
    session.save()


@override_settings(ZHILI_AUTH={"SESSION_IDLE_MINUTES": 30})
def test_idle_timeout(client, official):
    client.force_login(official)
    age(client, sessions.SEEN_AT, 29 * 60)
    assert client.get("/accounts/profile/").status_code == 200  # 29 idle minutes: still in
    age(client, sessions.SEEN_AT, 31 * 60)
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert UserSession.objects.get(user=official).end_reason == "idle"


@override_settings(ZHILI_AUTH={"SESSION_ABSOLUTE_HOURS": 12})
def test_absolute_timeout_even_when_active(client, official):
    client.force_login(official)
    age(client, sessions.AUTH_AT, 11 * 3600)
    assert client.get("/accounts/profile/").status_code == 200
    age(client, sessions.AUTH_AT, 3600 + 1)
    assert client.get("/accounts/profile/").status_code == 302
    assert UserSession.objects.get(user=official).end_reason == "absolute"


def test_session_cookie_flags(client, official, settings):
    from zhili.accounts.tests.helpers import post_login

    response = post_login(client, "official", "Qingxi-Town-2026#")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert settings.SESSION_COOKIE_AGE == 12 * 3600


def test_user_sees_own_sessions_and_signs_out_one_or_all(client, official, audit_events):
    laptop, phone = Client(HTTP_USER_AGENT="laptop"), Client(HTTP_USER_AGENT="phone")
    laptop.force_login(official)
    phone.force_login(official)
    client.force_login(official)
    page = client.get("/accounts/profile/").content.decode()
    assert page.count('action="/accounts/sessions/') == 3  # two others + "sign out everywhere"
    other = UserSession.objects.filter(user=official).exclude(
        key_digest=sessions.key_digest(client.session.session_key)
    )
    assert client.post(f"/accounts/sessions/{other.first().pk}/end/").status_code == 302
    ended = [c for c in (laptop, phone) if c.get("/accounts/profile/").status_code == 302]
    assert len(ended) == 1
    client.post("/accounts/sessions/end-all/")
    assert client.get("/accounts/profile/").status_code == 302
    assert all(c.get("/accounts/profile/").status_code == 302 for c in (laptop, phone))
    assert not UserSession.objects.filter(user=official, ended_at__isnull=True).exists()
    assert "auth.session_revoked" in [e["type"] for e in audit_events]


def test_admin_sees_online_users_and_forces_sign_out(client, official, admin_user, audit_events):
    victim = Client()
    victim.force_login(official)
    client.force_login(admin_user)
    page = client.get("/accounts/online/")
    assert page.status_code == 200 and "official" in page.content.decode()
    row = UserSession.objects.get(user=official)
    assert client.post(f"/accounts/online/{row.pk}/end/").status_code == 302
    assert victim.get("/accounts/profile/").status_code == 302
    revoked = [e for e in audit_events if e["type"] == "auth.session_revoked"]
    assert revoked[-1]["user"] == "secadmin" and revoked[-1]["details"]["target"] == "official"


def test_online_users_needs_permission(client, official):
    client.force_login(official)
    assert client.get("/accounts/online/").status_code == 403
    assert client.post("/accounts/online/1/end/").status_code == 403


def test_sign_out_ends_the_tracked_session(client, official, audit_events):
    client.force_login(official)
    assert client.post("/accounts/logout/").status_code == 302
    assert UserSession.objects.get(user=official).end_reason == "logout"
    assert "auth.logout" in [e["type"] for e in audit_events]
    assert client.get("/accounts/logout/").status_code in (302, 405)
