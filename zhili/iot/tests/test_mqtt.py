"""MQTT end to end against the machine's Mosquitto (127.0.0.1:1883): publish → stored → alarm →
visible; identity and ACL violations; killing ``zhili ingest`` mid-stream loses and doubles
nothing (R-5.1-fusion, R-10.3-iot, R-5.3.2-monitor, R-0-ioc)."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from zhili.core import audit
from zhili.iot import store
from zhili.iot.models import Alarm, DeadLetter
from zhili.iot.tests.factories import make_device, make_rule

BROKER = ("127.0.0.1", 1883)
ROOT = Path(__file__).resolve().parents[3]


def broker_up() -> bool:
    try:
        socket.create_connection(BROKER, timeout=1).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not broker_up(), reason="needs the Mosquitto broker on 127.0.0.1:1883")


def publisher():
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(200)
    client.connect(*BROKER)
    client.loop_start()
    return client


def wait_for(predicate, timeout=15.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def ingest_thread():
    """An in-process ``MqttIngest`` on a topic prefix unique to this run."""
    from django.db import connections

    from zhili.iot.mqtt import MqttIngest

    run = uuid.uuid4().hex[:10]
    ingest = MqttIngest(
        client_id=f"test-ingest-{run}", group=f"g{run}", topic_prefix=f"t{run}", session_expiry=5, linger=0.02
    )

    def target():
        try:
            ingest.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert ingest.connected.wait(10), "could not connect to the broker"
    time.sleep(0.2)  # the SUBACK
    yield ingest, f"t{run}"
    ingest.stop_event.set()
    thread.join(15)


@pytest.mark.django_db(transaction=True)
@pytest.mark.req("R-5.1-fusion", "R-5.3.2-monitor", "R-0-ioc")
def test_publish_stored_alarm_raised_and_visible(ingest_thread, client, django_user_model):
    ingest, prefix = ingest_thread
    make_rule("threshold", params={"op": ">", "value": 75})
    device, cred = make_device(credential=True)
    ingest.ingestor.registry.refresh(force=True)
    pub = publisher()
    now = store.now_ms()
    topic = f"{prefix}/{device.code}/telemetry"
    pub.publish(
        topic, json.dumps({"token": cred.token, "metric": "pm25", "value": 40, "ts": now - 1000}), qos=1
    )
    batch = {
        "token": cred.token,
        "readings": [
            {"metric": m, "value": v, "ts": now} for m, v in [("pm25", 160), ("pm10", 230), ("no2", 41)]
        ],
    }
    pub.publish(topic, json.dumps(batch), qos=1).wait_for_publish(5)
    pub.loop_stop()
    pub.disconnect()
    assert wait_for(lambda: Alarm.objects.filter(device=device).exists())
    assert store.count_readings([device.pk]) == 4
    alarm = Alarm.objects.get(device=device)
    assert alarm.value == 160 and alarm.status == "raised"
    client.force_login(django_user_model.objects.create_superuser("mqtt_admin", password="x"))
    feed = client.get(reverse("iot:alarm_feed")).json()
    assert [a["id"] for a in feed["alarms"]] == [alarm.pk]
    layer = client.get(reverse("iot:device_geojson")).json()
    assert [
        f["properties"]["alarm"] for f in layer["features"] if f["properties"]["code"] == device.code
    ] == ["major"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.req("R-10.3-iot")
def test_rejected_credentials_and_acl_violations_over_mqtt(ingest_thread):
    ingest, prefix = ingest_thread
    a, cred_a = make_device(credential=True)
    b, cred_b = make_device(credential=True)
    ingest.ingestor.registry.refresh(force=True)
    events = []
    audit.add_sink(events.append)
    try:
        pub = publisher()
        now = store.now_ms()
        reading = {"metric": "pm25", "value": 30, "ts": now}
        pub.publish(
            f"{prefix}/{a.code}/telemetry", json.dumps({**reading, "token": cred_b.token}), qos=1
        )  # b → a's topic
        pub.publish(
            f"{prefix}/{a.code}/telemetry", json.dumps({**reading, "token": "feedbeef0000.nope"}), qos=1
        )
        pub.publish(f"{prefix}/NOT-A-DEVICE/telemetry", json.dumps({**reading, "token": cred_a.token}), qos=1)
        pub.publish(
            f"{prefix}/{b.code}/telemetry", json.dumps({**reading, "token": cred_b.token}), qos=1
        ).wait_for_publish(5)
        pub.loop_stop()
        pub.disconnect()
        assert wait_for(lambda: DeadLetter.objects.count() == 3 and store.count_readings() == 1)
    finally:
        audit._sinks.remove(events.append)
    assert store.count_readings([a.pk]) == 0 and store.count_readings([b.pk]) == 1
    assert set(DeadLetter.objects.values_list("device_code", "reason")) == {
        (a.code, "topic_mismatch"),
        (a.code, "bad_credential"),
        ("NOT-A-DEVICE", "unknown_device"),
    }
    audited = {
        (e["details"]["device"], e["details"]["reason"]) for e in events if e["type"] == "iot.device.rejected"
    }
    assert audited == {
        (a.code, "topic_mismatch"),
        (a.code, "bad_credential"),
        ("NOT-A-DEVICE", "unknown_device"),
    }


# -- crash safety: a real `zhili ingest` process, killed with SIGKILL mid-stream -----------------
SETUP = """
import json
from zhili.iot.tests.factories import make_device
device, issued = make_device(credential=True, rate_limit=1000000)
print(json.dumps({"id": device.pk, "code": device.code, "token": issued.token}))
"""


def run_zhili(args, env, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "zhili.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        **kwargs,
    )


def start_ingest(env, prefix, run, log):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zhili.cli",
            "ingest",
            "--topic-prefix",
            prefix,
            "--client-id",
            f"kill-{run}",
            "--group",
            f"k{run}",
            "--session-expiry",
            "120",
            "--linger",
            "0.02",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    assert wait_for(lambda: "subscribed to" in Path(log.name).read_text(), timeout=30), Path(
        log.name
    ).read_text()
    return proc


@pytest.mark.req("R-5.1-fusion")
def test_killing_ingest_mid_stream_loses_and_doubles_nothing(tmp_path):
    run = uuid.uuid4().hex[:10]
    prefix = f"kill{run}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # a file database both processes share
    env.update(ZHILI_DATA=str(tmp_path), PYTHONPATH=str(ROOT), ZHILI_LOG_LEVEL="INFO")
    run_zhili(["migrate"], env)
    info = json.loads(run_zhili(["shell", "-c", SETUP], env).stdout.strip().splitlines()[-1])
    db = tmp_path / "zhili.sqlite3"

    def stored():
        with sqlite3.connect(db, timeout=10) as conn:
            return conn.execute(
                "SELECT count(*) FROM iot_reading WHERE device_id = ?", [info["id"]]
            ).fetchone()[0]

    total, rate = 2400, 300.0  # messages, per second: the broker queues at most 1000 while nobody listens
    log1 = open(tmp_path / "ingest1.log", "w")  # noqa: SIM115 (closed in finally)
    first = start_ingest(env, prefix, run, log1)
    pub = publisher()
    base = store.now_ms() - 3_600_000
    topic = f"{prefix}/{info['code']}/telemetry"
    published = []

    def publish_all():
        start = time.monotonic()
        for i in range(total):
            payload = {
                "token": info["token"],
                "metric": "pm25",
                "value": float(i % 500),
                "ts": base + i * 1000,
            }
            published.append(pub.publish(topic, json.dumps(payload), qos=1))
            time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))

    sender = threading.Thread(target=publish_all)
    sender.start()
    assert wait_for(lambda: stored() >= 600, timeout=30)
    os.kill(first.pid, signal.SIGKILL)  # no clean shutdown: batches in flight are never acknowledged
    first.wait(10)
    at_kill = stored()
    log2 = open(tmp_path / "ingest2.log", "w")  # noqa: SIM115 (closed in finally)
    second = start_ingest(env, prefix, run, log2)
    try:
        sender.join(60)
        for info_ in published:
            info_.wait_for_publish(30)
        assert 0 < at_kill < total, "the kill must happen mid-stream"
        assert wait_for(lambda: stored() == total, timeout=60), f"stored {stored()} of {total}"
        time.sleep(1.0)  # anything redelivered late must not add rows either
        with sqlite3.connect(db, timeout=10) as conn:
            count, distinct = conn.execute("SELECT count(*), count(DISTINCT ts) FROM iot_reading").fetchone()
            rollup = conn.execute("SELECT sum(count) FROM iot_rollup WHERE period = 3600").fetchone()[0]
            values = conn.execute("SELECT sum(value) FROM iot_reading").fetchone()[0]
        assert (count, distinct, rollup) == (total, total, total)
        assert values == sum(float(i % 500) for i in range(total))
    finally:
        pub.loop_stop()
        pub.disconnect()
        second.send_signal(signal.SIGTERM)
        second.wait(30)
        log1.close()
        log2.close()
