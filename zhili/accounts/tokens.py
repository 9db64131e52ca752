"""API tokens for systems and the mini-program: ``Authorization: Token <key>`` (Bearer accepted).

Only a SHA-256 digest of the random key is stored (the key has 256 bits of entropy, so a fast
hash is enough; it is not a password). The key is shown once, when the token is created.
The contract other apps rely on is ``create_token`` and ``user_for_token``.

Scopes (R-10.3-ident) keep a token to what its system needs:

* ``read`` — GET/HEAD/OPTIONS on the whole API; ``write`` — every method (implies ``read``);
* ``<app>:read`` / ``<app>:write`` — the same, limited to ``/api/<app>/…`` (e.g. ``people:read``).

The user's own permissions and data scope still apply on top: a scope never grants more.
"""

import hashlib
import secrets

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from zhili.core import audit

KEY_PREFIX = "zl_"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEFAULT_SCOPES = ("read",)


def api_apps() -> list[str]:
    """App segments of the API (``/api/<app>/…``) that per-app scopes can name."""
    from zhili.core.registry import registry

    return sorted({entry.app_label for entry in registry})


def SCOPE_CHOICES() -> list[tuple[str, str]]:  # noqa: N802 - used like a constant
    choices = [("read", _("Read everything you may see")), ("write", _("Read and change"))]
    from django.apps import apps

    for app in api_apps():
        label = apps.get_app_config(app).verbose_name
        choices += [(f"{app}:read", f"{label}: {_('read')}"), (f"{app}:write", f"{label}: {_('write')}")]
    return choices


def valid_scope(scope: str) -> bool:
    if scope in ("read", "write"):
        return True
    app, _sep, level = scope.partition(":")
    return level in ("read", "write") and app in api_apps()


def scope_allows(scopes, method: str, path: str) -> bool:
    """True if a token with ``scopes`` may send ``method`` to ``path``."""
    scopes = set(scopes or ())
    levels = ("read", "write") if method.upper() in SAFE_METHODS else ("write",)
    if any(level in scopes for level in levels):
        return True
    parts = path.split("/")
    app = parts[2] if len(parts) > 2 and parts[1] == "api" else ""
    return bool(app) and any(f"{app}:{level}" in scopes for level in levels)


def digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_token(user, name: str, *, scopes=DEFAULT_SCOPES, expires_at=None, actor=None):
    """Create a token for ``user`` and return ``(token, raw_key)``; the raw key is not stored."""
    from zhili.accounts.models import ApiToken

    bad = [s for s in scopes if not valid_scope(s)]
    if bad:
        raise ValueError(f"unknown scopes: {', '.join(bad)}")
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw_key[: len(KEY_PREFIX) + 6],
        key_digest=digest(raw_key),
        scopes=list(scopes),
        expires_at=expires_at,
    )
    audit.emit(
        "auth.token_created",
        user=actor or user,
        obj=token,
        details={
            "owner": user.username,
            "name": name,
            "scopes": list(scopes),
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, raw_key


def revoke_token(token, *, actor=None) -> None:
    token.revoke()
    audit.emit(
        "auth.token_revoked",
        user=actor or token.user,
        obj=token,
        details={"owner": token.user.username, "name": token.name},
    )


def record_use(token) -> None:
    """Note the token's last use and audit it, at most once a minute per token."""
    if token.touch():
        audit.emit("auth.token_used", user=token.user, obj=token, details={"name": token.name})


def token_for_key(raw_key: str):
    """The valid (not revoked, not expired, active user) token with this key, or None."""
    from zhili.accounts.models import ApiToken

    if not raw_key or not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_digest=digest(raw_key)).first()
    if token is None or not token.is_valid or not token.user.is_active:
        return None
    return token


def user_for_token(raw_key: str):
    """The user a valid key belongs to (recording the token's last use), or None."""
    token = token_for_key(raw_key)
    if token is None:
        return None
    record_use(token)
    return token.user


class TokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication by API token; ``request.auth`` is the ApiToken."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        token = token_for_key(header[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if not scope_allows(token.scopes, request.method, request.path):
            raise exceptions.PermissionDenied("The token's scopes do not allow this request.")
        record_use(token)
        return token.user, token

    def authenticate_header(self, request):
        return "Token"
