"""Server-sent event streams that cannot take every thread of a worker.

A stream holds a server thread for as long as it lasts. ``event_stream`` lets a worker stream
on at most ``zhili.server.long_request_slots()`` threads at once. When every slot is taken, the
answer is a single ``busy`` event; the page's script then polls instead. A slot comes back when
the stream ends, or when the server closes a response whose stream never started (a client
that left at once). Each time a stream hands a chunk to the network, it gives a pooled database
connection back, so sleeping streams never hold connections that other requests need.
"""

import threading

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse

CONTENT_TYPE = "text/event-stream; charset=utf-8"
BUSY = "retry: 10000\nevent: busy\ndata: {}\n\n"

_lock = threading.Lock()
_slots: dict = {}  # limit -> semaphore of this process


def _semaphore():
    """The process's semaphore of stream slots, or None when streams are not limited."""
    from zhili.server import long_request_slots

    limit = long_request_slots()
    if limit is None:
        return None
    with _lock:
        return _slots.setdefault(limit, threading.BoundedSemaphore(limit))


class _StreamResponse(StreamingHttpResponse):
    release = None

    def close(self):
        try:
            super().close()
        finally:
            if self.release is not None:
                self.release()


def event_stream(events) -> HttpResponse:
    """Return ``events`` (an iterator of ready SSE text chunks) as a slot-limited stream."""
    slot = _semaphore()
    if slot is not None and not slot.acquire(blocking=False):
        response = HttpResponse(BUSY, content_type=CONTENT_TYPE)
        response["Cache-Control"] = "no-cache"
        return response
    pooled = bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool"))
    released = []

    def release():
        if slot is not None and not released:
            released.append(True)
            slot.release()

    def relay():
        try:
            for chunk in events:
                if pooled and not connection.in_atomic_block:
                    connection.close()  # back to the pool while the client reads
                yield chunk
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
            release()

    response = _StreamResponse(relay(), content_type=CONTENT_TYPE)
    response.release = release
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
