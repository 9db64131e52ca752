"""API tokens for systems and the mini-program: ``Authorization: Token <key>`` (Bearer accepted).

Only a SHA-256 digest of the random key is stored (the key has 256 bits of entropy, so a fast
hash is enough; it is not a password). The key is shown once, when the token is created.
The security work extends this module (scopes enforcement, UI, CLI); the contract other apps
rely on is ``create_token`` and ``user_for_token``.
"""

import hashlib
import secrets

from rest_framework import authentication, exceptions

KEY_PREFIX = "zl_"


def digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_token(user, name: str, *, scopes=(), expires_at=None):
    """Create a token for ``user`` and return ``(token, raw_key)``; the raw key is not stored."""
    from zhili.accounts.models import ApiToken

    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw_key[: len(KEY_PREFIX) + 6],
        key_digest=digest(raw_key),
        scopes=list(scopes),
        expires_at=expires_at,
    )
    return token, raw_key


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
    token.touch()
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
        token.touch()
        return token.user, token

    def authenticate_header(self, request):
        return "Token"
