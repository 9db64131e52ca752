"""The ingestion pipeline: identity, validation, dead letters, rate limits (R-10.3-iot, R-5.1-fusion)."""

import json

import pytest

from zhili.core import audit
from zhili.iot import store
from zhili.iot.credentials import revoke_credential, rotate_credentials, sign_payload
from zhili.iot.ingest import Ingestor
from zhili.iot.models import DeadLetter, Device
from zhili.iot.tests.factories import make_device

pytestmark = [pytest.mark.django_db(transaction=True)]


def msg(device, payload, prefix="zhili"):
    return (f"{prefix}/{device.code}/telemetry", json.dumps(payload).encode())


@pytest.fixture
def events():
    captured = []
    audit.add_sink(captured.append)
    yield captured
    audit._sinks.remove(captured.append)


@pytest.mark.req("R-5.1-fusion")
def test_single_values_and_readings_shapes_are_stored_once():
    device, cred = make_device(credential=True)
    now = store.now_ms()
    ingestor = Ingestor()
    batch = [
        msg(device, {"token": cred.token, "metric": "pm25", "value": 35.5, "ts": now}),
        msg(device, {"token": cred.token, "ts": now / 1000, "values": {"pm10": 61, "no2": 30}}),
        msg(
            device,
            {
                "token": cred.token,
                "readings": [{"metric": "o3", "value": 80, "ts": now - 60_000}],
                "battery": 77,
            },
        ),
    ]
    result = ingestor.process(batch)
    assert (result.stored, result.duplicates, dict(result.rejected)) == (4, 0, {})
    again = ingestor.process(batch)  # redelivery after a crash: idempotent
    assert (again.stored, again.duplicates) == (0, 4)
    assert store.count_readings([device.pk]) == 4
    device.refresh_from_db()
    assert device.status == "online" and device.last_seen_at is not None and device.battery == 77
    assert cred.credential.__class__.objects.get(pk=cred.credential.pk).last_used_at is not None


@pytest.mark.req("R-10.3-iot")
def test_identity_failures_are_rejected_counted_and_audited(events):
    a, cred_a = make_device(credential=True)
    b, cred_b = make_device(credential=True)
    ingestor = Ingestor()
    now = store.now_ms()
    reading = {"metric": "pm25", "value": 10, "ts": now}
    result = ingestor.process(
        [
            msg(a, {**reading}),  # no credential
            msg(a, {**reading, "token": cred_a.token[:-2] + "xx"}),  # wrong secret
            msg(a, {**reading, "token": cred_b.token}),  # b's token on a's topic (ACL violation)
            msg(a, {**reading, "device": b.code, "token": cred_a.token}),  # payload names another device
            ("zhili/GHOST-1/telemetry", json.dumps({**reading, "token": cred_a.token}).encode()),
            ("zhili/a/b/c", b"{}"),  # not a telemetry topic
        ]
    )
    assert result.stored == 0
    assert dict(result.rejected) == {"bad_credential": 2, "topic_mismatch": 3, "unknown_device": 1}
    assert store.count_readings() == 0
    letters = {(d.device_code, d.reason): d.repeat_count for d in DeadLetter.objects.all()}
    assert letters[(a.code, "bad_credential")] == 2
    assert letters[(a.code, "topic_mismatch")] == 2
    assert letters[("GHOST-1", "unknown_device")] == 1
    rejected = [e for e in events if e["type"] == "iot.device.rejected"]
    assert {(e["details"]["device"], e["details"]["reason"], e["details"]["count"]) for e in rejected} >= {
        (a.code, "bad_credential", 2),
        (a.code, "topic_mismatch", 2),
        ("GHOST-1", "unknown_device", 1),
    }
    assert all(e["success"] is False for e in rejected)


