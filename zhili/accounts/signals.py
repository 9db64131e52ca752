"""Sign-in events go to the audit stream (the security layer adds lockout and the login log)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from zhili.core import audit


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit.emit("auth.login", user=user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.emit("auth.logout", user=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    audit.emit(
        "auth.login_failed", success=False, details={"username": credentials.get("username", "")[:150]}
    )
