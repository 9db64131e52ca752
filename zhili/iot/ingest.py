"""The ingestion pipeline shared by MQTT (``zhili ingest``) and HTTP (R-5.1-fusion, R-10.3-iot).

``Ingestor.process(messages)`` takes a batch of raw messages ``(topic_or_code, payload bytes)``
and, in one transaction: authenticates each message's device (token or HMAC signature, the
device's own topic only), rate-limits per device, validates every reading (known and declared
metric, valid range, timestamp window), stores the valid readings idempotently, writes the rest
to the dead-letter store with their reason, and updates the devices' last-seen state. Identity
failures are audited. Callers acknowledge the messages only after ``process`` returned.

Payloads (JSON, UTF-8)::

    {"token": "<key_id>.<secret>", "metric": "pm25", "value": 35.2, "ts": 1767225600000}
    {"token": "…", "ts": 1767225600000, "values": {"pm25": 35.2, "pm10": 61}}
    {"token": "…", "readings": [{"metric": "pm25", "value": 35.2, "ts": …}, …],
     "battery": 87, "signal": -71}
    {"kid": "<key_id>", "metric": …, "sig": "<hex HMAC-SHA256 of the canonical JSON>"}

``ts`` is Unix milliseconds, Unix seconds (a number below 10^11) or an ISO 8601 string with an
offset; missing means the time of receipt.
"""

import json
import logging
import math
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from zhili.core.audit import emit
from zhili.core.context import request_context
from zhili.iot import store
from zhili.iot.choices import IDENTITY_REASONS, DeviceStatus
from zhili.iot.credentials import decrypt_key, hash_secret, verify_signature

logger = logging.getLogger("zhili.iot.ingest")
MAX_PAYLOAD_BYTES = 256 * 1024


@dataclass
class DeviceInfo:
    id: int
    code: str
    enabled: bool
    metrics: frozenset
    rate_per_min: int
    require_signature: bool


@dataclass
class CredInfo:
    device_id: int
    secret_hash: str
    hmac_key: str | None
    valid_until_ms: float
    revoked: bool


@dataclass
class BatchResult:
    messages: int = 0
    readings: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)  # (code, reason, detail) for HTTP answers


class TokenBucket:
    """Per-device token buckets: a flooding device is cut off, the others go on."""

    def __init__(self):
        self._state: dict[int, tuple[float, float]] = {}

    def allow(self, device_id: int, rate_per_min: int, now: float) -> bool:
        capacity = max(rate_per_min / 6.0, 5.0)  # 10 s of burst
        tokens, last = self._state.get(device_id, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate_per_min / 60.0)
        if tokens < 1.0:
            self._state[device_id] = (tokens, now)
            return False
        self._state[device_id] = (tokens - 1.0, now)
        return True


class Registry:
    """Devices and credentials cached in the ingest process, reloaded every few seconds so a
    new device, a revocation or a rotation takes effect without a restart."""

    def __init__(self, ttl: float = 5.0):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded = -1e9
        self.devices: dict[str, DeviceInfo] = {}
        self.creds: dict[str, CredInfo] = {}

    def refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._loaded < self.ttl:
            return
        from zhili.iot.models import Device, DeviceCredential, Metric

        default_rate = int(store.iot_setting("IOT_RATE_LIMIT_PER_MIN", 600))
        type_metrics = defaultdict(set)
        for code, types in Metric.objects.values_list("code", "device_types"):
            for t in types.split(","):
                if t.strip():
                    type_metrics[t.strip()].add(code)
        own = defaultdict(set)
        for device_id, code in Device.metrics.through.objects.values_list("device_id", "metric__code"):
            own[device_id].add(code)
        devices = {}
        for d in Device.objects.values_list(
            "id", "code", "enabled", "device_type", "rate_limit", "require_signature"
        ):
            devices[d[1]] = DeviceInfo(
                d[0],
                d[1],
                d[2],
                frozenset(own.get(d[0]) or type_metrics.get(d[3], ())),
                d[4] or default_rate,
                d[5],
            )
        creds = {}
        for c in DeviceCredential.objects.values_list(
            "key_id", "device_id", "secret_hash", "hmac_key", "active", "revoked_at", "expires_at"
        ):
            creds[c[0]] = CredInfo(
                c[1],
                c[2],
                decrypt_key(c[3]),
                c[6].timestamp() * 1000 if c[6] else math.inf,
                (not c[4]) or c[5] is not None,
            )
        with self._lock:
            self.devices, self.creds, self._loaded = devices, creds, time.monotonic()

    def reload_if_new(self, *, device_code: str | None = None, key_id: str | None = None) -> None:
        """On a cache miss, reload at once if the database has the device or key by now.

        A device registered or a credential issued since the last reload works from its first
        message. A miss costs one indexed query; the message it belongs to is either accepted
        after the reload or written as a dead letter anyway.
        """
        from zhili.iot.models import Device, DeviceCredential

        if device_code is not None:
            known = Device.objects.filter(code=device_code).exists()
        else:
            known = DeviceCredential.objects.filter(key_id=key_id).exists()
        if known:
            self.refresh(force=True)


