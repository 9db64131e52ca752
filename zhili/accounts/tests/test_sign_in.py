"""Sign-in protection: lockout, captcha, per-IP throttle, IP lists, review, open redirects (R-10.3-ident)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from zhili.accounts.models import IpRule, LoginAttempt, User, UserSession, UserStatus
from zhili.accounts.tests.helpers import post_login, solve_captcha

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-ident")]
PASSWORD = "Qingxi-Town-2026#"


def test_sign_in_starts_a_tracked_session_and_is_audited(client, official, audit_events):
    response = post_login(client, "official", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    row = UserSession.objects.get(user=official)
    assert row.ended_at is None and len(row.key_digest) == 64
    assert client.session.session_key not in row.key_digest
    assert [e["type"] for e in audit_events if e["type"].startswith("auth.")] == ["auth.login"]
    assert LoginAttempt.objects.filter(username="official", success=True).count() == 1


def test_wrong_password_is_logged_and_then_a_captcha_is_required(client, official, audit_events):
    assert post_login(client, "official", "wrong-password").status_code == 200
    failed = [e for e in audit_events if e["type"] == "auth.login_failed"]
    assert failed and failed[0]["details"] == {"username": "official", "reason": "bad_password"}
    assert 'id="captcha-image"' not in client.get("/accounts/login/").content.decode()  # one slip is free
    assert post_login(client, "official", "wrong-again").status_code == 200
    page = client.get("/accounts/login/").content.decode()
    assert 'id="captcha-image"' in page
    # The right password without (or with a wrong) verification code is refused.
    response = post_login(client, "official", PASSWORD, captcha="")
    assert response.status_code == 200 and "verification code" in response.content.decode().lower()
    solve_captcha(client)
    assert post_login(client, "official", PASSWORD, captcha="WRONG").status_code == 200
    assert post_login(client, "official", PASSWORD).status_code == 302


def test_failures_from_one_address_bring_the_captcha_for_every_username(client, official):
    from django.test import Client

    for name in ("x1", "x2", "x3"):
        Client().post("/accounts/login/", {"username": name, "password": "whatever-pass"})
    fresh = Client()
    assert 'id="captcha-image"' in fresh.get("/accounts/login/").content.decode()
    response = fresh.post("/accounts/login/", {"username": "official", "password": PASSWORD})
    assert response.status_code == 200
    assert (
        'id="captcha-image"' not in Client().get("/accounts/login/", REMOTE_ADDR="10.2.3.4").content.decode()
    )


def test_one_wrong_password_does_not_block_a_script_or_a_person(client, official):
    assert post_login(client, "official", "wrong-password", captcha="").status_code == 200
    from django.test import Client

    assert (
        Client().post("/accounts/login/", {"username": "official", "password": PASSWORD}).status_code == 302
    )


def test_captcha_is_a_png_and_single_use(client):
    response = client.get("/accounts/login/captcha.png")
    assert response["Content-Type"] == "image/png" and response.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "no-store" in response["Cache-Control"]
    from zhili.accounts import captcha

    session = client.session
    answer = session[captcha.SESSION_KEY]["answer"]
    assert captcha.check(session, answer.lower()) is True
    assert captcha.check(session, answer) is False  # used up


def test_five_failures_lock_the_account_for_fifteen_minutes(client, official, audit_events):
    for _ in range(5):
        assert post_login(client, "official", "wrong-password").status_code == 200
    official.refresh_from_db()
    assert official.is_locked
    assert timedelta(minutes=14) < official.locked_until - timezone.now() <= timedelta(minutes=15)
    assert [e["type"] for e in audit_events].count("auth.lockout") == 1
    response = post_login(client, "official", PASSWORD)
    assert response.status_code == 200 and "locked" in response.content.decode()
    assert LoginAttempt.objects.filter(username="official", reason="locked").exists()
    User.objects.filter(pk=official.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert post_login(client, "official", PASSWORD).status_code == 302


@override_settings(ZHILI_AUTH={"IP_MAX_FAILURES": 3, "LOCKOUT_FAILURES": 50})
def test_failures_from_one_address_are_throttled_whatever_the_username(client, official):
    for name in ("a1", "a2", "a3"):
        post_login(client, name, "whatever-pass")
    response = post_login(client, "official", PASSWORD)
    assert response.status_code == 429
    other = post_login(client, "official", PASSWORD, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302


def test_ip_deny_and_allow_lists(client, official):
    rule = IpRule.objects.create(network="127.0.0.0/8", action="deny")
    assert post_login(client, "official", PASSWORD).status_code == 403
    rule.delete()
    IpRule.objects.create(network="10.0.0.0/8", action="allow")
    assert post_login(client, "official", PASSWORD).status_code == 403
    assert post_login(client, "official", PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302


def test_ip_rule_network_is_validated(admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        "/accounts/iprule/add/", {"network": "not-an-ip", "action": "deny", "enabled": "on"}
    )
    assert response.status_code == 400
    assert not IpRule.objects.exists()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/people/resident/", "/people/resident/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_never_leaves_the_site(client, official, target, expected):
    response = post_login(client, "official", PASSWORD, next_url=target)
    assert response.status_code == 302 and response["Location"] == expected


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        (UserStatus.PENDING, "waiting for review"),
        (UserStatus.REJECTED, "rejected"),
        (UserStatus.DISABLED, "disabled"),
    ],
)
def test_accounts_that_are_not_active_cannot_sign_in(client, official, status, phrase):
    official.status = status
    official.save()
    response = post_login(client, "official", PASSWORD)
    assert response.status_code == 200 and phrase in response.content.decode()
    assert not UserSession.objects.exists()


def test_sign_in_is_csrf_protected(official):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/accounts/login/", {"username": "official", "password": PASSWORD}).status_code == 403


def test_sign_in_speaks_chinese_by_default(client, official):
    assert "注册账号" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    response = post_login(client, "official", "wrong-password", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "用户名或密码错误" in response.content.decode()


def test_malformed_input_never_fails_the_server(client, official):
    for data in (
        {"username": "off\x00icial", "password": "x\x00y"},
        {"username": "a" * 5000, "password": "b" * 5000},
        {"username": ["a", "b"], "password": ""},
        {},
    ):
        assert client.post("/accounts/login/", data).status_code in (200, 429)
    assert client.post("/accounts/login/verify/", {"code": "\x00" * 10}).status_code == 302
