"""Password policy profiles, history, expiry and first sign-in change (R-10.3-ident, R-10.3-first)."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from zhili.accounts.models import PasswordHistory, User

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-ident")]
MLPS = override_settings(ZHILI_AUTH={"PASSWORD_PROFILE": "mlps"})
ASVS = override_settings(ZHILI_AUTH={"PASSWORD_PROFILE": "asvs"})


def refused(password, user=None) -> bool:
    try:
        validate_password(password, user)
    except ValidationError:
        return True
    return False


@MLPS
@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Ab3$efg", False),  # 7 characters
        ("abcdefghij", False),  # one class
        ("abcdefgh12", False),  # two classes
        ("Tz9kpw4Lq", True),  # lower + upper + digit
        ("tz9kpw4l!", True),  # lower + digit + symbol
        ("long passphrase without digits", False),  # one class + space: 2 classes
    ],
)
def test_mlps_profile_length_and_three_of_four_classes(password, ok):
    assert refused(password) is not ok


@ASVS
@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Tz9kpw4Lq!", False),  # 10 characters: too short for ASVS
        ("correct horse battery staple", True),  # no composition rule
        ("tzkpwlqmvbnrx", True),
    ],
)
def test_asvs_profile_twelve_characters_no_composition(password, ok):
    assert refused(password) is not ok


@pytest.mark.parametrize(
    "password",
    [
        "123456a",
        "woaini1314",
        "qwer1234",
        "Qwer1234!",
        "zhangwei1988",
        "Liuyang@2024",
        "P@ssw0rd",
        "1qaz2wsx",
    ],
)
@pytest.mark.parametrize("profile", [MLPS, ASVS])
def test_common_and_chinese_common_passwords_are_refused_in_both_profiles(profile, password):
    with profile:
        assert refused(password)


def test_password_containing_the_username_is_refused():
    user = User(username="gridworker7")
    assert refused("Gridworker7-2026!", user)
    assert not refused("Tz9kpw4Lq-2026!", user)


def test_the_last_five_passwords_cannot_be_reused(django_user_model):
    user = django_user_model.objects.create_user("hist", password="Start-Pass-2026!")
    passwords = [f"Rotate-{n}-Pass!" for n in range(1, 6)]
    for password in passwords:
        validate_password(password, user)
        user.set_password(password)
        user.save()
    assert PasswordHistory.objects.filter(user=user).count() == 5
    for password in passwords:
        assert refused(password, user), password
    # The first one is six changes ago: allowed again.
    assert not refused("Start-Pass-2026!", user)


@MLPS
def test_mlps_passwords_expire_after_90_days(client, django_user_model):
    user = django_user_model.objects.create_user("old", password="Start-Pass-2026!")
    client.force_login(user)
    assert client.get("/").status_code == 200
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    assert client.get("/api/people/residents/").status_code == 403
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "Start-Pass-2026!",
            "new_password1": "Tz9kpw4Lq-2026",
            "new_password2": "Tz9kpw4Lq-2026",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@ASVS
def test_asvs_passwords_do_not_expire(client, django_user_model):
    user = django_user_model.objects.create_user("old2", password="Start-Pass-2026!")
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=400))
    client.force_login(user)
    assert client.get("/").status_code == 200


@pytest.mark.req("R-10.3-first")
def test_changing_the_password_signs_out_other_sessions(client, django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user("multi", password="Start-Pass-2026!")
    other = Client()
    other.force_login(user)
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "Start-Pass-2026!",
            "new_password1": "Tz9kpw4Lq-2026",
            "new_password2": "Tz9kpw4Lq-2026",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_the_hash_is_argon2id():
    user = User(username="h")
    user.set_password("Tz9kpw4Lq-2026")
    assert user.password.startswith("argon2$argon2id$")