class Rejection(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def parse_ts(value, received_ms: int) -> int:
    if value is None:
        return received_ms
    if isinstance(value, bool):
        raise Rejection("malformed", "ts")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise Rejection("malformed", "ts")
        return int(value * 1000) if abs(value) < 1e11 else int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Rejection("malformed", f"ts {value[:40]!r}")
        if parsed.tzinfo is None:
            raise Rejection("malformed", "ts without offset")
        return int(parsed.timestamp() * 1000)
    raise Rejection("malformed", "ts")


class Ingestor:
    """Authenticate, validate, store; one instance per ingest process (or HTTP worker)."""

    def __init__(
        self, *, channel: str = "mqtt", topic_prefix: str | None = None, require_auth: bool | None = None
    ):
        self.channel = channel
        self.topic_prefix = (
            topic_prefix if topic_prefix is not None else store.iot_setting("IOT_TOPIC_PREFIX", "zhili")
        )
        self.require_auth = (
            require_auth if require_auth is not None else store.iot_setting("IOT_REQUIRE_DEVICE_AUTH", True)
        )
        self.registry = Registry()
        self.buckets = TokenBucket()
        self.totals = Counter()
        self._lock = threading.Lock()
        self._used: set[str] = set()  # credential key ids used since the last flush
        self._used_flushed = 0.0

    # -- parsing -------------------------------------------------------------------------------
    def code_from_topic(self, topic: str) -> str | None:
        parts = topic.split("/")
        if len(parts) < 3 or parts[-1] != "telemetry" or "/".join(parts[:-2]) != self.topic_prefix:
            return None
        return parts[-2]

    def authenticate(self, device: DeviceInfo, payload: dict, now_ms: int) -> None:
        """Raise Rejection unless the payload proves it comes from ``device``."""
        token, kid = payload.get("token"), payload.get("kid")
        if not device.enabled:
            raise Rejection("revoked", "device disabled")
        signed = "sig" in payload
        if not self.require_auth and not signed and token is None:
            return
        if token is not None:
            if not isinstance(token, str) or "." not in token:
                raise Rejection("bad_credential", "token format")
            kid, secret = token.split(".", 1)
        cred = self.registry.creds.get(kid) if isinstance(kid, str) else None
        if cred is None and isinstance(kid, str) and kid:
            self.registry.reload_if_new(key_id=kid[:64])
            cred = self.registry.creds.get(kid)
        if cred is None:
            raise Rejection("bad_credential", "unknown key" if kid else "no credential")
        if cred.device_id != device.id:
            raise Rejection("topic_mismatch", f"credential {kid} belongs to another device")
        if cred.revoked or cred.valid_until_ms <= now_ms:
            raise Rejection("revoked", f"credential {kid} revoked or expired")
        if token is not None and hash_secret(secret) != cred.secret_hash:
            raise Rejection("bad_credential", "wrong secret")
        self._used.add(kid)
        if (signed or device.require_signature) and (
            not cred.hmac_key or not verify_signature(payload, cred.hmac_key)
        ):
            raise Rejection("bad_signature", "signature missing or wrong")

    def parse(self, code: str | None, raw: bytes, received_ms: int):
        """Return (device, rows, rejected_rows, status) for one message or raise Rejection."""
        if code is None:
            raise Rejection("topic_mismatch", "not a telemetry topic")
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise Rejection("malformed", "payload too large")
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Rejection("malformed", f"not JSON: {exc}"[:200])
        if not isinstance(payload, dict):
            raise Rejection("malformed", "payload must be a JSON object")
        device = self.registry.devices.get(code)
        if device is None:
            self.registry.reload_if_new(device_code=code[:64])
            device = self.registry.devices.get(code)
        if device is None:
            raise Rejection("unknown_device", code[:64])
        if payload.get("device") not in (None, code):
            raise Rejection("topic_mismatch", f"payload device {str(payload.get('device'))[:64]!r} ≠ {code}")
        self.authenticate(device, payload, received_ms)
        base_ts = payload.get("ts")
        items = []
        if "readings" in payload:
            if not isinstance(payload["readings"], list):
                raise Rejection("malformed", "readings must be a list")
            for r in payload["readings"]:
                if not isinstance(r, dict):
                    raise Rejection("malformed", "each reading must be an object")
                items.append((r.get("metric"), r.get("value"), r.get("ts", base_ts)))
        elif "values" in payload:
            if not isinstance(payload["values"], dict):
                raise Rejection("malformed", "values must be an object")
            items = [(k, v, base_ts) for k, v in payload["values"].items()]
        elif "metric" in payload:
            items = [(payload.get("metric"), payload.get("value"), base_ts)]
        if not items:
            raise Rejection("malformed", "no readings")
        by_code = store.metrics.by_code()
        future = received_ms + int(store.iot_setting("IOT_MAX_FUTURE_S", 300)) * 1000
        past = received_ms - int(store.iot_setting("IOT_MAX_AGE_DAYS", 30)) * store.DAY_MS
        declared, device_id = device.metrics, device.id
        rows, bad = [], []
        for metric, value, ts in items:  # the hot loop: plain checks, exceptions only for bad rows
            try:
                if type(metric) is not str:
                    raise Rejection("malformed", "metric")
                meta = by_code.get(metric)
                if meta is None:
                    raise Rejection("unknown_metric", metric[:32])
                if metric not in declared:
                    raise Rejection("undeclared_metric", metric[:32])
                ts_ms = ts if type(ts) is int and ts > 100_000_000_000 else parse_ts(ts, received_ms)
                if ts_ms > future or ts_ms < past:
                    raise Rejection("bad_timestamp", f"{metric} ts {ts_ms}")
                kind = type(value)
                if kind is not float and kind is not int:
                    raise Rejection("malformed", f"{metric}={str(value)[:30]}")
                value = float(value)
                if not math.isfinite(value):
                    raise Rejection("malformed", f"{metric}={value}")
                if (meta[1] is not None and value < meta[1]) or (meta[2] is not None and value > meta[2]):
                    raise Rejection("out_of_range", f"{metric}={value:g}")
                rows.append((device_id, metric, ts_ms, value))
            except Rejection as rej:
                bad.append(rej)
        status = {}
        for key in ("battery", "signal"):
            v = payload.get(key)
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                status[key] = v
        return device, rows, bad, status

    # -- the batch -----------------------------------------------------------------------------
    def process(self, messages) -> BatchResult:
        """Process ``[(topic_or_code, payload_bytes), …]``; see the module docstring."""
        self.registry.refresh()
        result = BatchResult(messages=len(messages))
        received_ms = store.now_ms()
        now_s = time.monotonic()
        rows, letters, seen = [], [], {}
        for topic, raw in messages:
            code = self.code_from_topic(topic) if self.channel == "mqtt" else topic
            try:
                device, good, bad, status = self.parse(code, raw, received_ms)
            except Rejection as rej:
                dev = self.registry.devices.get(code or "")
                letters.append((dev.id if dev else None, code or "", topic, rej.reason, rej.detail, raw))
                result.rejected[rej.reason] += 1
                result.errors.append((code, rej.reason, rej.detail))
                continue
            if not self.buckets.allow(device.id, device.rate_per_min, now_s):
                letters.append((device.id, code, topic, "rate_limited", "", b""))
                result.rejected["rate_limited"] += 1
                result.errors.append((code, "rate_limited", ""))
                continue
            seen[device.id] = {**seen.get(device.id, {}), **status}
            rows += good
            result.readings += len(good) + len(bad)
            for rej in bad:
                letters.append((device.id, code, topic, rej.reason, rej.detail, raw))
                result.rejected[rej.reason] += 1
                result.errors.append((code, rej.reason, rej.detail))
        with request_context(job=f"iot.ingest.{self.channel}"):
            with transaction.atomic():
                result.stored = store.write_readings(rows, validate=False) if rows else 0
                if letters:
                    self._dead_letters(letters)
                if seen:
                    self._mark_seen(seen)
                if self._used and time.monotonic() - self._used_flushed > 60:
                    self._flush_used()
            result.duplicates = len(rows) - result.stored
            self._audit(letters)
        with self._lock:
            self.totals["messages"] += result.messages
            self.totals["stored"] += result.stored
            self.totals["duplicates"] += result.duplicates
            for k, v in result.rejected.items():
                self.totals[f"rejected.{k}"] += v
        return result

    def _dead_letters(self, letters) -> None:
        from zhili.iot.models import DeadLetter

        grouped: dict[tuple, list] = {}
        for device_id, code, topic, reason, detail, raw in letters:
            grouped.setdefault((device_id, code, reason), []).append((topic, detail, raw))
        now = timezone.now()
        since = now - timedelta(seconds=60)
        for (device_id, code, reason), items in grouped.items():
            recent = (
                DeadLetter.objects.filter(device_code=code, reason=reason, received_at__gte=since)
                .order_by("-received_at")
                .values_list("pk", flat=True)
                .first()
            )
            if recent:
                DeadLetter.objects.filter(pk=recent).update(repeat_count=F("repeat_count") + len(items))
                continue
            topic, detail, raw = items[0]
            DeadLetter.objects.create(
                received_at=now,
                channel=self.channel,
                device_id=device_id,
                device_code=code[:64],
                topic=topic[:200],
                reason=reason,
                detail=detail[:300],
                payload=raw[:2000].decode("utf-8", "replace").replace("\x00", ""),
                repeat_count=len(items),
                data_source="device",
            )

    def _flush_used(self) -> None:
        """Record credentials' last use, at most once a minute (not a write per message)."""
        from zhili.iot.models import DeviceCredential

        used, self._used, self._used_flushed = self._used, set(), time.monotonic()
        DeviceCredential.objects.filter(key_id__in=used).update(last_used_at=timezone.now())

    def _mark_seen(self, seen: dict) -> None:
        from zhili.iot.models import Device

        now = timezone.now()
        plain = [d for d, s in seen.items() if not s]
        if plain:
            Device.objects.filter(pk__in=plain).update(last_seen_at=now, status=DeviceStatus.ONLINE)
        for device_id, status in seen.items():
            if status:
                Device.objects.filter(pk=device_id).update(
                    last_seen_at=now, status=DeviceStatus.ONLINE, **status
                )

    def _audit(self, letters) -> None:
        counts = Counter((code, reason) for _, code, _, reason, _, _ in letters if reason in IDENTITY_REASONS)
        for (code, reason), n in counts.items():
            emit(
                "iot.device.rejected",
                success=False,
                details={"device": code, "reason": reason, "count": n, "channel": self.channel},
            )
