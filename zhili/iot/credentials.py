"""Device credentials (R-10.3-iot): issue, verify, rotate, revoke; Mosquitto password lines.

A token is ``<key_id>.<secret>``; only SHA-256 of the secret is stored. The HMAC key signs
payloads (``sig`` = hex HMAC-SHA256 of the canonical JSON of the payload without ``sig``) and is
kept encrypted with a key derived from the server secret, since verifying needs the key itself.
"""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhili.core.audit import emit


@dataclass
class IssuedCredential:
    """What the administrator sees once: the token, MQTT username/password and HMAC key."""

    credential: object
    token: str
    hmac_key: str


def _fernet() -> Fernet:
    digest = hashlib.sha256(("zhili.iot.hmac:" + settings.SECRET_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_key(key: str) -> str:
    return _fernet().encrypt(key.encode()).decode()


def decrypt_key(blob: str) -> str | None:
    if not blob:
        return None
    try:
        return _fernet().decrypt(blob.encode()).decode()
    except InvalidToken:
        return None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def mosquitto_hash(password: str, iterations: int = 101) -> str:
    """Return ``password`` in Mosquitto 2's password-file format (``$7$`` PBKDF2-SHA512)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def canonical_json(payload: dict) -> bytes:
    body = {k: v for k, v in payload.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_payload(payload: dict, hmac_key: str) -> dict:
    """Return ``payload`` with its ``sig`` (used by devices, the simulator and tests)."""
    signed = dict(payload)
    signed["sig"] = hmac.new(hmac_key.encode(), canonical_json(payload), hashlib.sha256).hexdigest()
    return signed


def verify_signature(payload: dict, hmac_key: str) -> bool:
    sig = payload.get("sig")
    if not isinstance(sig, str):
        return False
    expected = hmac.new(hmac_key.encode(), canonical_json(payload), hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, expected)


def issue_credential(device, *, user=None, kind: str = "token", expires_at=None) -> IssuedCredential:
    """Create a new credential for ``device`` and return its secrets (shown once)."""
    from zhili.iot.models import DeviceCredential

    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    hmac_key = secrets.token_urlsafe(32)
    with transaction.atomic():
        cred = DeviceCredential.objects.create(
            device=device,
            kind=kind,
            username=key_id,
            key_id=key_id,
            secret_hash=hash_secret(secret),
            broker_hash=mosquitto_hash(f"{key_id}.{secret}"),
            hmac_key=encrypt_key(hmac_key),
            expires_at=expires_at,
            created_by=user if user is not None and user.is_authenticated else None,
            owner_unit=device.owner_unit,
            data_source=device.data_source if device.data_source == "demo" else "manual",
        )
    emit("iot.credential.issue", user=user, obj=cred, details={"device": device.code, "key_id": key_id})
    return IssuedCredential(cred, f"{key_id}.{secret}", hmac_key)


def rotate_credentials(device, *, user=None, grace_hours: float = 24) -> IssuedCredential:
    """Issue a new credential and let the device's older ones expire after ``grace_hours``."""
    until = timezone.now() + timedelta(hours=grace_hours)
    issued = issue_credential(device, user=user)
    for old in device.credentials.exclude(pk=issued.credential.pk).filter(
        active=True, revoked_at__isnull=True
    ):
        if old.expires_at is None or old.expires_at > until:
            old.expires_at = until
            old.save(update_fields=["expires_at", "updated_at"])
    emit("iot.credential.rotate", user=user, obj=device, details={"grace_hours": grace_hours})
    return issued


def revoke_credential(cred, *, user=None) -> None:
    cred.active = False
    cred.revoked_at = timezone.now()
    cred.updated_by = user if user is not None and user.is_authenticated else None
    cred.save(update_fields=["active", "revoked_at", "updated_by", "updated_at"])
    emit(
        "iot.credential.revoke",
        user=user,
        obj=cred,
        details={"device": cred.device.code, "key_id": cred.key_id},
    )


def mosquitto_files(
    devices, topic_prefix: str = "zhili", ingest_user: str = "zhili-ingest"
) -> tuple[str, str]:
    """Return (password file, ACL file) texts for Mosquitto: each device may write only
    ``{prefix}/{code}/telemetry``; the ingest user reads all telemetry (see docs/iot.md)."""
    from zhili.iot.models import DeviceCredential

    now = timezone.now()
    lines, acl = [], [f"user {ingest_user}", f"topic read {topic_prefix}/+/telemetry", ""]
    creds = DeviceCredential.objects.filter(
        device__in=devices, active=True, revoked_at__isnull=True
    ).select_related("device")
    for cred in creds:
        if cred.is_valid_now(now) and cred.broker_hash:
            lines.append(f"{cred.key_id}:{cred.broker_hash}")
            acl += [f"user {cred.key_id}", f"topic write {topic_prefix}/{cred.device.code}/telemetry", ""]
    return "\n".join(lines) + "\n", "\n".join(acl)
