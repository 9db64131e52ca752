"""Per-request context (request id, user) that machinery deep in the stack can read."""

import contextvars
import uuid
from contextlib import contextmanager

_request_id: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "zhili_request_id", default=None
)
_request_meta: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "zhili_request_meta", default=None
)


def current_request_id() -> uuid.UUID | None:
    """Return the id of the request (or job run) in progress, if any."""
    return _request_id.get()


def current_request_meta() -> dict:
    """Return ip and user agent of the request in progress (empty outside requests)."""
    return _request_meta.get() or {}


@contextmanager
def request_context(request_id: uuid.UUID | None = None, **meta):
    """Run a block as one unit of work: everything it changes shares one request id."""
    token = _request_id.set(request_id or uuid.uuid4())
    meta_token = _request_meta.set(meta)
    try:
        yield _request_id.get()
    finally:
        _request_id.reset(token)
        _request_meta.reset(meta_token)
