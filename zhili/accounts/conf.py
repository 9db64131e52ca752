"""Authentication settings with the standard's values as defaults (override in ``settings.ZHILI_AUTH``).

Every value is documented in docs/notes/issue-3-authentication.md and README "Configuration".
"""

from django.conf import settings

DEFAULTS = {
    # Password policy profile: "mlps" (等保 assessors: ≥ 8 chars, 3 of 4 classes, 90-day expiry)
    # or "asvs" (OWASP ASVS 5 / NIST 800-63B: ≥ 12 chars, no composition rules, no rotation).
    "PASSWORD_PROFILE": "mlps",
    "PASSWORD_HISTORY": 5,
    # Lockout: this many consecutive failures lock the account for LOCKOUT_MINUTES.
    "LOCKOUT_FAILURES": 5,
    "LOCKOUT_MINUTES": 15,
    # Per-IP throttle: this many failures from one address within IP_WINDOW_MINUTES refuse further tries.
    "IP_MAX_FAILURES": 20,
    "IP_WINDOW_MINUTES": 15,
    # The image captcha appears after this many failures of an account (or in one browser
    # session), or after CAPTCHA_AFTER_IP_FAILURES failures from one address within IP_WINDOW_MINUTES.
    "CAPTCHA_AFTER_FAILURES": 2,
    "CAPTCHA_AFTER_IP_FAILURES": 3,
    # Sessions: sign out after this many idle minutes, and in any case after ABSOLUTE_HOURS.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    # A half-finished sign-in (password correct, second factor pending) is forgotten after this.
    "PARTIAL_AUTH_MINUTES": 5,
    # WebAuthn relying party; the id defaults to the request's host name.
    "WEBAUTHN_RP_ID": "",
    "WEBAUTHN_RP_NAME": "Zhili 智理",
    # Optional client-certificate sign-in (R-10.3-ca): a TLS-terminating proxy that verified the
    # certificate passes its subject in this header; off unless a header name is set.
    "CLIENT_CERT_HEADER": "",
    "CLIENT_CERT_VERIFY_HEADER": "",
    # Self-registration page (accounts wait for review).
    "SELF_REGISTRATION": True,
}

PROFILES = {
    "mlps": {"min_length": 8, "min_classes": 3, "max_age_days": 90},
    "asvs": {"min_length": 12, "min_classes": 0, "max_age_days": 0},
}


def auth_setting(name: str):
    return getattr(settings, "ZHILI_AUTH", {}).get(name, DEFAULTS[name])


def password_profile() -> dict:
    name = auth_setting("PASSWORD_PROFILE")
    return {"name": name, **PROFILES.get(name, PROFILES["mlps"])}
