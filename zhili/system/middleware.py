"""Lets code deep in the stack (signals, the audit sink) find the request's user."""

from zhili.core.context import current_request_meta


class RequestActorMiddleware:
    """Put the request into the per-request meta dict set by ``RequestIdMiddleware``.

    The user is read lazily (``meta["request"].user``), so DRF token users are seen too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = current_request_meta()
        if meta is not None:
            meta["request"] = request
        return self.get_response(request)
