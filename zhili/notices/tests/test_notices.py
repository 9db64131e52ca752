"""Notices: stored per recipient by the sink, bell with unread count, list, mark read."""

import re

import pytest
from django.urls import reverse

from zhili.cases.tests.factories import make_user
from zhili.notices.models import Notice

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-6-cases")]


def test_notices_bell_list_and_mark_read(client):
    from zhili.core.notices import notify

    user = make_user("bell_user")
    notify([user], "测试通知", body="正文", url="/cases/queue/", level="warning", category="cases.sla")
    client.force_login(user)
    home = client.get(reverse("notices:list"))
    text = home.content.decode()
    assert 'id="notice-bell"' in text and re.search(r'data-unread="1"', text) and "测试通知" in text
    notice = Notice.objects.get(recipient=user)
    response = client.post(reverse("notices:read", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == "/cases/queue/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert client.get(reverse("notices:unread")).json() == {"unread": 0}
    other = make_user("other_bell")
    client.force_login(other)
    assert client.post(reverse("notices:read", args=[notice.pk])).status_code == 404
    notify(other, "另一条", url="https://evil.example/")
    n = Notice.objects.get(recipient=other)
    assert client.post(reverse("notices:read", args=[n.pk]))["Location"] == reverse("notices:list")
    client.post(reverse("notices:read_all"))
    assert not Notice.objects.filter(recipient=other, read_at__isnull=True).exists()
