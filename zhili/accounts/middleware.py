"""Per-request security gates for signed-in users, and the security headers of every response.

* ``SessionSecurityMiddleware``: idle and absolute timeouts, revoked sessions (R-10.3-ident).
* ``PasswordChangeRequiredMiddleware``: a generated, reset or expired password is changed before
  anything else (R-10.3-first); a user whose role requires two-factor sign-in enrols first (R-10.3-mfa).
* ``ContentSecurityPolicyMiddleware``: a strict CSP without inline scripts (R-10.3-input).
"""

import functools

from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from zhili.accounts import sessions
from zhili.accounts.policy import password_expired

TIMEOUT_MESSAGES = {
    "idle": gettext_noop("Your session ended after a period of inactivity. Please sign in again."),
    "absolute": gettext_noop("Your session reached its maximum length. Please sign in again."),
    "revoked": gettext_noop("Your session was signed out. Please sign in again."),
}


class SessionSecurityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            reason = sessions.check(request)
            if reason:
                request.zhili_logout_reason = reason
                logout(request)
                messages.warning(request, _(TIMEOUT_MESSAGES[reason]))
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    ALLOWED_PREFIXES = ("/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.ALLOWED_PREFIXES):
            response = self.gate(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    @staticmethod
    @functools.cache
    def paths(*names):
        return frozenset(reverse(f"accounts:{name}") for name in names)

    def gate(self, request, user):
        allowed = self.paths("password_change", "logout")
        if getattr(user, "must_change_password", False) or password_expired(user):
            if request.path not in allowed:
                return self.refuse(
                    request, _("Change your password before using the platform."), "accounts:password_change"
                )
            return None
        session = getattr(request, "session", None)
        if session is None or session.get(sessions.MFA_CHECKED):
            return None
        if user.requires_second_factor and not user.has_second_factor:
            allowed |= self.paths("twofactor", "totp_setup", "webauthn_register_begin", "webauthn_register")
            if request.path not in allowed:
                return self.refuse(
                    request,
                    _("Your role requires two-factor sign-in: set it up first."),
                    "accounts:twofactor",
                )
            return None
        session[sessions.MFA_CHECKED] = True
        return None

    @staticmethod
    def refuse(request, text, url_name):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": text}, status=403)
        return redirect(url_name)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """No inline script, no eval, nothing from another origin; inline styles tolerated (Leaflet, ECharts)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()"
        )
        return response
