"""Client-certificate sign-in behind a TLS proxy that verified the certificate (R-10.3-ca)."""

import pytest
from django.test import override_settings

from zhili.accounts.models import UserSession

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-ca")]
ON = override_settings(
    ZHILI_AUTH={"CLIENT_CERT_HEADER": "X-SSL-Client-S-DN", "CLIENT_CERT_VERIFY_HEADER": "X-SSL-Client-Verify"}
)


def test_off_by_default(client, official):
    response = client.get(
        "/accounts/login/certificate/",
        HTTP_X_SSL_CLIENT_S_DN="CN=official,O=Qingxi",
        HTTP_X_SSL_CLIENT_VERIFY="SUCCESS",
    )
    assert response.status_code == 403
    assert "certificate" not in client.get("/accounts/login/").content.decode().lower()


@ON
def test_a_verified_certificate_signs_its_owner_in(client, official, audit_events):
    assert "/accounts/login/certificate/" in client.get("/accounts/login/").content.decode()
    response = client.get(
        "/accounts/login/certificate/?next=/accounts/profile/",
        HTTP_X_SSL_CLIENT_S_DN="CN=official,OU=综治办,O=Qingxi",
        HTTP_X_SSL_CLIENT_VERIFY="SUCCESS",
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert UserSession.objects.filter(user=official).exists()
    assert [e["details"].get("method") for e in audit_events if e["type"] == "auth.login"] == ["certificate"]


@ON
@pytest.mark.parametrize(
    ("subject", "verify"),
    [
        ("CN=official", "FAILED:unable to verify"),
        ("CN=official", ""),
        ("CN=nobody", "SUCCESS"),
        ("O=NoCN", "SUCCESS"),
    ],
)
def test_unverified_or_unknown_certificates_are_refused(client, official, subject, verify):
    response = client.get(
        "/accounts/login/certificate/", HTTP_X_SSL_CLIENT_S_DN=subject, HTTP_X_SSL_CLIENT_VERIFY=verify
    )
    assert response.status_code == 403
    assert client.get("/accounts/profile/").status_code == 302


@ON
def test_certificate_does_not_skip_an_enrolled_second_factor(client, official):
    from zhili.accounts import twofactor

    device = twofactor.new_totp_device(official)
    device.confirmed = True
    device.save()
    response = client.get(
        "/accounts/login/certificate/",
        HTTP_X_SSL_CLIENT_S_DN="CN=official",
        HTTP_X_SSL_CLIENT_VERIFY="SUCCESS",
    )
    assert response["Location"] == "/accounts/login/verify/"
    assert client.get("/accounts/profile/").status_code == 302
