"""Two-factor sign-in: TOTP with real clock codes, replay refusal, recovery codes, WebAuthn with a
software authenticator, the partial sign-in state, and per-role requirement (R-10.3-mfa)."""

import json
import time

import pyotp
import pytest

from zhili.accounts import twofactor
from zhili.accounts.models import RecoveryCode, TotpDevice, WebAuthnCredential
from zhili.accounts.tests.helpers import SoftAuthenticator, post_login

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-mfa")]
PASSWORD = "Qingxi-Town-2026#"


def enrol_totp(client, user):
    """Enrol through the pages as a user would; return (secret, recovery codes)."""
    client.force_login(user)
    page = client.get("/accounts/2fa/totp/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    secret = TotpDevice.objects.get(user=user).secret
    assert secret in page.content.decode()
    wrong = client.post("/accounts/2fa/totp/", {"code": "000000"})
    assert wrong.status_code == 400
    response = client.post("/accounts/2fa/totp/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = response.context["codes"]
    client.logout()
    return secret, codes


def test_totp_enrolment_stores_hashed_recovery_codes(client, official, audit_events):
    _secret, codes = enrol_totp(client, official)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=official).values_list("digest", flat=True))
    assert not stored & set(codes)
    assert "auth.2fa_enabled" in [e["type"] for e in audit_events]


def test_sign_in_with_totp_and_no_way_around_the_second_step(client, official, audit_events):
    secret, _codes = enrol_totp(client, official)
    response = post_login(client, "official", PASSWORD, next_url="/accounts/profile/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/verify/"
    # Half signed in is not signed in: no page, no API.
    assert client.get("/people/resident/").status_code == 302
    assert client.get("/people/resident/")["Location"].startswith("/accounts/login/")
    assert client.get("/api/people/residents/").status_code in (401, 403)
    assert client.get("/accounts/profile/").status_code == 302
    # A TOTP code computed from the real clock. Enrolment used the current step's code, which is
    # spent; the next step's code is inside the accepted drift window.
    assert client.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).now()}).status_code == 400
    code = pyotp.TOTP(secret).at(time.time() + 30)
    response = client.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/", response.content
    assert client.get("/accounts/profile/").status_code == 200
    logins = [e for e in audit_events if e["type"] == "auth.login"]
    assert logins[-1]["details"]["method"] == "totp"
    # The same code cannot be used again (replay), even a second later.
    client.logout()
    post_login(client, "official", PASSWORD)
    response = client.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 400
    assert "auth.2fa_failed" in [e["type"] for e in audit_events]


def test_old_and_future_codes_outside_the_window_are_refused(official):
    device = twofactor.new_totp_device(official)
    totp = pyotp.TOTP(device.secret)
    now = time.time()
    assert not twofactor.verify_totp(device, totp.at(now - 90), at=now)
    assert not twofactor.verify_totp(device, totp.at(now + 90), at=now)
    assert twofactor.verify_totp(device, totp.at(now - 30), at=now)  # one step of clock drift
    assert not twofactor.verify_totp(device, totp.at(now - 30), at=now)  # used
    assert twofactor.verify_totp(device, totp.at(now), at=now)
    assert not twofactor.verify_totp(device, totp.at(now - 30), at=now)  # older than the last used


def test_recovery_code_works_once(client, official):
    _secret, codes = enrol_totp(client, official)
    post_login(client, "official", PASSWORD)
    assert client.post("/accounts/login/verify/", {"code": codes[0].upper()}).status_code == 302
    client.logout()
    post_login(client, "official", PASSWORD)
    assert client.post("/accounts/login/verify/", {"code": codes[0]}).status_code == 400
    assert client.post("/accounts/login/verify/", {"code": codes[1]}).status_code == 302


