"""Second factors (R-10.3-mfa): TOTP (RFC 6238) with one-time recovery codes, and WebAuthn security keys.

TOTP codes are accepted within one 30-second step either side (clock drift) and never twice: the
last accepted step is stored and only a later one is accepted. Recovery codes are stored as keyed
digests and burn on use. WebAuthn verification is done by the ``webauthn`` package (Duo Labs).
"""

import base64
import hashlib
import hmac
import json
import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from zhili.accounts.conf import auth_setting

TOTP_STEP = 30
RECOVERY_CODES = 10
ISSUER = "Zhili"


# --- TOTP -------------------------------------------------------------------------------------------


def new_totp_device(user):
    from zhili.accounts.models import TotpDevice

    device, _created = TotpDevice.objects.update_or_create(
        user=user,
        defaults={"secret": pyotp.random_base32(32), "confirmed": False, "last_used_step": 0},
    )
    return device


def provisioning_uri(device) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(name=device.user.username, issuer_name=ISSUER)


def qr_svg(data: str) -> str:
    """The QR code as an inline SVG document, drawn on the server (no script, no external service)."""
    return segno.make(data, error="m").svg_inline(scale=4, border=2)


def verify_totp(device, code: str, *, at: float | None = None) -> bool:
    """Accept a current code once; refuse reused or older codes (replay)."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return False
    now = time.time() if at is None else at
    totp = pyotp.TOTP(device.secret)
    current = int(now // TOTP_STEP)
    for step in (current - 1, current, current + 1):
        if step <= device.last_used_step:
            continue
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            # Compare-and-set: two concurrent requests with the same code cannot both pass.
            updated = (
                type(device).objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step)
            )
            if updated:
                device.last_used_step = step
                return True
            return False
    return False


# --- Recovery codes ----------------------------------------------------------------------------------


def _code_digest(code: str) -> str:
    normalised = code.strip().replace("-", "").replace(" ", "").lower()
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes; return the new ones (shown once)."""
    from zhili.accounts.models import RecoveryCode

    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = [
        "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create([RecoveryCode(user=user, digest=_code_digest(c)) for c in codes])
    return codes


def use_recovery_code(user, code: str) -> bool:
    from zhili.accounts.models import RecoveryCode

    if not code or len(code) > 40:
        return False
    return bool(
        RecoveryCode.objects.filter(user=user, digest=_code_digest(code), used_at__isnull=True).update(
            used_at=timezone.now()
        )
    )


def remaining_recovery_codes(user) -> int:
    return user.recovery_codes.filter(used_at__isnull=True).count()


# --- WebAuthn ------------------------------------------------------------------------------------------


def rp_id(request) -> str:
    return auth_setting("WEBAUTHN_RP_ID") or request.get_host().rsplit(":", 1)[0].strip("[]")


def origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _user_handle(user) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"webauthn:{user.pk}".encode(), hashlib.sha256).digest()


def registration_options(request, user) -> str:
    options = generate_registration_options(
        rp_id=rp_id(request),
        rp_name=auth_setting("WEBAUTHN_RP_NAME"),
        user_id=_user_handle(user),
        user_name=user.username,
        user_display_name=str(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.DISCOURAGED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c.credential_id))
            for c in user.webauthn_credentials.all()
        ],
    )
    request.session["zhili_webauthn_reg"] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def register_credential(request, user, credential: dict | str, name: str):
    """Verify an attestation and store the key; raises ``webauthn`` errors or ValueError."""
    from zhili.accounts.models import WebAuthnCredential

    challenge = request.session.pop("zhili_webauthn_reg", None)
    if not challenge:
        raise ValueError("no registration in progress")
    verified = verify_registration_response(
        credential=credential,
        expected_challenge=base64url_to_bytes(challenge),
        expected_rp_id=rp_id(request),
        expected_origin=origin(request),
    )
    return WebAuthnCredential.objects.create(
        user=user,
        name=(name or "Security key")[:100],
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=base64.b64encode(verified.credential_public_key).decode(),
        sign_count=verified.sign_count,
    )


def authentication_options(request, user) -> str:
    options = generate_authentication_options(
        rp_id=rp_id(request),
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c.credential_id))
            for c in user.webauthn_credentials.all()
        ],
        user_verification=UserVerificationRequirement.DISCOURAGED,
    )
    request.session["zhili_webauthn_auth"] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def authenticate_credential(request, user, credential: dict | str):
    """Verify an assertion by one of ``user``'s keys; returns the key or raises."""
    challenge = request.session.pop("zhili_webauthn_auth", None)
    if not challenge:
        raise ValueError("no authentication in progress")
    data = json.loads(credential) if isinstance(credential, str) else credential
    stored = user.webauthn_credentials.filter(credential_id=str(data.get("id", ""))).first()
    if stored is None:
        raise ValueError("unknown credential")
    verified = verify_authentication_response(
        credential=data,
        expected_challenge=base64url_to_bytes(challenge),
        expected_rp_id=rp_id(request),
        expected_origin=origin(request),
        credential_public_key=base64.b64decode(stored.public_key),
        credential_current_sign_count=stored.sign_count,
    )
    stored.sign_count = verified.new_sign_count
    stored.last_used_at = timezone.now()
    stored.save(update_fields=["sign_count", "last_used_at"])
    return stored
