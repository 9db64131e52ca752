"""Pages and endpoints: HTTP ingestion, live alarms (SSE and polling), map, credentials, rules files
(R-10.3-iot, R-5.3.2-monitor, R-0-ioc)."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from zhili.iot import store
from zhili.iot.models import Alarm, DeviceCredential, Rule
from zhili.iot.tests.factories import make_device, make_rule

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("iot_admin", password="x")


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("iot_viewer", password="x")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_alarm", "view_device"]))
    return user


def post_json(client, code, payload, **headers):
    return client.post(
        reverse("iot:http_ingest", args=[code]),
        json.dumps(payload),
        content_type="application/json",
        **headers,
    )


@pytest.mark.req("R-10.3-iot", "R-5.1-fusion")
def test_http_ingestion_uses_device_credentials_not_sessions(client, admin):
    device, cred = make_device(credential=True)
    now = store.now_ms()
    r = post_json(
        client,
        device.code,
        {"metric": "pm25", "value": 20, "ts": now},
        HTTP_AUTHORIZATION=f"Device {cred.token}",
    )
    assert r.status_code == 200 and r.json() == {"stored": 1, "duplicates": 0, "rejected": []}
    r = post_json(client, device.code, {"token": cred.token, "metric": "pm25", "value": 20, "ts": now})
    assert r.status_code == 200 and r.json()["duplicates"] == 1
    # A signed-in session is no credential for a device.
    client.force_login(admin)
    r = post_json(client, device.code, {"metric": "pm25", "value": 21, "ts": now + 1})
    assert r.status_code == 401 and r.json()["rejected"][0]["reason"] == "bad_credential"
    other, other_cred = make_device(credential=True)
    from zhili.iot import views

    views.http_ingestor().registry.refresh(force=True)  # new credentials are picked up within seconds
    r = post_json(
        client, device.code, {"token": other_cred.token, "metric": "pm25", "value": 21, "ts": now + 1}
    )
    assert r.status_code == 403
    r = post_json(client, device.code, {"token": cred.token, "metric": "pm25", "value": -5, "ts": now + 2})
    assert r.status_code == 422 and r.json()["rejected"][0]["reason"] == "out_of_range"
    r = client.post(
        reverse("iot:http_ingest", args=[device.code]), b"\xff\xfe", content_type="application/json"
    )
    assert r.status_code == 400
    assert client.get(reverse("iot:http_ingest", args=[device.code])).status_code == 405
    assert store.count_readings([device.pk]) == 1


@pytest.mark.req("R-0-ioc", "R-5.3.2-monitor")
def test_alarm_feed_stream_and_board_show_new_alarms(client, viewer):
    make_rule("threshold", params={"op": ">", "value": 75})
    d = make_device(name="镇中心空气站")
    client.force_login(viewer)
    board = client.get(reverse("iot:alarm_board"))
    assert board.status_code == 200
    cursor = board.context["cursor"]
    store.write_readings([(d.pk, "pm25", store.now_ms(), 150.0)])
    feed = client.get(reverse("iot:alarm_feed"), {"since": cursor}).json()
    assert [a["device"] for a in feed["alarms"]] == [d.code]
    assert feed["alarms"][0]["status"] == "raised" and feed["alarms"][0]["lon"] is not None
    # The SSE stream delivers the same change, with its id for reconnection.
    stream = client.get(reverse("iot:alarm_stream"), {"since": cursor, "seconds": "0.1"})
    assert stream["Content-Type"].startswith("text/event-stream")
    text = b"".join(stream.streaming_content).decode()
    assert "event: alarm" in text and d.code in text and "retry: 1000" in text
    # Nothing new after the feed's cursor.
    assert client.get(reverse("iot:alarm_feed"), {"since": feed["cursor"]}).json()["alarms"] == []
    # The board shows open alarms at load time too (json_script, no inline code).
    board = client.get(reverse("iot:alarm_board")).content.decode()
    assert 'id="alarm-initial" type="application/json"' in board and d.code in board
    assert "<script>" not in board


def test_alarm_pages_need_permission(client, django_user_model):
    nobody = django_user_model.objects.create_user("iot_nobody", password="x")
    client.force_login(nobody)
    for name in (
        "iot:alarm_board",
        "iot:alarm_stream",
        "iot:alarm_feed",
        "iot:device_map",
        "iot:device_geojson",
    ):
        assert client.get(reverse(name)).status_code == 403, name


@pytest.mark.req("R-5.3.2-monitor")
def test_acknowledge_and_close_buttons(client, admin, viewer):
    make_rule("threshold", params={"op": ">", "value": 75})
    d = make_device()
    store.write_readings([(d.pk, "pm25", store.now_ms(), 150.0)])
    alarm = Alarm.objects.get()
    client.force_login(viewer)
    assert client.post(reverse("iot:alarm_acknowledge", args=[alarm.pk])).status_code == 403
    client.force_login(admin)
    detail = client.get(reverse("iot:alarm_detail", args=[alarm.pk])).content.decode()
    assert reverse("iot:alarm_acknowledge", args=[alarm.pk]) in detail
    r = client.post(reverse("iot:alarm_acknowledge", args=[alarm.pk]), {"next": "/iot/alarms/live/"})
    assert r.status_code == 302 and r["Location"] == "/iot/alarms/live/"
    client.post(reverse("iot:alarm_close", args=[alarm.pk]), {"note": "现场已处置"})
    alarm.refresh_from_db()
    assert (alarm.status, alarm.acknowledged_by, alarm.closed_by, alarm.close_note) == (
        "closed",
        admin,
        admin,
        "现场已处置",
    )
    # Closing twice is a clear message, not an error page.
    r = client.post(reverse("iot:alarm_close", args=[alarm.pk]), follow=True)
    assert r.status_code == 200


@pytest.mark.req("R-0-ioc")
def test_device_map_layer_and_detail_series(client, viewer):
    make_rule("threshold", params={"op": ">", "value": 75}, severity="critical")
    d = make_device()
    now = store.now_ms()
    store.write_readings(
        [(d.pk, "pm25", now - 60_000, 40.0), (d.pk, "pm25", now, 200.0), (d.pk, "no2", now, 30.0)]
    )
    client.force_login(viewer)
    layer = client.get(reverse("iot:device_geojson")).json()
    [feature] = [f for f in layer["features"] if f["properties"]["code"] == d.code]
    assert feature["properties"]["alarm"] == "critical" and feature["properties"]["values"]["pm25"] == 200.0
    series = client.get(reverse("iot:device_series", args=[d.pk]), {"metric": "pm25", "hours": "2"}).json()
    assert series["series"][0]["points"][-1][1] == 200.0 and len(series["series"][0]["points"]) == 2
    assert client.get(reverse("iot:device_series", args=[d.pk]), {"hours": "x"}).status_code == 400
    page = client.get(reverse("iot:device_detail", args=[d.pk]))
    assert page.status_code == 200 and "iot-series" in page.content.decode()
    assert client.get(reverse("iot:device_map")).status_code == 200


@pytest.mark.req("R-10.3-iot")
def test_credentials_are_shown_once_and_revocable(client, admin, viewer):
    d = make_device()
    client.force_login(viewer)
    assert client.post(reverse("iot:credential_issue", args=[d.pk])).status_code == 403
    client.force_login(admin)
    page = client.post(reverse("iot:credential_issue", args=[d.pk]))
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    issued = page.context["issued"]
    cred = DeviceCredential.objects.get(device=d)
    assert issued.token.split(".")[1] not in str(DeviceCredential.objects.filter(pk=cred.pk).values().get())
    assert post_json(client, d.code, {"token": issued.token, "metric": "pm25", "value": 1}).status_code == 200
    client.post(reverse("iot:credential_revoke", args=[cred.pk]))
    from zhili.iot import views

    views.http_ingestor().registry.refresh(force=True)
    r = post_json(client, d.code, {"token": issued.token, "metric": "pm25", "value": 2})
    assert r.status_code == 403 and r.json()["rejected"][0]["reason"] == "revoked"


@pytest.mark.req("R-5.3.2-monitor")
def test_rules_export_and_import_as_json_files(client, admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_rule("threshold", code="pm25-high", params={"op": ">", "value": 115})
    make_rule(
        "day_night",
        code="night-noise",
        metric="noise_laeq",
        device_type="noise_meter",
        params={"day_limit": 70, "night_limit": 55},
    )
    client.force_login(admin)
    exported = client.get(reverse("iot:rules_export"))
    data = json.loads(exported.content)
    assert exported["Content-Disposition"].endswith('.json"') and {r["code"] for r in data["rules"]} == {
        "pm25-high",
        "night-noise",
    }
    # Edit one, add one, import: updated and created.
    data["rules"][0]["params"]["night_limit"] = 50
    data["rules"].append({**data["rules"][1], "code": "pm25-very-high", "params": {"op": ">", "value": 150}})
    upload = SimpleUploadedFile("rules.json", json.dumps(data).encode(), "application/json")
    r = client.post(reverse("iot:rules_import"), {"file": upload})
    assert r.status_code == 302
    assert Rule.objects.get(code="night-noise").params["night_limit"] == 50
    assert Rule.objects.get(code="pm25-very-high").params["value"] == 150
    # A bad rule in the file imports nothing.
    data["rules"].append(
        {"code": "broken", "name": "x", "kind": "threshold", "metric": "no-such-metric", "params": {}}
    )
    data["rules"][0]["params"]["night_limit"] = 45
    upload = SimpleUploadedFile("rules.json", json.dumps(data).encode(), "application/json")
    r = client.post(reverse("iot:rules_import"), {"file": upload})
    assert r.status_code == 400 and "no-such-metric" in r.content.decode()
    assert Rule.objects.get(code="night-noise").params["night_limit"] == 50
    upload = SimpleUploadedFile("rules.json", b"not json", "application/json")
    assert client.post(reverse("iot:rules_import"), {"file": upload}).status_code == 400


@pytest.mark.req("R-5.3.2-monitor")
@pytest.mark.skipif(
    not __import__("django.apps").apps.apps.is_installed("zhili.cases"),
    reason="needs the cases app (zhili.cases) installed",
)
def test_alarm_opens_a_case_by_button_and_by_rule(client, admin):
    from zhili.cases.models import Case, CaseCategory

    # Earlier transactional tests flush the categories the cases migration seeds.
    for code, name in (("env.air", "大气污染"), ("pipe.leak", "管线泄漏")):
        CaseCategory.objects.get_or_create(code=code, defaults={"name": name})
    make_rule("threshold", params={"op": ">", "value": 75}, case_category="env.air")
    make_rule(
        "threshold",
        code="gas-auto",
        metric="gas_lel",
        device_type="gas_detector",
        params={"op": ">=", "value": 20},
        open_case=True,
        case_category="pipe.leak",
        severity="critical",
    )
    air = make_device()
    store.write_readings([(air.pk, "pm25", store.now_ms(), 150.0)])
    alarm = Alarm.objects.get(device=air)
    assert alarm.case_id is None
    client.force_login(admin)
    r = client.post(reverse("iot:alarm_open_case", args=[alarm.pk]), follow=True)
    assert [str(m) for m in r.context["messages"]] == ["已为该告警生成事件。"]
    alarm.refresh_from_db()
    case = Case.objects.get(pk=alarm.case_id)
    assert case.source_label == "iot.alarm" and case.source_id == str(alarm.pk)
    # A second click does not open a second case.
    client.post(reverse("iot:alarm_open_case", args=[alarm.pk]))
    assert Case.objects.filter(source_label="iot.alarm", source_id=str(alarm.pk)).count() == 1
    gas = make_device("gas_detector")
    store.write_readings([(gas.pk, "gas_lel", store.now_ms(), 35.0)])
    gas_alarm = Alarm.objects.get(device=gas)
    assert gas_alarm.case_id and Case.objects.get(pk=gas_alarm.case_id).urgent


@pytest.mark.req("R-5.3.2-monitor")
def test_alarm_actions_over_the_api_with_a_token(client, django_user_model):
    from django.utils import timezone

    from zhili.accounts.tokens import create_token

    make_rule("threshold", params={"op": ">", "value": 75})
    d = make_device()
    store.write_readings([(d.pk, "pm25", store.now_ms(), 150.0)])
    alarm = Alarm.objects.get()
    handler = django_user_model.objects.create_user("api_handler", password="x")
    handler.user_permissions.add(*Permission.objects.filter(codename__in=["view_alarm", "acknowledge_alarm"]))
    _, key = create_token(
        handler, "alarm handler", scopes=("write",), expires_at=timezone.now() + timezone.timedelta(days=1)
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    url = reverse("iot:api_alarm_acknowledge", args=[alarm.pk])
    assert client.post(url).status_code in (401, 403)
    r = client.post(url, **auth)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert client.post(url, **auth).status_code == 409
    r = client.post(
        reverse("iot:api_alarm_close", args=[alarm.pk]),
        {"note": "已处置"},
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert client.post(reverse("iot:api_alarm_open_case", args=[alarm.pk]), **auth).status_code == 403
    assert client.post(reverse("iot:api_alarm_close", args=[99999]), **auth).status_code == 404


@pytest.mark.req("R-10.3-iot")
def test_a_new_device_and_credential_work_from_their_first_message(client):
    """The ingest caches devices and keys; one created after the last reload is found at once."""
    from zhili.iot.credentials import issue_credential
    from zhili.iot.views import http_ingestor

    registry = http_ingestor().registry
    registry.refresh(force=True)  # the cache is fresh: its TTL alone would not reload it
    device = make_device()
    token = issue_credential(device).token
    response = post_json(client, device.code, {"token": token, "metric": "pm25", "value": 12})
    assert response.status_code == 200, response.content
    issued_again = issue_credential(device).token  # a second key for a device already cached
    response = post_json(client, device.code, {"token": issued_again, "metric": "pm25", "value": 13})
    assert response.status_code == 200, response.content
    bogus = post_json(
        client, device.code, {"token": "000000000000.not-a-secret", "metric": "pm25", "value": 1}
    )
    assert bogus.status_code in (401, 403)


def test_streams_take_only_their_share_of_threads_and_then_the_page_polls(client, viewer, monkeypatch):
    """A stream holds a server thread for up to 25 s: when every stream slot of the worker is
    taken, the answer is one ``busy`` event (the page then polls the feed), and a slot comes
    back when a stream ends or its response is closed before it started."""
    monkeypatch.setenv("ZHILI_STREAM_SLOTS", "1")
    client.force_login(viewer)
    url = reverse("iot:alarm_stream")
    first = client.get(url, {"seconds": "0.1"})  # holds the only slot until consumed or closed
    busy = client.get(url, {"seconds": "0.1"})
    assert busy.status_code == 200 and busy["Content-Type"].startswith("text/event-stream")
    assert "event: busy" in busy.content.decode() and not busy.streaming
    assert "retry: 1000" in b"".join(first.streaming_content).decode()  # ends, slot back
    second = client.get(url, {"seconds": "0.1"})
    assert second.streaming
    second.close()  # a client that left before the first event: the slot still comes back
    third = client.get(url, {"seconds": "0.1"})
    assert third.streaming and "retry: 1000" in b"".join(third.streaming_content).decode()
    assert client.get(url, {"seconds": "soon"}).status_code == 400


def test_streams_are_not_limited_outside_the_server_unless_configured(monkeypatch):
    from zhili import server

    monkeypatch.delenv("ZHILI_STREAM_SLOTS", raising=False)
    monkeypatch.setattr(server, "THREADS_PER_WORKER", None)
    assert server.long_request_slots() is None
    monkeypatch.setattr(server, "THREADS_PER_WORKER", 4)
    assert server.long_request_slots() == 2
    monkeypatch.setattr(server, "THREADS_PER_WORKER", 1)
    assert server.long_request_slots() == 1
    monkeypatch.setenv("ZHILI_STREAM_SLOTS", "0")  # streams off: every page polls
    assert server.long_request_slots() == 0