@pytest.mark.req("R-10.3-iot")
def test_revocation_rotation_and_disabled_devices():
    device, old = make_device(credential=True)
    ingestor = Ingestor()
    now = store.now_ms()
    new = rotate_credentials(device, grace_hours=1)
    # During the grace period both credentials work.
    r = ingestor.process(
        [
            msg(device, {"token": old.token, "metric": "pm25", "value": 1, "ts": now}),
            msg(device, {"token": new.token, "metric": "pm25", "value": 2, "ts": now + 1}),
        ]
    )
    assert r.stored == 2
    revoke_credential(old.credential)
    ingestor.registry.refresh(force=True)
    r = ingestor.process([msg(device, {"token": old.token, "metric": "pm25", "value": 3, "ts": now + 2})])
    assert dict(r.rejected) == {"revoked": 1}
    rotate_credentials(device, grace_hours=0)  # the "new" one expires at once
    ingestor.registry.refresh(force=True)
    r = ingestor.process([msg(device, {"token": new.token, "metric": "pm25", "value": 4, "ts": now + 3})])
    assert dict(r.rejected) == {"revoked": 1}
    Device.objects.filter(pk=device.pk).update(enabled=False)
    ingestor.registry.refresh(force=True)
    r = ingestor.process([msg(device, {"token": new.token, "metric": "pm25", "value": 5, "ts": now + 4})])
    assert dict(r.rejected) == {"revoked": 1}


@pytest.mark.req("R-10.3-iot")
def test_hmac_signed_payloads():
    device, cred = make_device(credential=True, require_signature=True)
    ingestor = Ingestor()
    now = store.now_ms()
    body = {"kid": cred.credential.key_id, "metric": "pm25", "value": 12, "ts": now}
    good = sign_payload(body, cred.hmac_key)
    tampered = {**good, "value": 13}
    unsigned_with_token = {"token": cred.token, "metric": "pm25", "value": 14, "ts": now + 1}
    r = ingestor.process([msg(device, good), msg(device, tampered), msg(device, unsigned_with_token)])
    assert r.stored == 1
    assert dict(r.rejected) == {"bad_signature": 2}
    assert store.latest([device.pk], ["pm25"])[(device.pk, "pm25")].value == 12


@pytest.mark.req("R-5.1-fusion", "R-10.3-iot")
def test_bad_data_goes_to_dead_letters_with_reason():
    device, cred = make_device(credential=True)
    ingestor = Ingestor()
    now = store.now_ms()
    tok = cred.token
    r = ingestor.process(
        [
            (f"zhili/{device.code}/telemetry", b"{not json"),
            msg(device, ["a list"]),
            msg(
                device,
                {"token": tok, "values": {"pm25": 20, "wind_knots": 3, "gas_lel": 5, "o3": 5000}, "ts": now},
            ),
            msg(device, {"token": tok, "metric": "pm10", "value": 30, "ts": now + 3_600_000}),
            msg(device, {"token": tok, "metric": "pm10", "value": 30, "ts": "2020-01-01T00:00:00+08:00"}),
            msg(device, {"token": tok, "metric": "pm10", "value": "high", "ts": now}),
        ]
    )
    assert r.stored == 1  # only pm25=20 is a valid reading
    assert dict(r.rejected) == {
        "malformed": 3,
        "unknown_metric": 1,
        "undeclared_metric": 1,
        "out_of_range": 1,
        "bad_timestamp": 2,
    }
    reasons = set(DeadLetter.objects.filter(device_code=device.code).values_list("reason", flat=True))
    assert reasons == {"malformed", "unknown_metric", "undeclared_metric", "out_of_range", "bad_timestamp"}
    letter = DeadLetter.objects.get(reason="out_of_range")
    assert "o3=5000" in letter.detail and letter.device_id == device.pk and '"o3": 5000' in letter.payload


@pytest.mark.req("R-5.1-fusion")
def test_a_flooding_device_is_limited_without_starving_others():
    flood, cred_f = make_device(credential=True, rate_limit=60)  # 1/s, burst 10
    quiet, cred_q = make_device(credential=True)
    ingestor = Ingestor()
    now = store.now_ms()
    batch = [
        msg(flood, {"token": cred_f.token, "metric": "pm25", "value": 1, "ts": now + i}) for i in range(200)
    ]
    batch += [
        msg(quiet, {"token": cred_q.token, "metric": "pm25", "value": 2, "ts": now + i}) for i in range(20)
    ]
    r = ingestor.process(batch)
    assert store.count_readings([quiet.pk]) == 20
    assert store.count_readings([flood.pk]) == 10
    assert r.rejected["rate_limited"] == 190
    letter = DeadLetter.objects.get(device_code=flood.code, reason="rate_limited")
    assert letter.repeat_count == 190  # one row, counted, not 190 rows
