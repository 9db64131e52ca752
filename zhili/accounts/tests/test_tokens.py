"""API tokens: the key works once issued, and stops working when revoked or expired (R-10.3-ident)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.accounts.models import ApiToken, User
from zhili.accounts.tokens import create_token, user_for_token

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-ident")]


@pytest.fixture
def staff():
    return User.objects.create_user("apiuser", password="Xq7!pLm2#vR9", is_superuser=True)


def test_key_is_shown_once_and_only_its_digest_is_stored(staff):
    token, raw = create_token(staff, "ci")
    assert raw.startswith("zl_") and raw not in token.key_digest
    assert not ApiToken.objects.filter(key_digest=raw).exists()
    assert user_for_token(raw) == staff
    assert user_for_token(raw + "x") is None


@pytest.mark.parametrize("keyword", ["Token", "Bearer"])
def test_api_accepts_token_and_bearer(client, staff, keyword):
    _token, raw = create_token(staff, "ci")
    response = client.get("/api/people/residents/", HTTP_AUTHORIZATION=f"{keyword} {raw}")
    assert response.status_code == 200
    assert client.get("/api/people/residents/").status_code in (401, 403)


def test_revoked_and_expired_tokens_are_refused(client, staff):
    token, raw = create_token(staff, "ci")
    token.revoke()
    assert client.get("/api/people/residents/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401
    token2, raw2 = create_token(staff, "old", expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/people/residents/", HTTP_AUTHORIZATION=f"Token {raw2}").status_code == 401
    assert token2.is_valid is False
