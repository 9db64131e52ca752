"""Authentication backends: Django's, with the per-request user lookup made cheap.

Every request of a signed-in user loads the user row (``get_user``). ``ModelBackend`` does it
with ``objects.get(pk=…)``, which compiles a query each time; ``fetch_by_pk`` runs one prepared
statement and returns the same instance. Nothing is cached: a disabled or deleted user is
refused at their next request, as before.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from zhili.core.fetch import fetch_by_pk


class FastUserLookupMixin:
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = fetch_by_pk(user_model, user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class AccountBackend(FastUserLookupMixin, ModelBackend):
    """Signs users in with username and password (the sign-in views add lockout, captcha, 2FA)."""
