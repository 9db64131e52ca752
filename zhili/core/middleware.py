"""Request id and sign-in enforcement for every page."""

import uuid

from django.conf import settings
from django.contrib.auth.views import redirect_to_login

from zhili.core.context import request_context


def client_ip(request) -> str:
    """Return the client address (the proxy's X-Forwarded-For is trusted only when configured)."""
    if getattr(settings, "ZHILI_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


class RequestIdMiddleware:
    """Give each request an id shared by its change records and audit events (X-Request-ID)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = uuid.uuid4()
        request.id = request_id
        with request_context(
            request_id, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300]
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = str(request_id)
        return response


class LoginRequiredMiddleware:
    """Send anonymous visitors of any page to the sign-in page.

    Views opt out with Django's ``login_not_required``; the API answers 401/403 itself.
    """

    OPEN_PREFIXES = ("/api/", "/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated or not getattr(view_func, "login_required", True):
            return None
        if request.path.startswith(self.OPEN_PREFIXES):
            return None
        return redirect_to_login(request.get_full_path())


class RejectNulBytesMiddleware:
    """Answer 400 to a NUL byte in the path or query string.

    No value of ours can contain one, and PostgreSQL refuses them in text, so a NUL that reached
    a query would end as a server error (R-10.3-input).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in value for values in request.GET.lists() for value in values[1]
        ):
            from django.http import HttpResponseBadRequest
            from django.utils.translation import gettext as _

            return HttpResponseBadRequest(_("The request contains a NUL character."))
        return self.get_response(request)
