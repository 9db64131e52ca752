"""Tracked sessions: idle and absolute timeouts, sign-out everywhere, online users (R-10.3-ident).

A ``UserSession`` row mirrors each signed-in browser session with a SHA-256 digest of the session
key (the key itself is a bearer secret and is not stored twice). Ending the row ends the session
at its next request, whichever worker serves it.
"""

import hashlib
import time
from datetime import timedelta

from django.utils import timezone

from zhili.accounts.conf import auth_setting
from zhili.core import audit
from zhili.core.middleware import client_ip

AUTH_AT = "zhili_auth_at"
SEEN_AT = "zhili_seen_at"
MFA_CHECKED = "zhili_mfa_checked"
TOUCH_SECONDS = 60
# A session's row is read at most this often per worker process: revocation from another worker
# takes effect within this delay, and a busy user's requests cost no query most of the time.
RECHECK_SECONDS = 10
_recently_checked: dict[str, tuple[float, int]] = {}


def key_digest(session_key: str) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def start(request, user) -> None:
    from zhili.accounts.models import UserSession

    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.update_or_create(
        key_digest=key_digest(request.session.session_key),
        defaults={
            "user": user,
            "ip": client_ip(request)[:45],
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "created_at": timezone.now(),
            "last_seen": timezone.now(),
            "ended_at": None,
            "end_reason": "",
        },
    )


def end_current(request, reason: str) -> None:
    from zhili.accounts.models import UserSession

    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        _recently_checked.pop(key_digest(key), None)
        UserSession.objects.filter(key_digest=key_digest(key), ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )


def end_sessions(user, reason: str, *, actor=None, queryset=None, except_request=None) -> int:
    """End sessions of ``user`` (all, or those in ``queryset``); return how many were ended."""
    from zhili.accounts.models import UserSession

    qs = queryset if queryset is not None else UserSession.objects.filter(user=user)
    qs = qs.filter(ended_at__isnull=True)
    if except_request is not None and except_request.session.session_key:
        qs = qs.exclude(key_digest=key_digest(except_request.session.session_key))
    ended = qs.update(ended_at=timezone.now(), end_reason=reason)
    _recently_checked.clear()  # this worker sees the change at once; others within RECHECK_SECONDS
    if ended:
        audit.emit(
            "auth.session_revoked",
            user=actor or user,
            obj=user,
            details={"sessions": ended, "reason": reason, "target": user.username},
        )
    return ended


def active_sessions():
    from zhili.accounts.models import UserSession

    since = timezone.now() - timedelta(minutes=auth_setting("SESSION_IDLE_MINUTES"))
    return UserSession.objects.filter(ended_at__isnull=True, last_seen__gte=since).select_related("user")


def check(request) -> str | None:
    """Check the signed-in session; return why it must end ("idle", "absolute", "revoked") or None."""
    from zhili.accounts.models import UserSession

    session = request.session
    now = time.time()
    auth_at = session.get(AUTH_AT)
    seen_at = session.get(SEEN_AT)
    if auth_at is None or seen_at is None:
        return "revoked"  # a session from before tracking: sign in again
    if now - seen_at > auth_setting("SESSION_IDLE_MINUTES") * 60:
        return "idle"
    if now - auth_at > auth_setting("SESSION_ABSOLUTE_HOURS") * 3600:
        return "absolute"
    digest = key_digest(session.session_key)
    cached = _recently_checked.get(digest)
    if cached is None or now - cached[0] > RECHECK_SECONDS or cached[1] != request.user.pk:
        row = UserSession.objects.filter(key_digest=digest).values_list("ended_at", "user_id").first()
        if row is None or row[0] is not None or row[1] != request.user.pk:
            _recently_checked.pop(digest, None)
            return "revoked"
        if len(_recently_checked) > 10000:
            _recently_checked.clear()
        _recently_checked[digest] = (now, request.user.pk)
    if now - seen_at > TOUCH_SECONDS:
        session[SEEN_AT] = now
        session.pop(MFA_CHECKED, None)  # re-check role 2FA requirements once a minute
        UserSession.objects.filter(key_digest=digest).update(last_seen=timezone.now())
    return None
