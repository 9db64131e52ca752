"""Which layers a service request may read, and as whom."""

from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.geo.auth import AuthenticationFailed, authenticate
from zhili.geo.layers import layers
from zhili.geo.ogc.common import OGCError


def request_user(request):
    try:
        return authenticate(request)
    except AuthenticationFailed as exc:
        raise OGCError("NoApplicableCode", str(exc), status=401) from None


def resolve_layer(name: str, user, not_defined_code: str = "LayerNotDefined", locator: str = "layers"):
    """Return ``(layer, public)`` for a layer the user may read; raise OGCError otherwise.

    A layer the user may not read is reported as not defined to signed-in users (its existence is
    not disclosed) and as 401 to anonymous clients, who may retry with credentials.
    """
    name = name.strip()
    if name.startswith("zhili:"):
        name = name[len("zhili:") :]
    layer = layers.get(name)
    if layer is None:
        raise OGCError(not_defined_code, _("No layer named %(name)s.") % {"name": name}, locator)
    settings = layer.settings()
    public = layer.is_public(settings)
    if layer.source.can_read(user) or public:
        return layer, public
    if not getattr(user, "is_authenticated", False):
        raise OGCError(
            "NoApplicableCode", _("Sign in or send an API token to read this layer."), locator, status=401
        )
    audit.emit("geo.layer_denied", user=user, success=False, details={"layer": name})
    raise OGCError(not_defined_code, _("No layer named %(name)s.") % {"name": name}, locator, status=403)
