"""``zhili simulate``: realistic telemetry for the demo town's devices (labelled demo data).

Live: publish every ``--interval`` seconds over MQTT (default) or HTTP, payloads signed with each
device's HMAC key (the simulator runs with the server's settings, so it can read the keys; a
device without a credential gets one). Fast-forward: ``--fast-forward 365`` writes a year of
history straight into the store.
"""

import json
import time
import urllib.request
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhili.iot import simulation, store
from zhili.iot.credentials import decrypt_key, issue_credential, sign_payload


class Command(BaseCommand):
    help = "Simulate device telemetry (MQTT, HTTP, or --fast-forward DAYS of history)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--devices", default="", help="comma-separated device codes (default: all enabled)"
        )
        parser.add_argument(
            "--fast-forward",
            type=float,
            default=None,
            metavar="DAYS",
            help="write DAYS of history up to now directly to the store",
        )
        parser.add_argument(
            "--interval",
            type=int,
            default=None,
            help="seconds between readings (live: 10; fast-forward: 300)",
        )
        parser.add_argument(
            "--http",
            default=None,
            metavar="BASE_URL",
            help="publish over HTTP to BASE_URL (e.g. http://127.0.0.1:8000) instead of MQTT",
        )
        parser.add_argument("--host", default=store.iot_setting("IOT_MQTT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(store.iot_setting("IOT_MQTT_PORT", 1883)))
        parser.add_argument("--topic-prefix", default=store.iot_setting("IOT_TOPIC_PREFIX", "zhili"))
        parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        parser.add_argument("--fault-rate", type=float, default=0.01, help="share of out-of-range readings")

    def devices(self, opts):
        from zhili.iot.models import Device

        qs = Device.objects.filter(enabled=True)
        if opts["devices"]:
            qs = qs.filter(code__in=[c.strip() for c in opts["devices"].split(",") if c.strip()])
        devices = list(qs.order_by("code"))
        if not devices:
            raise CommandError("No devices to simulate (build the demo town first: zhili demo).")
        return devices

    def handle(self, *args, **opts):
        devices = self.devices(opts)
        routes = vehicle_routes(devices)
        if opts["fast_forward"] is not None:
            end = timezone.now()
            start = end - timedelta(days=opts["fast_forward"])
            began = time.monotonic()
            n = simulation.fast_forward(devices, start, end, opts["interval"] or 300, routes)
            self.stdout.write(
                f"Wrote {n} readings for {len(devices)} devices in {time.monotonic() - began:.1f} s."
            )
            return
        keys = signing_keys(devices)
        send = self.http_sender(opts) if opts["http"] else self.mqtt_sender(opts)
        interval = opts["interval"] or 10
        started = time.monotonic()
        sent = 0
        try:
            while opts["duration"] is None or time.monotonic() - started < opts["duration"]:
                tick = time.monotonic()
                now_ms = store.now_ms()
                for device in devices:
                    payload = live_payload(device, now_ms, routes.get(device.pk), opts["fault_rate"])
                    if payload is None:
                        continue
                    kid, key = keys[device.pk]
                    send(device, sign_payload({**payload, "kid": kid}, key))
                    sent += 1
                self.stdout.write(
                    f"{timezone.localtime():%H:%M:%S} sent {len(devices)} devices, {sent} messages"
                )
                time.sleep(max(0.0, interval - (time.monotonic() - tick)))
        except KeyboardInterrupt:
            pass
        finally:
            if hasattr(send, "close"):
                send.close()

    def mqtt_sender(self, opts):
        import paho.mqtt.client as mqtt

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"zhili-simulator-{time.time_ns()}",
            protocol=mqtt.MQTTv5,
        )
        client.connect(opts["host"], opts["port"])
        client.loop_start()
        prefix = opts["topic_prefix"]

        def send(device, payload):
            client.publish(
                f"{prefix}/{device.code}/telemetry", json.dumps(payload, ensure_ascii=False), qos=1
            )

        def close():
            client.loop_stop()
            client.disconnect()

        send.close = close
        return send

    def http_sender(self, opts):
        base = opts["http"].rstrip("/")

        def send(device, payload):
            request = urllib.request.Request(
                f"{base}/iot/ingest/{device.code}/",
                data=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except urllib.error.HTTPError as exc:  # rejected readings answer 4xx: expected for faults
                exc.read()

        return send


def live_payload(device, now_ms, route, fault_rate):
    fault = simulation.fault(device, now_ms, rate=fault_rate / 3)
    if fault == "silent":
        return None
    values = simulation.values_at(device, now_ms, route=route)
    if not values:
        return None
    if fault == "out_of_range":
        code = sorted(values)[0]
        values[code] = 99999.0
    return {"ts": now_ms, "values": values}


def signing_keys(devices) -> dict:
    """The newest valid HMAC key per device (issuing a credential where there is none)."""
    keys = {}
    for device in devices:
        cred = next((c for c in device.credentials.order_by("-created_at") if c.is_valid_now()), None)
        if cred is None:
            issued = issue_credential(device)
            keys[device.pk] = (issued.credential.key_id, issued.hmac_key)
        else:
            keys[device.pk] = (cred.key_id, decrypt_key(cred.hmac_key))
    return keys


def vehicle_routes(devices) -> dict:
    """A road for each GPS device to shuttle along (the longest roads of the town)."""
    from zhili.places.models import Road

    trucks = [d for d in devices if d.device_type == "vehicle_gps"]
    if not trucks:
        return {}
    roads = [
        r.geometry
        for r in Road.objects.exclude(geometry=None).order_by("-length_m")[:10]
        if r.geometry is not None
    ]
    roads = [g for g in roads if g.geom_type == "LineString"]
    if not roads:
        return {}
    return {d.pk: roads[i % len(roads)] for i, d in enumerate(trucks)}
