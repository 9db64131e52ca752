"""Sign-in and sign-out go to the audit stream and to the tracked sessions (R-10.3-audit).

Failed attempts are recorded by the sign-in view, which knows why they failed.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from zhili.accounts import sessions
from zhili.core import audit


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    sessions.start(request, user)
    method = getattr(request, "zhili_auth_method", "password") if request is not None else "password"
    audit.emit("auth.login", user=user, details={"method": method})


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if request is not None:
        sessions.end_current(request, getattr(request, "zhili_logout_reason", "logout"))
    if user is not None:
        reason = getattr(request, "zhili_logout_reason", "logout") if request is not None else "logout"
        audit.emit("auth.logout", user=user, details={"reason": reason})