def test_wrong_codes_count_towards_the_lockout(client, official):
    enrol_totp(client, official)
    post_login(client, "official", PASSWORD)
    for _ in range(4):
        assert client.post("/accounts/login/verify/", {"code": "123456"}).status_code == 400
    response = client.post("/accounts/login/verify/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    official.refresh_from_db()
    assert official.is_locked


def test_partial_sign_in_expires(client, official):
    secret, _codes = enrol_totp(client, official)
    post_login(client, "official", PASSWORD)
    session = client.session
    session["zhili_partial_auth"]["at"] -= 6 * 60
    session.save()
    response = client.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_webauthn_registration_and_sign_in_with_a_software_key(client, official, audit_events):
    key = SoftAuthenticator()
    client.force_login(official)
    options = client.post("/accounts/2fa/keys/begin/").json()
    assert options["rp"]["id"] == "testserver"
    response = client.post(
        "/accounts/2fa/keys/",
        json.dumps({"name": "USB key 1", "credential": key.create(options)}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    stored = WebAuthnCredential.objects.get(user=official)
    assert stored.name == "USB key 1"
    client.logout()

    assert post_login(client, "official", PASSWORD)["Location"] == "/accounts/login/verify/"
    options = client.post("/accounts/login/verify/key/begin/").json()
    response = client.post(
        "/accounts/login/verify/key/", json.dumps(key.get(options)), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["redirect"] == "/"
    assert client.get("/").status_code == 200
    stored.refresh_from_db()
    assert stored.sign_count == 1 and stored.last_used_at is not None
    assert [e["details"].get("method") for e in audit_events if e["type"] == "auth.login"][-1] == "webauthn"


def test_webauthn_refuses_a_replayed_or_foreign_assertion(client, official):
    key = SoftAuthenticator()
    client.force_login(official)
    options = client.post("/accounts/2fa/keys/begin/").json()
    client.post(
        "/accounts/2fa/keys/",
        json.dumps({"name": "k", "credential": key.create(options)}),
        content_type="application/json",
    )
    client.logout()
    post_login(client, "official", PASSWORD)
    options = client.post("/accounts/login/verify/key/begin/").json()
    assertion = key.get(options)
    # Signed for another origin: refused.
    phishing = SoftAuthenticator(origin="http://evil.example")
    phishing.key, phishing.credential_id, phishing.counter = key.key, key.credential_id, key.counter
    response = client.post(
        "/accounts/login/verify/key/", json.dumps(phishing.get(options)), content_type="application/json"
    )
    assert response.status_code == 400
    # The challenge was consumed: the genuine assertion for it cannot be replayed either.
    response = client.post(
        "/accounts/login/verify/key/", json.dumps(assertion), content_type="application/json"
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_webauthn_registration_with_a_wrong_challenge_is_refused(client, official):
    key = SoftAuthenticator()
    client.force_login(official)
    client.post("/accounts/2fa/keys/begin/")
    forged = key.create({"challenge": "AAAAAAAAAAAAAAAAAAAAAA"})
    response = client.post(
        "/accounts/2fa/keys/",
        json.dumps({"name": "k", "credential": forged}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not WebAuthnCredential.objects.exists()


def test_a_role_requiring_2fa_sends_members_to_enrol_first(client, official):
    from zhili.system.models import Role

    role = Role.objects.create(name="两步验证测试角色", code="test-2fa", require_2fa=True)
    role.users.add(official)
    client.force_login(official)
    response = client.get("/people/resident/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert client.get("/api/people/residents/").status_code == 403
    assert client.get("/accounts/2fa/").status_code == 200
    page = client.get("/accounts/2fa/totp/")
    secret = TotpDevice.objects.get(user=official).secret
    assert page.status_code == 200
    client.post("/accounts/2fa/totp/", {"code": pyotp.TOTP(secret).now()})
    assert client.get("/").status_code == 200
    # And the factor cannot be removed while the role requires it.
    client.post("/accounts/2fa/totp/remove/")
    assert TotpDevice.objects.filter(user=official, confirmed=True).exists()


def test_totp_secret_is_encrypted_at_rest(official):
    from django.db import connection

    device = twofactor.new_totp_device(official)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert device.secret not in stored
    assert TotpDevice.objects.get(pk=device.pk).secret == device.secret
