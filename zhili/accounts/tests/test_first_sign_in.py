import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-first")]


def test_a_generated_password_must_be_changed_before_anything_else(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "first", password="Generated-Pass-1!", must_change_password=True
    )
    client.force_login(user)
    response = client.get("/people/resident/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"
    assert client.get("/api/people/residents/").status_code == 403
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "Generated-Pass-1!",
            "new_password1": "Qingxi-Town-2026#",
            "new_password2": "Qingxi-Town-2026#",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get("/people/resident/").status_code == 200


def test_a_weak_new_password_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user(
        "weak", password="Generated-Pass-1!", must_change_password=True
    )
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {"old_password": "Generated-Pass-1!", "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.must_change_password
