"""Authentication of the map services (OGC, GeoJSON) that are not DRF views.

They run the DRF authentication classes from settings, in order, exactly as the REST API does,
so a session cookie and any API token class the deployment configures work the same on both.
"""

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings


class AuthenticationFailed(Exception):
    """Credentials were given but are wrong (bad or expired token)."""


def authenticate(request):
    """Return the user of ``request`` (AnonymousUser when no credentials); raise AuthenticationFailed."""
    drf_request = Request(
        request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    )
    try:
        user = drf_request.user
    except exceptions.APIException as exc:
        raise AuthenticationFailed(str(exc.detail)) from None
    return user if user is not None else AnonymousUser()
