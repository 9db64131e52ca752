"""Force a generated or reset password to be changed before anything else (R-10.3-first)."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class PasswordChangeRequiredMiddleware:
    ALLOWED_PREFIXES = ("/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = (reverse("accounts:password_change"), reverse("accounts:logout"))
            if request.path not in allowed and not request.path.startswith(self.ALLOWED_PREFIXES):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": _("Change your password before using the platform.")}, status=403
                    )
                return redirect("accounts:password_change")
        return self.get_response(request)
